"""A bounded on-disk spool in front of a store that may be slow or down (InfluxDB).

:class:`SpooledStore` implements :class:`~collector.store.base.Store` (with the
:class:`~collector.store.base.ColumnReads`, :class:`~collector.store.base.ReportsStatus` and
:class:`~collector.store.base.KeepsLearned` capabilities; learned values pass straight through:
the last save wins, so an unavailable store only delays them to the next save).  A write the
inner store refuses with :class:`~collector.store.base.StoreUnavailable` goes to a
SQLite FIFO file instead, and is replayed in order, before any newer write, once the
inner store answers again (by a background drainer thread, or on a later write).
The inner store is idempotent, so a write that reached it although the call failed
(lost response) is harmless when replayed: every record ends up stored once.

Nothing acknowledged is dropped: when the spool is full a write raises
:class:`SpoolFull` (a ``StoreUnavailable``), so the collector does not acknowledge the
MQTT messages and the broker keeps them.  ``high_water`` turns on (with a warning) when
the spool is ``high_water_fraction`` full.  Reads go to the inner store: spooled
records become visible after the replay.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from collector.model import AgentHealth, LearnedState, OccupancyState, ReceivedEvent, StateChange
from collector.store._time import from_us, to_us
from collector.store.base import (
    Columns,
    KeepsLearned,
    Store,
    StoreUnavailable,
    TrackKey,
    change_columns,
    event_times,
)
from hubsense.protocol import SensorKind, SensorState

log = logging.getLogger(__name__)


class SpoolFull(StoreUnavailable):
    """The store is down and the spool is at its bound: the write was not accepted."""


# --- record codecs (compact JSON arrays) ------------------------------------------


def _enc_event(e: ReceivedEvent) -> list:
    return [e.hub, e.agent, e.sensor, e.kind.value, e.state.value, to_us(e.ts), e.seq, e.boot, to_us(e.received)]


def _dec_event(v: list) -> ReceivedEvent:
    hub, agent, sensor, kind, state, ts, seq, boot, received = v
    return ReceivedEvent(hub, agent, sensor, SensorKind(kind), SensorState(state), from_us(ts), seq, boot,
                         from_us(received))


def _enc_change(c: StateChange) -> list:
    return [c.hub, c.zone, c.desk, c.state.value, to_us(c.at), c.reason]


def _dec_change(v: list) -> StateChange:
    hub, zone, desk, state, at, reason = v
    return StateChange(hub, zone, desk, OccupancyState(state), from_us(at), reason)


def _enc_health(h: AgentHealth) -> list:
    return [h.hub, h.agent, h.online, to_us(h.at), h.boot, h.clock_offset_s, h.queue_depth, h.dropped,
            h.interval_s]


def _dec_health(v: list) -> AgentHealth:
    hub, agent, online, at, boot, offset, depth, dropped, interval = v
    return AgentHealth(hub, agent, online, from_us(at), boot, offset, depth, dropped, interval)


_CODECS: dict[str, tuple[Callable[[Any], list], Callable[[list], Any]]] = {
    "event": (_enc_event, _dec_event),
    "change": (_enc_change, _dec_change),
    "health": (_enc_health, _dec_health),
}


class Spool:
    """A FIFO of records in a SQLite file; not thread-safe (SpooledStore locks around it)."""

    def __init__(self, path: Path | str, max_records: int) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_records = max_records
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # spooled records are already acknowledged upstream
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS spool (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, "
            "record TEXT NOT NULL)"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS dead (id INTEGER PRIMARY KEY, kind TEXT, record TEXT, "
                         "error TEXT)")
        self.depth: int = self._db.execute("SELECT COUNT(*) FROM spool").fetchone()[0]

    def append(self, kind: str, records: Sequence[Any]) -> None:
        if self.depth + len(records) > self.max_records:
            raise SpoolFull(f"spool {self.path} holds {self.depth} of {self.max_records} records; "
                            f"{len(records)} more do not fit")
        encode = _CODECS[kind][0]
        rows = [(kind, json.dumps(encode(r), separators=(",", ":"))) for r in records]
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT INTO spool (kind, record) VALUES (?, ?)", rows)
        self.depth += len(rows)

    def head(self, limit: int) -> list[tuple[int, str, Any]]:
        """The oldest ``limit`` entries as (id, kind, decoded record)."""
        rows = self._db.execute("SELECT id, kind, record FROM spool ORDER BY id LIMIT ?", (limit,)).fetchall()
        return [(i, kind, _CODECS[kind][1](json.loads(rec))) for i, kind, rec in rows]

    def remove_through(self, last_id: int) -> None:
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            n = self._db.execute("DELETE FROM spool WHERE id <= ?", (last_id,)).rowcount
        self.depth -= n

    def bury_through(self, last_id: int, error: str) -> None:
        """Move entries up to ``last_id`` to the ``dead`` table (kept for inspection, not replayed)."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("INSERT INTO dead SELECT id, kind, record, ? FROM spool WHERE id <= ?",
                             (error, last_id))
            n = self._db.execute("DELETE FROM spool WHERE id <= ?", (last_id,)).rowcount
        self.depth -= n

    def dead_count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM dead").fetchone()[0]

    def close(self) -> None:
        self._db.close()


