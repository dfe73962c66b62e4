"""Store-and-forward queue of sensor events in a small SQLite file.

Every event is written here before it is handed to MQTT, and deleted only once
the broker has acknowledged it (QoS 1 PUBACK with a success reason code), so
events survive broker outages and agent restarts.  The queue is bounded: past
``max_events`` the oldest events not currently in flight are dropped and
counted (the count is kept in the file, so it is cumulative across restarts).

"In flight" (handed to the MQTT client, PUBACK pending) is per process and lives
in memory only: after a restart every stored event is pending again.  Methods
are thread-safe (sensor callbacks put, the network thread takes and acks).
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
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a committed event survives a process crash; a power cut
            # may lose the last few, in exchange for far fewer fsyncs on an SD card.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._depth = self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
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
            return int(cur.lastrowid or 0)

    def _drop_oldest(self, n: int) -> None:
        rows = self._db.execute(
            "SELECT id FROM events ORDER BY id LIMIT ?", (n + len(self._in_flight),)
        ).fetchall()
        victims = [(r[0],) for r in rows if r[0] not in self._in_flight][:n]
        if not victims:
            return
        self._db.executemany("DELETE FROM events WHERE id = ?", victims)
        self._depth -= len(victims)
        self._dropped += len(victims)
        self._db.execute("UPDATE meta SET value = ? WHERE key = 'dropped'", (self._dropped,))

    # -- consumer side ---------------------------------------------------------------

    def take(self, limit: int) -> list[QueuedEvent]:
        """The oldest ``limit`` events not in flight, in order; they become in flight."""
        if limit <= 0:
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT id, boot, seq, topic, payload FROM events ORDER BY id LIMIT ?",
                (limit + len(self._in_flight),),
            ).fetchall()
            out = [QueuedEvent(*r) for r in rows if r[0] not in self._in_flight][:limit]
            self._in_flight.update(e.id for e in out)
            return out

    def ack(self, ids: Iterable[int]) -> None:
        """Delete delivered events (one transaction for the batch)."""
        batch = [(i,) for i in ids]
        if not batch:
            return
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            before = self._db.total_changes
            self._db.executemany("DELETE FROM events WHERE id = ?", batch)
            self._depth -= self._db.total_changes - before
            self._in_flight.difference_update(i for (i,) in batch)

    def release(self, ids: Iterable[int]) -> None:
        """Make in-flight events pending again (they will be taken again)."""
        with self._lock:
            self._in_flight.difference_update(ids)

    # -- state -------------------------------------------------------------------------

    @property
    def depth(self) -> int:
        """Events stored and not yet acknowledged (in flight or pending)."""
        return self._depth

    @property
    def pending(self) -> int:
        """Events stored and not in flight."""
        return self._depth - len(self._in_flight)

    @property
    def dropped(self) -> int:
        """Events dropped because the queue was full, cumulative over the file's life."""
        return self._dropped

    def close(self) -> None:
        with self._lock:
            self._db.close()
