"""Export stored events in the replay input format (see docs/protocol.md, "Replay formats").

Each line is ``{"topic", "payload", "received"}`` with the payload re-encoded exactly
as an agent publishes it.  Agent health records become status and heartbeat
messages, so a replay knows when agents were online.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterator
from datetime import datetime
from typing import TextIO

from collector.model import AgentHealth, ReceivedEvent
from collector.store.base import Store
from hubsense import protocol as p


def event_line(ev: ReceivedEvent) -> dict:
    msg = p.SensorEvent(hub=ev.hub, agent=ev.agent, boot=ev.boot, sensor=ev.sensor, kind=ev.kind,
                        state=ev.state, ts=ev.ts, seq=ev.seq)
    return _line(p.topic(ev.hub, ev.agent, p.MessageKind.EVENT), msg, ev.received)


def health_line(h: AgentHealth) -> dict:
    boot = h.boot or "unknown"
    ts = datetime.fromtimestamp(h.at.timestamp() + h.clock_offset_s, h.at.tzinfo)
    if h.interval_s > 0:
        msg: p.Heartbeat | p.AgentStatus = p.Heartbeat(
            hub=h.hub, agent=h.agent, boot=boot, ts=ts, seq=0, uptime_s=0, interval_s=h.interval_s,
            queue_depth=h.queue_depth, dropped=h.dropped)
        kind = p.MessageKind.HEARTBEAT
    else:
        state = p.AgentState.ONLINE if h.online else p.AgentState.OFFLINE
        msg = p.AgentStatus(hub=h.hub, agent=h.agent, boot=boot, state=state, ts=ts)
        kind = p.MessageKind.STATUS
    return _line(p.topic(h.hub, h.agent, kind), msg, h.at)


def _line(topic: str, msg: p.SensorEvent | p.AgentStatus | p.Heartbeat, received: datetime) -> dict:
    return {"topic": topic, "payload": p.encode(msg).decode(), "received": received.isoformat()}


def export_lines(store: Store, hub: str | None = None, start: datetime | None = None,
                 end: datetime | None = None) -> Iterator[dict]:
    """Events and health records merged in receive-time order."""
    events = ((ev.received, 1, event_line, ev) for ev in store.events(hub, start, end))
    health = ((h.at, 0, health_line, h) for h in store.health(hub, start, end))
    for _, _, fmt, record in heapq.merge(health, events, key=lambda t: (t[0], t[1])):
        yield fmt(record)


def export_events(store: Store, out: TextIO, hub: str | None = None, start: datetime | None = None,
                  end: datetime | None = None) -> int:
    n = 0
    for line in export_lines(store, hub, start, end):
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        n += 1
    return n
