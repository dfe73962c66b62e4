"""The webhook outbox: subscriptions and deliveries in one SQLite file that survives a restart
and a SIGKILL (a delivery is written before anything is acknowledged: the API's answer, the MQTT
message that caused it).

Per subscription, deliveries go out in ``seq`` order; only the oldest pending one (the *head*) is
ever attempted, so a receiver that is down gets everything in order once it is back.  The file
also keeps the alert conditions that are open (:mod:`collector.notify.conditions`), so a restart
neither repeats nor forgets an agent that went offline.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriptions (
    id TEXT PRIMARY KEY, url TEXT NOT NULL, secret TEXT NOT NULL, events TEXT NOT NULL, hubs TEXT NOT NULL,
    free_occupied_only INTEGER NOT NULL, rate_per_minute INTEGER NOT NULL, description TEXT NOT NULL,
    active INTEGER NOT NULL, created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, subscription TEXT NOT NULL,
    type TEXT NOT NULL, body BLOB NOT NULL, created REAL NOT NULL, status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL, last_error TEXT, last_status INTEGER,
    last_attempt_at REAL, done_at REAL
);
CREATE INDEX IF NOT EXISTS deliveries_head ON deliveries (subscription, status, seq);
CREATE TABLE IF NOT EXISTS conditions (key TEXT PRIMARY KEY, since REAL NOT NULL, data TEXT NOT NULL);
"""
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True)
class Subscription:
    id: str
    url: str
    secret: str
    events: tuple[str, ...]
    hubs: tuple[str, ...]  # empty: every hub
    free_occupied_only: bool
    rate_per_minute: int
    description: str
    active: bool
    created: float

    def wants(self, event_type: str, hub: str | None) -> bool:
        return (self.active and event_type in self.events
                and (not self.hubs or hub is None or hub in self.hubs))


@dataclass(frozen=True)
class Delivery:
    seq: int
    id: str
    subscription: str
    type: str
    body: bytes
    created: float
    status: str
    attempts: int
    next_at: float
    last_error: str | None
    last_status: int | None
    last_attempt_at: float | None
    done_at: float | None


_SUB_COLUMNS = "id, url, secret, events, hubs, free_occupied_only, rate_per_minute, description, active, created"
_DELIVERY_COLUMNS = ("seq, id, subscription, type, body, created, status, attempts, next_at, last_error, "
                     "last_status, last_attempt_at, done_at")


def _subscription(row: tuple) -> Subscription:
    return Subscription(row[0], row[1], row[2], tuple(json.loads(row[3])), tuple(json.loads(row[4])), bool(row[5]),
                        row[6], row[7], bool(row[8]), row[9])


class Outbox:
    """Thread-safe; the file is created on the first write (reads of a missing file find nothing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._subs: list[Subscription] | None = None  # cache for the hot path (zone changes)

    # -- connection ------------------------------------------------------------------------

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        if self._conn is None:
            if not create and not self.path.exists():
                return None
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # WAL: a process kill loses nothing committed
            conn.executescript(SCHEMA)
            self._conn = conn
        return self._conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connect(True)
            assert conn is not None
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            conn = self._connect(False)
            return [] if conn is None else conn.execute(sql, args).fetchall()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- subscriptions ---------------------------------------------------------------------

    def subscriptions(self) -> list[Subscription]:
        with self._lock:
            if self._subs is None:
                self._subs = [_subscription(r) for r in
                              self._read(f"SELECT {_SUB_COLUMNS} FROM subscriptions ORDER BY created, id")]
            return list(self._subs)

    def subscription(self, sub_id: str) -> Subscription | None:
        return next((s for s in self.subscriptions() if s.id == sub_id), None)

    def save_subscription(self, sub: Subscription) -> None:
        with self._tx() as conn:
            conn.execute(f"INSERT OR REPLACE INTO subscriptions ({_SUB_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                         (sub.id, sub.url, sub.secret, json.dumps(list(sub.events)), json.dumps(list(sub.hubs)),
                          int(sub.free_occupied_only), sub.rate_per_minute, sub.description, int(sub.active),
                          sub.created))
            self._subs = None

    def delete_subscription(self, sub_id: str) -> bool:
        with self._tx() as conn:
            gone = conn.execute("DELETE FROM subscriptions WHERE id = ?", (sub_id,)).rowcount
            conn.execute("DELETE FROM deliveries WHERE subscription = ?", (sub_id,))
            self._subs = None
        return bool(gone)

    # -- deliveries ------------------------------------------------------------------------

    def enqueue(self, rows: Iterable[tuple[str, str, str, bytes]], now: float | None = None) -> int:
        """Add deliveries ``(id, subscription, type, body)`` in one transaction, in this order."""
        rows = list(rows)
        if not rows:
            return 0
        now = time.time() if now is None else now
        with self._tx() as conn:
            conn.executemany("INSERT INTO deliveries (id, subscription, type, body, created, status, next_at) "
                             "VALUES (?,?,?,?,?,?,?)", [(*r, now, PENDING, now) for r in rows])
        return len(rows)

    def heads(self) -> list[Delivery]:
        """The oldest pending delivery of each subscription."""
        return [Delivery(*r) for r in self._read(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE seq IN (SELECT MIN(seq) FROM deliveries "
            f"WHERE status = ? GROUP BY subscription) ORDER BY seq", (PENDING,))]

    def attempted(self, delivery: Delivery, now: float, status: int | None, error: str | None,
                  next_at: float | None) -> None:
        """Record an attempt: delivered (``error`` None), retry at ``next_at``, or failed for good."""
        state = DELIVERED if error is None else (PENDING if next_at is not None else FAILED)
        with self._tx() as conn:
            conn.execute("UPDATE deliveries SET status = ?, attempts = attempts + 1, next_at = ?, last_error = ?, "
                         "last_status = ?, last_attempt_at = ?, done_at = ? WHERE seq = ?",
                         (state, next_at if next_at is not None else now, error, status, now,
                          None if state == PENDING else now, delivery.seq))

    def deliveries(self, sub_id: str, limit: int = 50) -> list[Delivery]:
        """Newest first."""
        return [Delivery(*r) for r in self._read(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE subscription = ? ORDER BY seq DESC LIMIT ?",
            (sub_id, limit))]

    def counts(self, sub_id: str) -> dict[str, int]:
        out = {PENDING: 0, DELIVERED: 0, FAILED: 0}
        for status, n in self._read("SELECT status, COUNT(*) FROM deliveries WHERE subscription = ? GROUP BY status",
                                    (sub_id,)):
            out[status] = n
        return out

    def prune(self, before: float) -> int:
        """Drop finished deliveries done before ``before`` (the log keeps the rest)."""
        if self._connect(False) is None:
            return 0
        with self._tx() as conn:
            return conn.execute("DELETE FROM deliveries WHERE status != ? AND done_at < ?", (PENDING, before)).rowcount

    # -- open alert conditions ---------------------------------------------------------------

    def conditions(self) -> dict[str, tuple[float, dict]]:
        rows = self._read("SELECT key, since, data FROM conditions")
        return {k: (since, json.loads(data)) for k, since, data in rows}

    def set_conditions(self, opened: dict[str, tuple[float, dict]], closed: Iterable[str]) -> None:
        closed = list(closed)
        if not opened and not closed:
            return
        with self._tx() as conn:
            conn.executemany("DELETE FROM conditions WHERE key = ?", [(k,) for k in closed])
            conn.executemany("INSERT OR REPLACE INTO conditions (key, since, data) VALUES (?,?,?)",
                             [(k, since, json.dumps(data)) for k, (since, data) in opened.items()])
