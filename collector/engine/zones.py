"""Per-zone tracking: the sensors, PIR groups, door and desks of one zone, and its evaluation."""

from __future__ import annotations

from collector.engine.learning import FIRST, HANDOFF, GapModel
from collector.engine.logic import (
    FREE,
    INF,
    OCCUPIED,
    P_FLOOR,
    UNKNOWN,
    PirGroup,
    Result,
    Room,
    SensorTrack,
    eval_pirs,
    eval_room,
    p_pirs,
    p_room,
)
from collector.engine.profiles import Params
from collector.model import OccupancyState
from hubsense.config import Zone, ZoneKind
from hubsense.protocol import Signal, kind_spec


class DeskTrack:
    __slots__ = ("group", "id", "logic", "name", "reason", "since", "state")

    def __init__(self, desk_id: str, name: str, group: PirGroup) -> None:
        self.id = desk_id
        self.name = name
        self.group = group
        self.state = UNKNOWN
        self.reason = "no_data"
        self.since: float | None = None
        self.logic: Result | None = None  # cached sensor-logic result, valid until its deadline


class ZoneTrack:
    """Everything the engine holds for one zone."""

    __slots__ = (
        "agents", "clock", "config", "counts", "deadline", "desk_due", "desks", "group", "id", "mask", "model",
        "params", "reason", "room", "sensors", "since", "state",
    )

    def __init__(self, zone: Zone, params: Params, sensors: list[SensorTrack]) -> None:
        self.config = zone
        self.id = zone.id
        self.params = params
        self.sensors = sensors
        self.agents: list[str] = sorted({s.agent for s in sensors})
        pirs = [s for s in sensors if kind_spec(s.kind).signal is Signal.MOTION]
        # one model per zone: its desks learn together (they are used alike)
        self.model = GapModel(params.vacancy_timeout_s, params.vacancy_timeout_min_s,
                              params.vacancy_timeout_max_s) if params.learn_hold else None
        fixed = params.vacancy_timeout_s
        self.group = PirGroup([s for s in pirs if s.desk is None], self.model, fixed)
        doors = [s for s in sensors if kind_spec(s.kind).signal is Signal.DOOR]
        self.room = Room(doors) if zone.kind is ZoneKind.ROOM and doors else None
        self.desks = {
            d.id: DeskTrack(d.id, d.name, PirGroup([s for s in pirs if s.desk == d.id], self.model, fixed))
            for d in zone.desks
        }
        self.state = UNKNOWN
        self.reason = "no_data"
        self.since: float | None = None
        self.deadline = INF
        self.clock = -INF  # latest time this zone was evaluated at
        self.desk_due = -INF  # no cached desk result changes before this (early is harmless)
        # desks with sensors by cached state (None = not evaluated yet)
        self.counts: dict[OccupancyState | None, int] = {None: sum(1 for d in self.desks.values() if d.group.pirs)}
        self.mask: str | None = "no_data"  # liveness reason for unknown (kept by the engine), None = alive

    def group_of(self, s: SensorTrack) -> PirGroup:
        return self.desks[s.desk].group if s.desk is not None else self.group

    def evaluate(
        self, now: float, touched: str | None = None
    ) -> tuple[Result, list[tuple[DeskTrack, OccupancyState, str]]]:
        """The zone (and each desk) at ``now`` from sensor logic alone, with the next deadline.
        ``touched`` names the only desk whose sensors changed since the last evaluation."""
        if not self.desks:
            if not self.group.pirs:
                return (UNKNOWN, "no_sensors", INF, None), []
            if self.room is not None:
                return eval_room(self.group, self.room, self.params, now), []
            return eval_pirs(self.group, self.params, now), []
        return self._evaluate_desks(now, touched)

    def _evaluate_desks(
        self, now: float, touched: str | None
    ) -> tuple[Result, list[tuple[DeskTrack, OccupancyState, str]]]:
        """Desk results are cached until their deadline; with only ``touched`` changed and no
        deadline due, only that desk is re-evaluated (the event hot path)."""
        if touched is not None and now < self.desk_due:
            desk = self.desks[touched]
            self._set_logic(desk, eval_pirs(desk.group, self.params, now))
            self.desk_due = min(self.desk_due, desk.logic[2])
            changed = [(desk, desk.logic[0], desk.logic[1])]
        else:
            due = INF
            changed = []
            for desk in self.desks.values():
                logic = desk.logic
                if logic is None or logic[2] <= now or desk.id == touched:
                    logic = self._set_logic(
                        desk, eval_pirs(desk.group, self.params, now) if desk.group.pirs
                        else (UNKNOWN, "no_sensors", INF, None))
                due = min(due, logic[2])
                changed.append((desk, logic[0], logic[1]))
            self.desk_due = due
        deadline = self.desk_due
        zone_state = None
        if self.group.pirs:
            zone_state, _, d, _ = eval_pirs(self.group, self.params, now)
            deadline = min(deadline, d)
        return (*self._aggregate(zone_state), deadline, None), changed

    def _set_logic(self, desk: DeskTrack, logic: Result) -> Result:
        """Cache a desk's result and keep the occupied / unknown desk counts."""
        if desk.group.pirs:
            old = desk.logic[0] if desk.logic is not None else None
            self.counts[old] = self.counts.get(old, 0) - 1
            self.counts[logic[0]] = self.counts.get(logic[0], 0) + 1
        desk.logic = logic
        return logic

    def _aggregate(self, zone_state: OccupancyState | None) -> tuple[OccupancyState, str]:
        """A desk area is occupied when any desk is, free when all are, else unknown."""
        counts = self.counts
        if counts.get(OCCUPIED, 0) > 0 or zone_state is OCCUPIED:
            return OCCUPIED, "desk_occupied"
        if counts.get(UNKNOWN, 0) > 0 or counts.get(None, 0) > 0 or zone_state is UNKNOWN:
            for desk in self.desks.values():
                if desk.group.pirs and desk.logic is not None and desk.logic[0] is UNKNOWN:
                    return UNKNOWN, desk.logic[1]
            return UNKNOWN, "sensor_stuck" if zone_state is UNKNOWN else "no_data"
        if not any(d.group.pirs for d in self.desks.values()) and zone_state is None:
            return UNKNOWN, "no_sensors"
        return FREE, "all_desks_free"

    def p_occupied(self, now: float, state: OccupancyState, reason: str) -> float | None:
        """Probability that someone is in the zone at ``now`` (None while unknown)."""
        if state is UNKNOWN:
            return None
        if self.desks:
            # as the state: someone is in the area as surely as at its most surely used desk (the
            # desks' errors are not independent, so combining them as if they were overstates it)
            ps = [p_pirs(d.group, self.params, now) for d in self.desks.values() if d.group.pirs]
            if self.group.pirs:
                ps.append(p_pirs(self.group, self.params, now))
            return max(ps, default=P_FLOOR)
        if self.room is not None:
            return p_room(self.group, self.room, self.params, now, state, reason)
        return p_pirs(self.group, self.params, now)

    def desk_p(self, desk: DeskTrack, now: float) -> float | None:
        return None if desk.state is UNKNOWN else p_pirs(desk.group, self.params, now)

    # -- what the zone has learned ------------------------------------------------------------

    def learned(self) -> dict:
        """Everything this zone learned, JSON-able (for :meth:`restore` after a restart)."""
        out: dict = {"gaps": self.model.snapshot() if self.model is not None else None}
        if self.room is not None:
            out["room"] = self.room.snapshot()
        return out

    def restore(self, data: dict) -> None:
        if self.model is not None and data.get("gaps"):
            self.model.restore(data["gaps"])
        if self.room is not None and data.get("room"):
            self.room.restore(data["room"])

    def parameters(self) -> dict:
        """The zone's effective parameters, each with where it comes from."""
        p, model = self.params, self.model

        def source(name: str, learned: bool) -> str:
            return "configured" if name in p.pinned else "learned" if learned else "default"

        def hold(ctx: int) -> float:
            return round(model.hold(ctx) if model is not None else p.vacancy_timeout_s, 1)

        learning = model is not None and model.n > 0
        out = {
            "vacancy_timeout_s": {"value": hold(0), "source": source("vacancy_timeout_s", learning)},
            "vacancy_timeout_after_passer_by_s": {"value": hold(FIRST), "source": source("vacancy_timeout_s",
                                                                                          learning)},
            "vacancy_timeout_after_moving_on_s": {"value": hold(HANDOFF), "source": source("vacancy_timeout_s",
                                                                                           learning)},
            "door_exit_window_s": {"value": p.door_exit_window_s, "source": source("door_exit_window_s", False)},
            "max_occupied_s": {"value": p.max_occupied_s, "source": source("max_occupied_s", False)},
            "stuck_after_s": {"value": p.stuck_after_s, "source": source("stuck_after_s", False)},
            "learning": p.learn,
            "gaps_seen": model.n if model is not None else 0,
            "visit_boundary_s": round(model.boundary(), 1) if model is not None else None,
        }
        if self.room is not None:
            cap = self.room.cap(p)
            out["max_occupied_s"] = {"value": round(cap, 1), "source": source(
                "max_occupied_s", p.learn_stillness and cap > p.max_occupied_s)}
            out["p_empty_after_silent_door_cycle"] = round(self.room.silent_from_occupied.p, 3)
            out["p_inside_after_silent_arrival"] = round(self.room.silent_from_free.p, 3)
        return out
