"""Per-zone tracking: the sensors, PIR groups, door and desks of one zone, and its evaluation."""

from __future__ import annotations

from collector.engine.logic import (
    FREE,
    INF,
    OCCUPIED,
    UNKNOWN,
    PirGroup,
    Result,
    Room,
    SensorTrack,
    eval_pirs,
    eval_room,
)
from collector.engine.profiles import Params
from collector.model import OccupancyState
from hubsense.config import Zone, ZoneKind
from hubsense.protocol import SensorKind


class DeskTrack:
    __slots__ = ("group", "id", "logic", "name", "reason", "since", "state")

    def __init__(self, desk_id: str, name: str, pirs: list[SensorTrack]) -> None:
        self.id = desk_id
        self.name = name
        self.group = PirGroup(pirs)
        self.state = UNKNOWN
        self.reason = "no_data"
        self.since: float | None = None
        self.logic: Result | None = None  # cached sensor-logic result, valid until its deadline


class ZoneTrack:
    """Everything the engine holds for one zone."""

    __slots__ = (
        "agents", "clock", "config", "deadline", "desks", "group", "id", "params", "reason", "room",
        "sensors", "since", "state",
    )

    def __init__(self, zone: Zone, params: Params, sensors: list[SensorTrack]) -> None:
        self.config = zone
        self.id = zone.id
        self.params = params
        self.sensors = sensors
        self.agents: list[str] = sorted({s.agent for s in sensors})
        pirs = [s for s in sensors if s.kind is SensorKind.PIR]
        self.group = PirGroup([s for s in pirs if s.desk is None])
        doors = [s for s in sensors if s.kind is SensorKind.DOOR]
        self.room = Room(doors) if zone.kind is ZoneKind.ROOM and doors else None
        self.desks = {
            d.id: DeskTrack(d.id, d.name, [s for s in pirs if s.desk == d.id]) for d in zone.desks
        }
        self.state = UNKNOWN
        self.reason = "no_data"
        self.since: float | None = None
        self.deadline = INF
        self.clock = -INF  # latest time this zone was evaluated at

    def group_of(self, s: SensorTrack) -> PirGroup:
        return self.desks[s.desk].group if s.desk is not None else self.group

    def evaluate(
        self, now: float, touched: str | None = None
    ) -> tuple[Result, list[tuple[DeskTrack, OccupancyState, str]]]:
        """The zone (and each desk) at ``now`` from sensor logic alone, with the next deadline.
        ``touched`` names the only desk whose sensors changed since the last evaluation."""
        if not self.desks:
            if not self.group.pirs:
                return (UNKNOWN, "no_sensors", INF), []
            if self.room is not None:
                return eval_room(self.group, self.room, self.params, now), []
            return eval_pirs(self.group, self.params, now), []
        return self._evaluate_desks(now, touched)

    def _evaluate_desks(
        self, now: float, touched: str | None
    ) -> tuple[Result, list[tuple[DeskTrack, OccupancyState, str]]]:
        desks = []
        states = []
        deadline = INF
        for desk in self.desks.values():
            logic = desk.logic
            if logic is None or logic[2] <= now or desk.id == touched:
                logic = desk.logic = (
                    eval_pirs(desk.group, self.params, now) if desk.group.pirs else (UNKNOWN, "no_sensors", INF)
                )
            state, reason, d = logic
            if d < deadline:
                deadline = d
            if desk.group.pirs:  # a desk without a sensor cannot make the whole area unknown
                states.append((state, reason))
            desks.append((desk, state, reason))
        if self.group.pirs:
            state, reason, d = eval_pirs(self.group, self.params, now)
            deadline = min(deadline, d)
            states.append((state, reason))
        state, reason = _aggregate(states)
        return (state, reason, deadline), desks


def _aggregate(states: list[tuple[OccupancyState, str]]) -> tuple[OccupancyState, str]:
    """A desk area is occupied when any desk is, free when all are, else unknown."""
    for state, _ in states:
        if state is OCCUPIED:
            return OCCUPIED, "desk_occupied"
    for state, reason in states:
        if state is UNKNOWN:
            return UNKNOWN, reason
    if not states:
        return UNKNOWN, "no_sensors"
    return FREE, "all_desks_free"
