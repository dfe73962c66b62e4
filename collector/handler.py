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
    kind_spec,
    parse_message,
)

log = logging.getLogger(__name__)


@dataclass
class IngestCounters:
    """Counts since start; read by /healthz and /metrics.

    Every message is counted once, as accepted or under one rejection reason, in one step under the
    lock, so ``received == accepted + sum(rejected)`` holds whenever it is read.  Retained messages
    (what the broker hands over at each (re)subscribe) are counted apart in ``retained``: the same
    retained junk would otherwise be counted again at every collector start."""

    received: int = 0
    accepted: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    retained: Counter[str] = field(default_factory=Counter)  # 'accepted' or a rejection reason
    unstored_changes: int = 0  # zone state changes the store refused (derived records, not messages)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, reason: str | None, retained: bool = False) -> None:
        """One message handled: accepted (``reason`` None) or rejected for ``reason``."""
        with self.lock:
            if retained:
                self.retained[reason or "accepted"] += 1
                return
            self.received += 1
            if reason is None:
                self.accepted += 1
            else:
                self.rejected[reason] += 1

    def unstored(self, n: int, retained: bool = False) -> None:
        """``n`` accepted messages whose records the store refused: they become ``store_error``."""
        with self.lock:
            if retained:
                self.retained["accepted"] -= n
                self.retained["store_error"] += n
            else:
                self.accepted -= n
                self.rejected["store_error"] += n

    def unstored_change(self) -> None:
        with self.lock:
            self.unstored_changes += 1

    def add_stored(self, new: int, duplicates: int) -> None:
        with self.lock:
            self.stored += new
            self.duplicates += duplicates

    def snapshot(self) -> dict:
        with self.lock:
            retained = dict(self.retained)
            return {
                "received": self.received,
                "accepted": self.accepted,
                "stored": self.stored,
                "duplicates": self.duplicates,
                "rejected": dict(self.rejected),
                "retained": {"accepted": retained.pop("accepted", 0), "rejected": retained},
                "unstored_changes": self.unstored_changes,
            }


@dataclass(slots=True)
class Outcome:
    """What one batch of messages produced.  ``health_retained[i]`` says whether ``health[i]`` came
    from a retained message (for counting, should the store refuse it)."""

    events: list[ReceivedEvent] = field(default_factory=list)
    changes: list[StateChange] = field(default_factory=list)
    health: list[AgentHealth] = field(default_factory=list)
    health_retained: list[bool] = field(default_factory=list)


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

    def handle(self, topic: str, payload: bytes, received: datetime, out: Outcome, store: bool = True,
               retained: bool = False) -> bool:
        """Process one message into ``out``; returns False if it was rejected.

        ``store=False``: a scale-out copy for the live engine only (another collector stores it and
        counts it): the engine sees it, but no event or health record is added and nothing counted.
        ``retained``: the broker kept the message (MQTT retain flag on delivery): counted apart, and
        an 'online' status that is retained is no proof of life.
        """
        if not store:
            return self._mirror(topic, payload, received, out)
        try:
            msg = parse_message(topic, payload)
            if retained and not isinstance(msg, AgentStatus):
                raise Rejected("retained", "only status messages are retained; a kept event or heartbeat "
                                           "is old news (clear it: hubsense mqtt clear-retained)")
            self._check_known(msg)
            self._apply(msg, received, out, retained)
        except Rejected as exc:
            self.counters.count(exc.reason, retained)
            log.info("rejected %smessage on %r: %s", "retained " if retained else "", topic[:200], exc)
            return False
        except Exception:  # a bug must not stop ingest of the messages behind it
            self.counters.count("internal_error", retained)
            log.exception("internal error handling a message on %r", topic[:200])
            return False
        self.counters.count(None, retained)
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
            for sensor, state in msg.sensors.items():
                if state not in kind_spec(sensors[sensor]).states:
                    raise Rejected("schema", f"heartbeat: state {state.value!r} is not valid for {sensor!r}, "
                                             f"a {sensors[sensor].value} sensor")

    def _apply(self, msg: SensorEvent | AgentStatus | Heartbeat, received: datetime, out: Outcome,
               retained: bool = False) -> None:
        with self.live.feeding(msg.hub) as engine:
            if isinstance(msg, SensorEvent):
                ev = ReceivedEvent.from_message(msg, received)
                out.events.append(ev)
                out.changes.extend(engine.event(ev))
            elif isinstance(msg, AgentStatus):
                online = msg.state is AgentState.ONLINE
                if online and not engine.proves_life(msg.agent, received, msg.ts, retained):
                    return  # an old or retained 'online' is not proof of life: no change, no health record
                out.changes.extend(engine.status(msg.agent, online, received, msg.ts))
                out.health.append(_health(msg, online, received))
                out.health_retained.append(retained)
            else:
                out.changes.extend(engine.heartbeat(msg.agent, received, msg.interval_s, dict(msg.sensors),
                                                    ts=msg.ts, boot=msg.boot))  # as replay_timeline does
                out.health.append(_health(msg, True, received, msg.queue_depth, msg.dropped, msg.interval_s))
                out.health_retained.append(retained)


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

