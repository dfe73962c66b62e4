"""Read-only views of an engine: zone views for the API and per-agent health."""

from __future__ import annotations

from typing import TYPE_CHECKING

from collector.engine.clock import MAX_SKEW_S, to_dt
from collector.engine.hours import opening_seconds
from collector.engine.logic import UNKNOWN, SensorTrack
from collector.engine.zones import ZoneTrack
from collector.model import DeskView, ZoneView
from hubsense.protocol import SensorState

if TYPE_CHECKING:
    from collector.engine.engine import Engine


def _dt(t: float | None):
    return None if t is None else to_dt(t)


def zone_views(engine: Engine, now: float) -> list[ZoneView]:
    return [zone_view(engine, zone, now) for zone in engine.zones.values()]


def _live_mask(engine: Engine, zone: ZoneTrack, now: float) -> tuple[str, float | None] | None:
    """Liveness reason judged at ``now`` (even before advance() ran), with when it began."""
    factor = engine.stale_factor
    for agent_id in zone.agents:
        agent = engine.agents[agent_id]
        reason = agent.reason_at(now, factor)
        if reason == "stale" and not agent.stale:
            return reason, agent.deadline(factor)
        if reason is not None:
            return reason, zone.since
    return None


def zone_view(engine: Engine, zone: ZoneTrack, now: float) -> ZoneView:
    state, reason, since = zone.state, zone.reason, zone.since
    mask = _live_mask(engine, zone, now) if zone.agents else None
    if mask is not None and state is not UNKNOWN:
        state, reason, since = UNKNOWN, mask[0], mask[1]
    desks = [
        DeskView(d.id, d.name, UNKNOWN, _dt(since)) if mask is not None and d.state is not UNKNOWN
        else DeskView(d.id, d.name, d.state, _dt(d.since), _round(zone.desk_p(d, now)))
        for d in zone.desks.values()
    ]
    seen = [engine.agents[a].last_seen for a in zone.agents]
    last_confirmed = min(seen) if seen and None not in seen else None  # type: ignore[type-var]
    return ZoneView(
        hub=engine.hub.id,
        zone=zone.id,
        state=state,
        since=_dt(since),
        last_confirmed=_dt(last_confirmed),
        reason=reason,
        desks=desks,
        stuck_sensors=stuck_sensors(engine, zone, now),
        p_occupied=_round(zone.p_occupied(now, state, reason)),
    )


def _round(p: float | None) -> float | None:
    return None if p is None else round(p, 3)


def stuck_sensors(engine: Engine, zone: ZoneTrack, now: float) -> list[str]:
    """Sensors not to be trusted: a PIR in motion beyond max_occupied_s, or any sensor that has
    not changed for stuck_after_s of *opening hours* (nights and weekends do not count)."""
    p = zone.params
    out = []
    for s in zone.sensors:
        if s.high_since is not None and now >= s.high_since + p.max_occupied_s:
            out.append(s.id)
            continue
        since = s.changed_at if s.changed_at is not None else engine.agents[s.agent].first_seen
        if since is not None and _unchanged_open_s(engine, s, since, now) >= p.stuck_after_s:
            out.append(s.id)
    return out


def _unchanged_open_s(engine: Engine, s: SensorTrack, since: float, now: float) -> float:
    """Opening-hours seconds since the last change, cached per sensor and minute."""
    cache = engine._stuck_cache
    key = (since, int(now // 60))
    hit = cache.get(s.id)
    if hit is not None and hit[0] == key:
        return hit[1]
    value = opening_seconds(engine.hub, since, now)
    cache[s.id] = (key, value)
    return value


def agent_health(engine: Engine, now: float) -> list[dict]:
    by_agent: dict[str, list[str]] = {}
    for zone in engine.zones.values():
        for sensor_id in stuck_sensors(engine, zone, now):
            by_agent.setdefault(engine.sensors[sensor_id].agent, []).append(sensor_id)
    out = []
    for agent in engine.agents.values():
        reason = agent.reason_at(now, engine.stale_factor)
        sensors = {s.id: s.state.value if isinstance(s.state, SensorState) else None
                   for s in engine.sensors.values() if s.agent == agent.id}
        out.append({
            "agent": agent.id,
            "online": reason is None,
            "state": "online" if reason is None else reason,
            "last_seen": _dt(agent.last_seen),
            "last_heartbeat": _dt(agent.last_heartbeat),
            "heartbeat_interval_s": agent.interval,
            "boot": agent.boot,
            "clock_offset_s": agent.clock_offset,
            # beyond the bound its events are placed by receive time (collector.engine.clock)
            "clock_skewed": agent.clock_offset is not None and abs(agent.clock_offset) > MAX_SKEW_S,
            "sensors": sensors,
            "stuck_sensors": by_agent.get(agent.id, []),
            "zones": list(agent.zones),
        })
    return out


def hub_counts(engine: Engine, now: float) -> tuple[dict[str, int], int, int]:
    """(zones by state as :func:`zone_view` judges them, agents not online, stuck sensors) without
    building every view: the per-hub row of ``/api/hubs`` and the network overview at many hubs."""
    counts = {state.value: 0 for state in type(UNKNOWN)}
    stuck = 0
    for zone in engine.zones.values():
        state = zone.state
        if state is not UNKNOWN and zone.agents and _live_mask(engine, zone, now) is not None:
            state = UNKNOWN
        counts[state.value] += 1
        stuck += len(stuck_sensors(engine, zone, now))
    offline = sum(1 for a in engine.agents.values() if a.reason_at(now, engine.stale_factor) is not None)
    return counts, offline, stuck
