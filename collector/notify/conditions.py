"""Alert conditions, derived from what the live state and the store report (pure: the snapshot and
the time come in, no I/O).

A condition is *open* while it holds: an agent offline or stale, a sensor flagged stuck, an agent's
clock skewed, the spool above 80 %, a hub with no agent online.  :func:`evaluate` says which hold
now and which cannot be judged yet (an agent the collector has not heard from since it started:
its conditions keep what they were, so a restart neither repeats nor clears anything);
:func:`diff` turns two evaluations into opened and closed conditions, which become webhook events
(:func:`events_for`) and e-mail alerts (:mod:`collector.notify.email`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from collector.engine.clock import MAX_SKEW_S
from collector.notify.events import EventType

Open = dict[str, tuple[float, dict]]  # key -> (since, data)


@dataclass(frozen=True)
class Snapshot:
    """What one evaluation looks at."""

    now: float
    health: dict[str, list[dict]]  # hub -> the engine's agent health (collector.engine.views.agent_health)
    agent_names: dict[tuple[str, str], str] = field(default_factory=dict)
    sensor_zones: dict[tuple[str, str], str] = field(default_factory=dict)  # (hub, sensor) -> zone
    spool: dict | None = None  # the store's status() if it spools


@dataclass(frozen=True)
class Evaluation:
    holding: dict[str, dict]  # key -> data of every condition that holds now
    undecided: frozenset[str]  # keys that cannot be judged now: keep their previous state


def _iso(t: datetime | float | None) -> str | None:
    if t is None:
        return None
    if isinstance(t, int | float):
        t = datetime.fromtimestamp(t, UTC)
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def evaluate(snap: Snapshot) -> Evaluation:
    holding: dict[str, dict] = {}
    undecided: set[str] = set()
    for hub, agents in snap.health.items():
        online = 0
        for a in agents:
            agent = a["agent"]
            base = {"hub": hub, "agent": agent, "agent_name": snap.agent_names.get((hub, agent), agent)}
            keys = {"offline": f"agent.offline:{hub}:{agent}", "skew": f"agent.clock_skew:{hub}:{agent}"}
            state = a["state"]
            online += state == "online"
            if state == "no_data":  # not heard from since the collector started
                undecided.update(keys.values())
                undecided.update(f"sensor.stuck:{hub}:{agent}:{s}" for s in a.get("sensors", {}))
                continue
            if state in ("offline", "stale"):
                holding[keys["offline"]] = base | {"reason": state, "last_seen": _iso(a.get("last_seen")),
                                                   "zones": list(a.get("zones", []))}
                undecided.add(keys["skew"])
                undecided.update(f"sensor.stuck:{hub}:{agent}:{s}" for s in a.get("sensors", {}))
                continue
            if a.get("clock_skewed"):
                holding[keys["skew"]] = base | {"clock_offset_s": a.get("clock_offset_s")}
            for sensor in a.get("stuck_sensors", []):
                holding[f"sensor.stuck:{hub}:{agent}:{sensor}"] = base | {"sensor": sensor,
                                                                      "zone": snap.sensor_zones.get((hub, sensor), "")}
        if agents and not online:
            holding[f"hub.no_data:{hub}"] = {"hub": hub, "agents": [a["agent"] for a in agents]}
    spool = snap.spool
    if spool is not None and spool.get("high_water"):
        holding["spool.high"] = {"depth": spool["depth"], "max": spool["max"],
                                 "store_available": bool(spool.get("store_available"))}
    return Evaluation(holding, frozenset(undecided - holding.keys()))


def diff(previous: Open, ev: Evaluation, now: float) -> tuple[Open, Open]:
    """(opened, closed): conditions that began holding, and open ones that stopped (with their
    ``since`` and last data).  Undecided keys change nothing."""
    opened = {k: (now, data) for k, data in ev.holding.items() if k not in previous}
    closed = {k: v for k, v in previous.items() if k not in ev.holding and k not in ev.undecided}
    return opened, closed


def refreshed(previous: Open, ev: Evaluation) -> Open:
    """The open conditions after ``ev``, keeping each one's ``since`` (data updated)."""
    out = {k: (previous[k][0], data) for k, data in ev.holding.items() if k in previous}
    out.update({k: v for k, v in previous.items() if k in ev.undecided})
    return out


def kind(key: str) -> str:
    return key.split(":", 1)[0]


def events_for(opened: Open, closed: Open, now: float) -> Iterable[tuple[str, str | None, float, dict]]:
    """Webhook events ``(type, hub, at, data)`` for these transitions (``hub.no_data`` has none: its
    agents' own events say it)."""
    for key, (since, data) in opened.items():
        event = _opened_event(kind(key), since, data)
        if event is not None:
            yield event
    for key, (since, data) in closed.items():
        event = _closed_event(kind(key), since, data, now)
        if event is not None:
            yield event


def _opened_event(k: str, since: float, data: dict) -> tuple[str, str | None, float, dict] | None:
    hub = data.get("hub")
    if k == "agent.offline":
        return (EventType.AGENT_OFFLINE, hub, since, {
            "hub": hub, "agent": data["agent"], "agent_name": data["agent_name"], "zones": data["zones"],
            "reason": data["reason"], "since": _iso(since), "last_seen": data["last_seen"]})
    if k == "sensor.stuck":
        return (EventType.SENSOR_STUCK, hub, since, _stuck(data, since))
    if k == "agent.clock_skew":
        return (EventType.CLOCK_SKEW, hub, since, _skew(data, since))
    if k == "spool.high":
        return (EventType.SPOOL_HIGH, None, since, _spool(data, since))
    return None


def _closed_event(k: str, since: float, data: dict, now: float) -> tuple[str, str | None, float, dict] | None:
    hub = data.get("hub")
    if k == "agent.offline":
        return (EventType.AGENT_ONLINE, hub, now, {
            "hub": hub, "agent": data["agent"], "agent_name": data["agent_name"], "zones": data["zones"],
            "offline_since": _iso(since), "at": _iso(now), "offline_s": round(max(0.0, now - since), 3)})
    if k == "sensor.stuck":
        return (EventType.SENSOR_RECOVERED, hub, now, _stuck(data, since) | {"at": _iso(now)})
    if k == "agent.clock_skew":
        return (EventType.CLOCK_OK, hub, now, _skew(data, since))
    if k == "spool.high":
        return (EventType.SPOOL_OK, None, now, _spool(data, since))
    return None


def _stuck(data: dict, since: float) -> dict:
    return {"hub": data["hub"], "agent": data["agent"], "sensor": data["sensor"], "zone": data.get("zone", ""),
            "since": _iso(since)}


def _skew(data: dict, since: float) -> dict:
    return {"hub": data["hub"], "agent": data["agent"], "clock_offset_s": data.get("clock_offset_s"),
            "max_skew_s": MAX_SKEW_S, "since": _iso(since)}


def _spool(data: dict, since: float) -> dict:
    return {"depth": data["depth"], "max": data["max"], "fill": round(data["depth"] / max(1, data["max"]), 4),
            "store_available": data["store_available"], "since": _iso(since)}