class SpooledStore:
    """A :class:`Store` that spools writes while ``inner`` is unavailable.

    Locks: ``_write_lock`` orders writers (a direct write to ``inner`` happens only while
    the spool is empty); ``_spool_lock`` guards the spool file and is held only briefly;
    ``_drain_lock`` lets one replay run at a time.  With the background drainer
    (``drain_interval_s``), a write never waits for a down store once the first failure
    is seen: it goes to the spool and the drainer retries every ``retry_s``.  Without
    it, writes replay the spool themselves when ``retry_s`` has passed.
    """

    def __init__(
        self,
        inner: Store,
        spool_path: Path | str,
        max_events: int = 1_000_000,
        *,
        retry_s: float = 1.0,
        high_water_fraction: float = 0.8,
        drain_batch: int = 5000,
        drain_interval_s: float | None = 1.0,
    ) -> None:
        self.inner = inner
        self.spool = Spool(spool_path, max_events)
        self.retry_s = retry_s
        self.high_water_mark = max(1, int(max_events * high_water_fraction))
        self.high_water = False
        self.drain_batch = drain_batch
        self.last_error: str | None = None
        self._next_try = 0.0
        self._write_lock = threading.Lock()
        self._spool_lock = threading.Lock()
        self._drain_lock = threading.Lock()
        self._stop = threading.Event()
        self._drainer: threading.Thread | None = None
        self._update_high_water()
        if drain_interval_s is not None:
            self._drainer = threading.Thread(
                target=self._drain_loop, args=(drain_interval_s,), name="spool-drainer", daemon=True
            )
            self._drainer.start()

    @property
    def depth(self) -> int:
        """Records waiting in the spool."""
        return self.spool.depth

    def status(self) -> dict[str, object]:
        """For health endpoints and metrics (:class:`~collector.store.base.ReportsStatus`)."""
        return {
            "depth": self.spool.depth,
            "max": self.spool.max_records,
            "high_water": self.high_water,
            "store_available": self.last_error is None,
            "last_error": self.last_error,
        }

    # --- writes --------------------------------------------------------------

    def add_events(self, events: Sequence[ReceivedEvent]) -> int:
        """Returns the inner store's count of new events, or ``len(events)`` when spooled
        (duplicates among spooled events are only removed at replay)."""
        result = self._write("event", events, self.inner.add_events)
        return len(events) if result is _SPOOLED else result

    def add_changes(self, changes: Sequence[StateChange]) -> None:
        self._write("change", changes, self.inner.add_changes)

    def add_health(self, records: Sequence[AgentHealth]) -> None:
        self._write("health", records, self.inner.add_health)

    def _write(self, kind: str, records: Sequence[Any], write: Callable[[Any], Any]) -> Any:
        if not records:
            return 0
        with self._write_lock:
            if self.spool.depth and self._drainer is None and self._retry_due():
                self._drain()
            if not self.spool.depth and self._retry_due():
                try:
                    return write(records)
                except StoreUnavailable as exc:
                    self._failed(exc)
            with self._spool_lock:
                self.spool.append(kind, records)
                self._update_high_water()
            return _SPOOLED

    # --- replay --------------------------------------------------------------

    def drain(self) -> int:
        """Replay spooled records now (ignoring the retry delay); returns how many remain."""
        self._next_try = 0.0
        self._drain()
        return self.spool.depth

    def _drain(self) -> None:
        """Replay the spool head first, in order, until it is empty or the store fails."""
        writers = {"event": self.inner.add_events, "change": self.inner.add_changes,
                   "health": self.inner.add_health}
        with self._drain_lock:
            while self.spool.depth and not self._stop.is_set():
                with self._spool_lock:
                    entries = self.spool.head(self.drain_batch)
                for kind, last_id, records in _runs(entries):
                    try:
                        writers[kind](records)
                    except StoreUnavailable as exc:
                        self._failed(exc)
                        return
                    except Exception as exc:  # bad data: keep it, but stop it blocking the queue
                        log.exception("spooled %s records rejected by the store; moved to the dead table", kind)
                        with self._spool_lock:
                            self.spool.bury_through(last_id, repr(exc))
                        continue
                    with self._spool_lock:
                        self.spool.remove_through(last_id)
                        self._update_high_water()
            if self.last_error is not None and not self.spool.depth:
                log.info("store is back; spool drained")
                self.last_error = None

    def _drain_loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            if self.spool.depth and self._retry_due():
                self._drain()

    def _retry_due(self) -> bool:
        return time.monotonic() >= self._next_try

    def _failed(self, exc: StoreUnavailable) -> None:
        if self.last_error is None:
            log.warning("store unavailable, spooling writes to %s: %s", self.spool.path, exc)
        self.last_error = str(exc)
        self._next_try = time.monotonic() + self.retry_s

    def _update_high_water(self) -> None:
        above = self.spool.depth >= self.high_water_mark
        if above and not self.high_water:
            log.warning("spool %s is %d / %d records full", self.spool.path, self.spool.depth,
                        self.spool.max_records)
        self.high_water = above

    # --- reads (inner store) ------------------------------------------------------

    def changes(self, hub: str, start: datetime, end: datetime, zone: str | None = None) -> list[StateChange]:
        return self.inner.changes(hub, start, end, zone)

    def events(
        self, hub: str | None = None, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[ReceivedEvent]:
        return self.inner.events(hub, start, end)

    def health(
        self, hub: str | None = None, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[AgentHealth]:
        return self.inner.health(hub, start, end)

    def event_count(self, hub: str | None = None) -> int:
        return self.inner.event_count(hub)

    def latest_health(self, hub: str) -> list[AgentHealth]:
        return self.inner.latest_health(hub)

    def change_columns(self, hub: str, tracks: Sequence[TrackKey], start: datetime,
                       end: datetime) -> dict[TrackKey, Columns]:
        return change_columns(self.inner, hub, tracks, start, end)

    def event_times(self, hub: str, kind: SensorKind, state: SensorState, start: datetime,
                    end: datetime) -> dict[str, np.ndarray]:
        return event_times(self.inner, hub, kind, state, start, end)

    def prune(self, now: datetime) -> dict[str, int]:
        return self.inner.prune(now)

    def save_learned(self, state: LearnedState) -> None:
        """Straight to the inner store (StoreUnavailable if it is down: the next save brings it)."""
        if isinstance(self.inner, KeepsLearned):
            self.inner.save_learned(state)

    def load_learned(self, hub: str) -> LearnedState | None:
        return self.inner.load_learned(hub) if isinstance(self.inner, KeepsLearned) else None

    def close(self) -> None:
        """Stop the drainer and close both stores; unreplayed records stay in the spool file."""
        self._stop.set()
        if self._drainer is not None:
            self._drainer.join()
        with self._write_lock, self._drain_lock, self._spool_lock:
            self.spool.close()
            self.inner.close()


_SPOOLED = object()


def _runs(entries: list[tuple[int, str, Any]]) -> Iterator[tuple[str, int, list[Any]]]:
    """Group consecutive entries of one kind: (kind, last id, records), in spool order."""
    run: list[Any] = []
    kind, last_id = "", 0
    for entry_id, entry_kind, record in entries:
        if run and entry_kind != kind:
            yield kind, last_id, run
            run = []
        kind, last_id = entry_kind, entry_id
        run.append(record)
    if run:
        yield kind, last_id, run
