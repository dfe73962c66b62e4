"""The collector's message handler: one MQTT message in, records out.

It validates the payload against the wire contract and the hub config, feeds
the occupancy engine and returns what must be stored.  It never raises: every
rejection is counted by reason, and a bug in here is counted as
``internal_error`` instead of stopping ingest.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from collector.live import LiveState
from collector.model import AgentHealth, ReceivedEvent, StateChange
from hubsense.protocol import (
    AgentState,
    AgentStatus,
    Heartbeat,
    Rejected,
    SensorEvent,
    parse_message,
)

log = logging.getLogger(__name__)


@dataclass
class IngestCounters:
    """Counts since start; read by /healthz and /metrics."""

    received: int = 0
    accepted: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reject(self, reason: str) -> None:
        with self.lock:
            self.rejected[reason] += 1

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "received": self.received,
                "accepted": self.accepted,
                "stored": self.stored,
                "duplicates": self.duplicates,
                "rejected": dict(self.rejected),
            }


@dataclass(slots=True)
class Outcome:
    """What one batch of messages produced."""

    events: list[ReceivedEvent] = field(default_factory=list)
    changes: list[StateChange] = field(default_factory=list)
    health: list[AgentHealth] = field(default_factory=list)


class MessageHandler:
    def __init__(self, live: LiveState, counters: IngestCounters | None = None) -> None:
        self.live = live
        self.counters = counters or IngestCounters()
        # (hub, agent) -> {sensor id: sensor kind} for cheap per-message lookups
        self._sensors = {
            (hub.id, agent.id): {s.id: s.kind for s in agent.sensors}
            for hub in live.hubs.values()
            for agent in hub.agents
        }

    def handle(self, topic: str, payload: bytes, received: datetime, out: Outcome, store: bool = True) -> bool:
        """Process one message into ``out``; returns False if it was rejected.

        ``store=False``: a scale-out copy for the live engine only (another collector stores it and
        counts it): the engine sees it, but no event or health record is added and nothing counted.
        """
        if not store:
            return self._mirror(topic, payload, received, out)
        self.counters.received += 1
        try:
            msg = parse_message(topic, payload)
            self._check_known(msg)
            self._apply(msg, received, out)
        except Rejected as exc:
            self.counters.reject(exc.reason)
            log.info("rejected message on %r: %s", topic[:200], exc)
            return False
        except Exception:  # a bug must not stop ingest of the messages behind it
            self.counters.reject("internal_error")
            log.exception("internal error handling a message on %r", topic[:200])
            return False
        self.counters.accepted += 1
        return True

    def _mirror(self, topic: str, payload: bytes, received: datetime, out: Outcome) -> bool:
        try:
            msg = parse_message(topic, payload)
            self._check_known(msg)
            scratch = Outcome()
            self._apply(msg, received, scratch)
        except Exception:  # rejected (or a bug): the storing collector counts it
            return False
        out.changes.extend(scratch.changes)
        return True

    def _check_known(self, msg: SensorEvent | AgentStatus | Heartbeat) -> None:
        if msg.hub not in self.live.hubs:
            raise Rejected("unknown_hub", f"hub {msg.hub!r} is not configured")
        sensors = self._sensors.get((msg.hub, msg.agent))
        if sensors is None:
            raise Rejected("unknown_agent", f"agent {msg.agent!r} is not configured in hub {msg.hub!r}")
        if isinstance(msg, SensorEvent):
            kind = sensors.get(msg.sensor)
            if kind is None:
                raise Rejected("unknown_sensor", f"sensor {msg.sensor!r} does not belong to agent {msg.agent!r}")
            if kind is not msg.kind:
                raise Rejected("wrong_kind", f"sensor {msg.sensor!r} is a {kind.value} sensor, not {msg.kind.value}")
        elif isinstance(msg, Heartbeat):
            unknown = set(msg.sensors) - set(sensors)
            if unknown:
                raise Rejected("unknown_sensor", f"heartbeat names unknown sensors {sorted(unknown)}")

    def _apply(self, msg: SensorEvent | AgentStatus | Heartbeat, received: datetime, out: Outcome) -> None:
        engine = self.live.engines[msg.hub]
        with self.live.lock:
            self.live.version += 1
            if isinstance(msg, SensorEvent):
                ev = ReceivedEvent.from_message(msg, received)
                out.events.append(ev)
                out.changes.extend(engine.event(ev))
            elif isinstance(msg, AgentStatus):
                online = msg.state is AgentState.ONLINE
                out.changes.extend(engine.status(msg.agent, online, received))
                out.health.append(_health(msg, online, received))
            else:
                out.changes.extend(engine.heartbeat(msg.agent, received, msg.interval_s, dict(msg.sensors),
                                                    ts=msg.ts, boot=msg.boot))  # as replay_timeline does
                out.health.append(_health(msg, True, received, msg.queue_depth, msg.dropped, msg.interval_s))


def _health(
    msg: AgentStatus | Heartbeat,
    online: bool,
    received: datetime,
    depth: int = 0,
    dropped: int = 0,
    interval_s: float = 0.0,
) -> AgentHealth:
    # An 'offline' status may be a Last Will, whose ts is when the will was registered (possibly
    # days ago), not a clock reading: it says nothing about the agent's clock.
    offset = (msg.ts - received).total_seconds() if online else 0.0
    return AgentHealth(msg.hub, msg.agent, online, received, msg.boot, offset, depth, dropped, interval_s)

