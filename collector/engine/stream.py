"""The canonical replay order in one pass with bounded memory (pure; the streaming form of
:func:`collector.engine.timeline.canonical`).

A year of a hub is millions of messages: :func:`~collector.engine.timeline.canonical` would hold
them all to sort them.  :class:`Reorder` holds only a short window instead.  Its input must be
*roughly in receive-time order* (as ``hubsense export`` writes it, or as a live recorder appends
it): no message read more than :data:`REORDER_S` after a message received later than it.  Since a
message's sort time is never earlier than its receive time minus
:data:`~collector.engine.clock.MAX_SKEW_S` (:func:`~collector.engine.clock.event_time`), a message
whose sort time is earlier than the newest receive time read minus both bounds can be released:
nothing still to come sorts before it.  Within the bound, the order is exactly the canonical
one, so the timeline is the same as from :func:`~collector.engine.timeline.replay_timeline`.

Copies of one message: while the first copy waits in the window, the preferred copy (earliest
received) is kept, as :func:`~collector.engine.timeline.canonical` does; a copy that comes after the
first was released is dropped (heartbeats and statuses are remembered for :data:`DEDUP_S`, events
by the engine's own bounded de-duplication).  A message that breaks the bound is still applied,
late (as live ingest would apply it), and counted in :attr:`Reorder.late`.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from collector.engine.clock import MAX_SKEW_S
from collector.engine.timeline import _EVENT, _identity, _preferred

REORDER_S = 60.0  # how far out of receive-time order the input may be
DEDUP_S = 3600.0  # released heartbeats and statuses are remembered this long (sort time)

Item = tuple[str, tuple, int, Any, datetime]  # (hub, sort key, kind, message, received)


class Reorder:
    """Messages of any number of hubs in, released in canonical order (by sort key, then hub)."""

    def __init__(self, reorder_s: float = REORDER_S, dedup_s: float = DEDUP_S) -> None:
        self.window = reorder_s + MAX_SKEW_S
        self.dedup_s = dedup_s
        self._heap: list[tuple[tuple, str, int]] = []  # (key, hub, n): n finds the entry
        self._entries: dict[int, list] = {}  # n -> [key, kind, msg, received, identity]
        self._pending: dict[tuple, int] = {}  # (hub, identity) -> n of the copy held
        self._released: set[tuple] = set()  # (hub, identity) of heartbeats and statuses let out
        self._release_order: deque[tuple[float, tuple]] = deque()  # (sort time, (hub, identity))
        self._n = 0
        self._newest = float("-inf")  # newest receive time read
        self._last: tuple | None = None  # (key, hub) of the last item released
        self.duplicates = 0  # copies dropped here
        self.late = 0  # items released after an item that sorts after them (input beyond the bound)

    def __len__(self) -> int:
        return len(self._entries)

    def push(self, hub: str, msg: Any, received: datetime) -> None:
        r = received.timestamp()
        ident, key, kind = _identity(msg, r)
        tag = (hub, ident)
        if tag in self._released:
            self.duplicates += 1
            return
        held = self._pending.get(tag)
        if held is not None:
            entry = self._entries[held]
            self.duplicates += 1
            if not _preferred(kind, key, msg, (entry[0], entry[1], entry[2])):
                return
            del self._entries[held]  # its heap slot is skipped when popped
        self._n += 1
        self._entries[self._n] = [key, kind, msg, received, ident]
        self._pending[tag] = self._n
        heapq.heappush(self._heap, (key, hub, self._n))
        if r > self._newest:
            self._newest = r

    def ready(self) -> Iterator[Item]:
        """Release every item nothing still to come can sort before."""
        yield from self._release(self._newest - self.window)

    def drain(self) -> Iterator[Item]:
        """The end of the input: release everything."""
        yield from self._release(float("inf"))

    def _release(self, before: float) -> Iterator[Item]:
        heap = self._heap
        while heap and heap[0][0][0] < before:
            key, hub, n = heapq.heappop(heap)
            entry = self._entries.pop(n, None)
            if entry is None:
                continue  # replaced by a preferred copy
            _, kind, msg, received, ident = entry
            del self._pending[(hub, ident)]
            if self._last is not None and (key, hub) < self._last:
                self.late += 1
            else:
                self._last = (key, hub)
            if kind != _EVENT:
                self._remember((hub, ident), key[0])
            yield hub, key, kind, msg, received

    def _remember(self, tag: tuple, t: float) -> None:
        self._released.add(tag)
        order = self._release_order
        order.append((t, tag))
        while order and order[0][0] < t - self.dedup_s:
            self._released.discard(order.popleft()[1])
