"""Store-and-forward queue of sensor events in a small SQLite file.

Every event is written here before it is handed to MQTT.  It leaves the file only when it is
*confirmed*: by the collector's storage acknowledgement (:meth:`EventQueue.confirm`, the default:
the event is durably stored) or, without those, by the broker's PUBACK (:meth:`EventQueue.ack`).
So events survive broker crashes, collector outages and agent restarts.  The queue is bounded:
past ``max_events`` the oldest events not currently in flight are dropped and counted (the count is
kept in the file, so it is cumulative across restarts).

Sending goes through a cursor: :meth:`take` hands out the oldest events not handed out yet, in
order; :meth:`rewind` (after every reconnect) starts again from the oldest unconfirmed event, so a
connection always carries its events in queue order.  Which events are in flight (handed to the
MQTT client, PUBACK pending) or sent (PUBACKed, not yet confirmed) lives in memory only.  Methods
are thread-safe (sensor callbacks put, the network thread takes, acks and confirms).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    boot TEXT NOT NULL,
    seq INTEGER NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS events_boot_seq ON events (boot, seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('dropped', 0);
"""


@dataclass(frozen=True, slots=True)
class QueuedEvent:
    id: int
    boot: str
    seq: int
    topic: str
    payload: bytes


class EventQueue:
    """A bounded, durable FIFO of encoded events.  ``path`` may be ':memory:'."""

    def __init__(self, path: str | Path, max_events: int = 10_000) -> None:
        if max_events < 1:
            raise ValueError("max_events must be >= 1")
        self.path = str(path)
        self.max_events = max_events
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._in_flight: set[int] = set()
        self._cursor = 0  # every id below was handed out since the last rewind
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a committed event survives a process crash; a power cut
            # may lose the last few, in exchange for far fewer fsyncs on an SD card.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._depth = self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
            self._pending = self._depth
            self._dropped = self._db.execute("SELECT value FROM meta WHERE key='dropped'").fetchone()[0]

    # -- producer side -------------------------------------------------------------

    def put(self, boot: str, seq: int, topic: str, payload: bytes) -> int:
        """Store one event (dropping the oldest if full); returns its queue id."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            excess = self._depth + 1 - self.max_events
            if excess > 0:
                self._drop_oldest(excess)
            cur = self._db.execute(
                "INSERT INTO events (boot, seq, topic, payload) VALUES (?, ?, ?, ?)",
                (boot, seq, topic, payload),
            )
            self._depth += 1
            self._pending += 1
            return int(cur.lastrowid or 0)

    def _drop_oldest(self, n: int) -> None:
        rows = self._db.execute(
            "SELECT id FROM events ORDER BY id LIMIT ?", (n + len(self._in_flight),)
        ).fetchall()
        victims = [r[0] for r in rows if r[0] not in self._in_flight][:n]
        if victims:
            self._delete(victims)
            self._dropped += len(victims)
            self._db.execute("UPDATE meta SET value = ? WHERE key = 'dropped'", (self._dropped,))

    def _delete(self, ids: list[int]) -> None:
        """Delete these (existing) rows and keep the counts right; inside a transaction."""
        self._db.executemany("DELETE FROM events WHERE id = ?", [(i,) for i in ids])
        self._depth -= len(ids)
        self._pending -= sum(1 for i in ids if i >= self._cursor)
        self._in_flight.difference_update(ids)

    # -- consumer side ---------------------------------------------------------------

    def take(self, limit: int) -> list[QueuedEvent]:
        """The oldest ``limit`` events not handed out since the last :meth:`rewind`, in order; they
        become in flight."""
        if limit <= 0:
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT id, boot, seq, topic, payload FROM events WHERE id >= ? ORDER BY id LIMIT ?",
                (self._cursor, limit),
            ).fetchall()
            out = [QueuedEvent(*r) for r in rows]
            if out:
                self._cursor = out[-1].id + 1
                self._pending -= len(out)
                self._in_flight.update(e.id for e in out)
            return out

    def sent(self, ids: Iterable[int]) -> None:
        """The broker acknowledged these; they stay until :meth:`confirm` (or :meth:`rewind` sends
        them again)."""
        with self._lock:
            self._in_flight.difference_update(ids)

    def failed(self, ids: Iterable[int]) -> None:
        """The broker refused these: not in flight any more; sent again after the next rewind."""
        self.sent(ids)

    def ack(self, ids: Iterable[int]) -> None:
        """Delete delivered events (one transaction for the batch): PUBACK mode, no watermark."""
        batch = list(ids)
        if not batch:
            return
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            present = [i for (i,) in self._db.execute(
                f"SELECT id FROM events WHERE id IN ({','.join('?' * len(batch))})", batch)]
            self._delete(present)
            self._in_flight.difference_update(batch)

    def confirm(self, ranges: Iterable[tuple[str, int, int]]) -> int:
        """The collector has durably stored these events, ``(boot, first seq, last seq)`` ranges:
        delete them.  Returns how many were deleted."""
        removed = 0
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            for boot, first, last in ranges:
                ids = [i for (i,) in self._db.execute(
                    "SELECT id FROM events WHERE boot = ? AND seq BETWEEN ? AND ?", (boot, first, last))]
                if ids:
                    self._delete(ids)
                    removed += len(ids)
        return removed

    def rewind(self) -> None:
        """Send everything still here again, oldest first (a new connection, or the collector lost
        what the broker held for it).  Nothing is in flight any more."""
        with self._lock:
            self._in_flight.clear()
            self._cursor = 0
            self._pending = self._depth

    # -- state -------------------------------------------------------------------------

    @property
    def depth(self) -> int:
        """Events stored and not yet confirmed (in flight, sent or pending)."""
        return self._depth

    @property
    def pending(self) -> int:
        """Events stored and not handed out since the last rewind."""
        return self._pending

    @property
    def dropped(self) -> int:
        """Events dropped because the queue was full, cumulative over the file's life."""
        return self._dropped

    def close(self) -> None:
        with self._lock:
            self._db.close()
