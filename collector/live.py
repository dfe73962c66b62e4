"""Live state of every hub: one occupancy engine per hub behind a lock, and a
broadcaster that pushes changed zones to Server-Sent-Event listeners.

The engines are pure; this module is the thin stateful shell the ingest thread,
the ticker and the API share.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from collector.engine import Engine
from collector.engine.views import hub_counts
from collector.model import StateChange, ZoneView
from hubsense.config import Hub, Profile


@dataclass(slots=True)
class _Listener:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue
    hubs: frozenset[str] | None  # None: every hub


class Broadcaster:
    """Fan-out of live updates to asyncio listeners, callable from any thread."""

    def __init__(self, max_queue: int = 1000) -> None:
        self._listeners: list[_Listener] = []
        self._lock = threading.Lock()
        self._max_queue = max_queue

    def subscribe(self, hubs: Iterable[str] | str | None) -> _Listener:
        """A listener for the updates of ``hubs`` (one hub id, several, or None for every hub)."""
        wanted = None if hubs is None else frozenset([hubs] if isinstance(hubs, str) else hubs)
        listener = _Listener(asyncio.get_running_loop(), asyncio.Queue(self._max_queue), wanted)
        with self._lock:
            self._listeners.append(listener)
        return listener

    def unsubscribe(self, listener: _Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    @property
    def listener_count(self) -> int:
        return len(self._listeners)

    def publish(self, hub: str, item: dict) -> None:
        self.publish_many([(hub, item)])

    def publish_many(self, items: list[tuple[str, dict]]) -> None:
        """Queue ``(hub, item)`` pairs for every listener of their hub: one wake-up of each
        listener's event loop per call, however many items."""
        with self._lock:
            listeners = list(self._listeners)
        for lst in listeners:
            mine = [item for hub, item in items if lst.hubs is None or hub in lst.hubs]
            if not mine:
                continue
            try:
                lst.loop.call_soon_threadsafe(_offer, lst.queue, mine)
            except RuntimeError:  # loop closed: the client went away
                self.unsubscribe(lst)


def _offer(queue: asyncio.Queue, items: list[dict]) -> None:
    for item in items:
        if queue.full():  # a slow client loses the oldest update, never blocks ingest
            queue.get_nowait()
        queue.put_nowait(item)


@dataclass
class LiveState:
    """Engines by hub id plus the broadcaster; every engine call holds the lock."""

    hubs: dict[str, Hub]
    profiles: dict[str, dict[str, Profile]] = field(default_factory=dict)
    stale_factor: float = 3.0
    broadcaster: Broadcaster = field(default_factory=Broadcaster)

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        # +1 whenever an engine is fed or advanced (under the lock): lets readers cache views
        self.version = 0
        # per hub: +1 whenever that hub's engine is fed, or advanced with changes (caches per hub)
        self.hub_versions = dict.fromkeys(self.hubs, 0)
        self.engines = {
            hub_id: Engine(hub, self.profiles.get(hub_id), stale_factor=self.stale_factor)
            for hub_id, hub in self.hubs.items()
        }

    @contextmanager
    def feeding(self, hub: str) -> Iterator[Engine]:
        """The hub's engine, to feed it messages: under the lock, counted as a new version."""
        with self.lock:
            self.version += 1
            self.hub_versions[hub] += 1
            yield self.engines[hub]

    def views(self, hub: str, now: datetime) -> list[ZoneView]:
        with self.lock:
            return self.engines[hub].views(now)

    def health(self, hub: str, now: datetime) -> list[dict]:
        with self.lock:
            return self.engines[hub].health(now)

    def learned(self, hub: str) -> dict[str, dict]:
        """What the hub's engine has learned (JSON-able, a copy)."""
        with self.lock:
            return self.engines[hub].learned()

    def restore_learned(self, hub: str, zones: dict[str, dict]) -> list[str]:
        """Give the hub's engine back what it learned; returns the zones whose record could not be read
        (they keep learning from the kind's defaults)."""
        skipped = []
        with self.lock:
            engine = self.engines[hub]
            for zone, data in zones.items():
                try:
                    engine.restore({zone: data})
                except (KeyError, TypeError, ValueError, IndexError):
                    skipped.append(zone)
            self.version += 1
        return skipped

    def parameters(self, hub: str, zone: str) -> dict:
        """The zone's effective parameters and where each comes from (``Engine.parameters``)."""
        with self.lock:
            return self.engines[hub].parameters(zone)

    def hub_counts(self, hub: str, now: datetime) -> tuple[dict[str, int], int, int, int, float]:
        """(zones by state, agents, agents not online, stuck sensors, liveness deadline) of one hub, read
        together under the lock without building its views (collector/network.py)."""
        with self.lock:
            engine = self.engines[hub]
            counts, offline, stuck = hub_counts(engine, now.timestamp())
            return counts, len(engine.agents), offline, stuck, self.liveness_deadline(hub)

    def liveness_deadline(self, hub: str) -> float:
        """When the first of the hub's live agents turns stale without further messages (inf: none
        will): until then, the hub's views change only when its version does."""
        with self.lock:
            engine = self.engines[hub]
            return min((a.deadline(engine.stale_factor) for a in engine.agents.values()), default=math.inf)

    def advance(self, now: datetime) -> list[StateChange]:
        changes: list[StateChange] = []
        with self.lock:
            for hub, engine in self.engines.items():
                if fired := engine.advance(now):
                    changes.extend(fired)
                    self.hub_versions[hub] += 1
            self.version += 1
        return changes

    def announce(self, changes: Iterable[StateChange], now: datetime) -> None:
        """Push the current view of every zone that changed to SSE listeners."""
        if not self.broadcaster.listener_count:
            return
        touched = dict.fromkeys((c.hub, c.zone) for c in changes)  # unique, in order of change
        with self.lock:
            views = [self.engines[hub].view(zone, now) for hub, zone in touched]
        self.broadcaster.publish_many([(view.hub, {"type": "zone", "view": view}) for view in views])
