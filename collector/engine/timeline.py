"""History as a function of the *set* of messages: de-duplicate, order canonically, replay.

Live ingest sees messages in whatever order the network delivers them.  For history (and for
"what if" replays with other parameters) the same set of distinct messages must always give the
same timeline, so :func:`replay_timeline` first reduces the input to one canonical copy per
message identity, sorts by (time, agent, kind, boot, seq, ...) and then runs an :class:`Engine`
over it, advancing the clock before each message.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from collector.engine.clock import event_time
from collector.engine.engine import Engine
from collector.model import ReceivedEvent, StateChange
from hubsense.config import Hub, Profile
from hubsense.protocol import AgentState, AgentStatus, Heartbeat, SensorEvent

Item = tuple[Any, datetime] | ReceivedEvent
_STATUS, _HEARTBEAT, _EVENT = 0, 1, 2


def canonical(hub_id: str, messages: Iterable[Item]) -> list[tuple[tuple, int, Any, datetime]]:
    """Distinct messages of one hub in replay order, as (sort key, kind, message, received).

    Of several copies of one message the earliest received wins (ties: :func:`_preference`).
    Sort keys are unique per distinct message, so the order is total."""
    best: dict[tuple, tuple[tuple, int, Any, datetime]] = {}
    for item in messages:
        if type(item) is ReceivedEvent:
            msg, received = item, item.received
        else:
            msg, received = item
        if msg.hub != hub_id:
            continue
        ident, key, kind = _identity(msg, received.timestamp())
        held = best.get(ident)
        if held is None or _preferred(kind, key, msg, held):
            best[ident] = (key, kind, msg, received)
    ordered = list(best.values())
    ordered.sort(key=_first)
    return ordered


def _first(row: tuple) -> tuple:
    return row[0]


def _identity(msg: Any, r: float) -> tuple[tuple, tuple, int]:
    """(identity, sort key, kind) of one message.

    Sort keys: (time, agent, kind, boot, seq, ...) where time is the event time for events and
    heartbeats and the receive time for status messages (a Last Will's ts is not its time).
    The receive time is always at index 5 or 6 of the key."""
    ts = msg.ts.timestamp()
    cls = type(msg)
    if cls is SensorEvent or cls is ReceivedEvent:
        return (msg.agent, msg.boot, msg.seq), (event_time(ts, r), msg.agent, _EVENT, msg.boot, msg.seq, r), _EVENT
    if cls is Heartbeat:
        key = (event_time(ts, r), msg.agent, _HEARTBEAT, msg.boot, msg.seq, ts, r)
        return ("h", msg.agent, msg.boot, ts, msg.seq), key, _HEARTBEAT
    if cls is AgentStatus:
        return ("s", msg.agent, msg.boot, msg.state, ts), (r, msg.agent, _STATUS, msg.boot, 0, ts, msg.state), _STATUS
    raise TypeError(f"not a hubsense message: {cls.__name__}")


def _preferred(kind: int, key: tuple, msg: Any, held: tuple) -> bool:
    """Is this copy preferred over the held one? Earliest received, then content."""
    return _preference(kind, key, msg) < _preference(kind, held[0], held[2])


def _preference(kind: int, key: tuple, msg: Any) -> tuple:
    if kind == _EVENT:
        return (key[5], msg.ts.timestamp(), msg.sensor, msg.state, msg.kind)
    if kind == _HEARTBEAT:
        return (key[6], msg.uptime_s, msg.interval_s, msg.queue_depth, msg.dropped, sorted(msg.sensors.items()))
    return (key[0],)


def replay_timeline(
    hub: Hub,
    messages: Iterable[Item],
    profiles: dict[str, Profile] | None = None,
    *,
    until: datetime | None = None,
    stale_factor: float = 3.0,
) -> list[StateChange]:
    """The state-change timeline of ``hub`` for a set of messages (order and copies do not matter).

    ``messages`` are ``(message, received)`` pairs of parsed protocol messages, or
    :class:`ReceivedEvent` objects.  ``until`` fires the timeouts due up to that time at the end.
    """
    engine = Engine(hub, profiles, stale_factor)
    return run(engine, canonical(hub.id, messages), until)


def run(engine: Engine, ordered: list[tuple[tuple, int, Any, datetime]], until: datetime | None) -> list[StateChange]:
    """Feed canonically ordered messages to ``engine``; returns all changes in order."""
    out: list[StateChange] = []
    for key, kind, msg, received in ordered:
        out.extend(step(engine, key, kind, msg, received))
    if until is not None:
        out.extend(engine.advance(until))
    return out


def step(engine: Engine, key: tuple, kind: int, msg: Any, received: datetime) -> list[StateChange]:
    """One message of a canonical order (as :func:`canonical` gives it): time first advances to it."""
    out = engine.advance_ts(key[0])
    if kind == _EVENT:  # key = (event time, agent, kind, boot, seq, receive time)
        out += engine.event_ts(msg.agent, msg.boot, msg.seq, msg.sensor, msg.state, msg.ts.timestamp(), key[5])
    elif kind == _STATUS:
        out += engine.status(msg.agent, msg.state is AgentState.ONLINE, received)
    else:
        out += engine.heartbeat(msg.agent, received, msg.interval_s, dict(msg.sensors), ts=msg.ts, boot=msg.boot)
    return out
