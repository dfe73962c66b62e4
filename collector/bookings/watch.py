"""The room watch: every bookable room with a calendar, re-evaluated as time passes, and the room
events (released, walk-in, overrun) handed to whoever listens.

This is the one place room events come from.  Listen with :meth:`RoomWatch.add_listener`
(``Collector.build`` connects the webhooks and the SSE stream there); each listener gets every
:class:`~collector.bookings.rooms.RoomEvent` once, in the watch's thread, and must be quick and must
not raise (an exception is logged and the other listeners still run).  :meth:`RoomWatch.add_status_listener`
gets every change of a room's :class:`~collector.bookings.rooms.RoomNow` (what the member view shows).

A room is re-evaluated every ``interval_s`` (a release happens because time passes, not because a
sensor changed) and right after a stored batch changes one of the rooms (:meth:`RoomWatch.on_commit`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from collector.bookings.facts import release_after
from collector.bookings.load import door_spans, room_states
from collector.bookings.rooms import RoomEvent, RoomNow, room_events, room_now
from collector.bookings.sources import CalendarSources, CalendarUnavailable
from collector.store.base import Store, StoreUnavailable
from hubsense.config import Hub, Tariff

if TYPE_CHECKING:
    from collector.ingest import Commit

log = logging.getLogger(__name__)

LOOKBACK = timedelta(hours=12)  # bookings that may still be running over
LOOKAHEAD = timedelta(hours=24)  # the next booking ("free until 14:00")
CACHE_S = 5.0  # the API reuses a hub's rooms this long
DEFAULT_OVERRUN_GRACE_MIN = Tariff.model_fields["overrun_grace_min"].default  # rooms without a tariff

RoomListener = Callable[[RoomEvent], None]
StatusListener = Callable[[RoomNow], None]


class RoomWatch:
    def __init__(self, hubs: dict[str, Hub], sources: CalendarSources, store: Store, grace_min: float,
                 interval_s: float = 30.0, history: int = 500) -> None:
        self.hubs = hubs
        self.sources = sources
        self.store = store
        self.grace_min = grace_min  # the release time of hubs whose config sets none
        self.interval_s = interval_s
        self._listeners: list[RoomListener] = []
        self._status_listeners: list[StatusListener] = []
        self._last: dict[tuple[str, str], RoomNow] = {}
        self._recent: deque[RoomEvent] = deque(maxlen=history)
        self._cache: dict[str, tuple[float, list[RoomNow]]] = {}
        self._failing: dict[str, str] = {}  # hub -> the error its last evaluation failed with
        self._lock = threading.Lock()
        self._poll_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- listening ------------------------------------------------------------------------------

    def add_listener(self, listener: RoomListener) -> None:
        """Call ``listener(event)`` for every room event from now on."""
        self._listeners.append(listener)

    def add_status_listener(self, listener: StatusListener) -> None:
        """Call ``listener(room)`` whenever what a room's card shows changes (status, booking, next booking)."""
        self._status_listeners.append(listener)

    def recent(self, hub: str | None = None, since: datetime | None = None) -> list[RoomEvent]:
        """The latest room events (at most ``history``), oldest first."""
        with self._lock:
            events = list(self._recent)
        return [e for e in events if (hub is None or e.hub == hub) and (since is None or e.at >= since)]

    # -- evaluating -----------------------------------------------------------------------------

    def has_rooms(self, hub: str | None = None) -> bool:
        return any(self.sources.rooms.get(h) for h in ([hub] if hub else self.hubs))

    def rooms(self, hub_id: str, now: datetime | None = None) -> list[RoomNow]:
        """Every room of the hub that has a calendar, at ``now`` (default: the clock; a result younger than
        a few seconds is reused).  Raises CalendarUnavailable if a calendar cannot be read."""
        if now is None:
            with self._lock:
                cached = self._cache.get(hub_id)
            if cached is not None and time.monotonic() - cached[0] < CACHE_S:
                return cached[1]
            now = datetime.now(UTC)
        rooms = self._evaluate(self.hubs[hub_id], now)
        with self._lock:
            self._cache[hub_id] = (time.monotonic(), rooms)
        return rooms

    def _evaluate(self, hub: Hub, now: datetime) -> list[RoomNow]:
        calendars = self.sources.rooms.get(hub.id, {})
        if not calendars:
            return []
        start = now - LOOKBACK
        bookings = self.sources.bookings(hub.id, start, now + LOOKAHEAD)
        doors = door_spans(self.store, hub, start, now)
        wait = release_after(hub, self.grace_min)
        out = []
        for zone in (z.id for z in hub.zones if z.id in calendars):
            own = [b for b in bookings if b.zone == zone]
            since = min([start, *(b.start for b in own)])
            states = room_states(self.store, hub, zone, since, now)
            out.append(room_now(hub, zone, own, states, doors.get(zone, []), now, wait))
        return out

    def poll(self, now: datetime | None = None) -> list[RoomEvent]:
        """Evaluate every room now, hand the events and status changes to the listeners, return the events."""
        now = now or datetime.now(UTC)
        events: list[RoomEvent] = []
        with self._poll_lock:
            for hub_id in self.hubs:
                try:
                    rooms = self.rooms(hub_id, now)
                except (CalendarUnavailable, StoreUnavailable) as exc:
                    if self._failing.get(hub_id) != str(exc):  # once per problem, not every interval
                        log.warning("rooms of hub %s not evaluated: %s", hub_id, exc)
                    self._failing[hub_id] = str(exc)
                    continue
                if self._failing.pop(hub_id, None) is not None:
                    log.info("rooms of hub %s evaluated again", hub_id)
                for room in rooms:
                    events += self._compare(self.hubs[hub_id], room)
        with self._lock:
            self._recent.extend(events)
        for event in events:
            for listener in list(self._listeners):
                _call(listener, event)
        return events

    def _compare(self, hub: Hub, room: RoomNow) -> list[RoomEvent]:
        previous = self._last.get((hub.id, room.zone))
        self._last[(hub.id, room.zone)] = room
        if previous is None or _shown(previous) != _shown(room):
            for listener in list(self._status_listeners):
                _call(listener, room)
        tariff = hub.billing.tariff_of(room.zone)
        grace = timedelta(minutes=tariff.overrun_grace_min if tariff else DEFAULT_OVERRUN_GRACE_MIN)
        return room_events(hub, previous, room, grace)

    # -- running --------------------------------------------------------------------------------

    def on_commit(self, commit: Commit) -> None:
        """After a stored batch (ingest writer thread): re-evaluate soon if a watched room changed."""
        if any(c.desk is None and c.zone in self.sources.rooms.get(c.hub, {}) for c in commit.changes):
            self._wake.set()

    def start(self) -> RoomWatch:
        if self._thread is None and self.has_rooms():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="room-watch", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:  # a bug must not stop the watch
                log.exception("room watch poll failed")
            self._wake.wait(self.interval_s)
            self._wake.clear()


def _shown(room: RoomNow) -> tuple:
    """What a room's card shows (a change of only the evaluation time or the overrun length is none)."""
    return (room.status, room.booking, room.next, room.free_until, room.released_at)


def _call(listener: Callable, item: object) -> None:
    try:
        listener(item)
    except Exception:
        log.exception("room listener %r failed", listener)
