"""SQLite store: the default backend, one file in WAL mode.

Times are INTEGER epoch microseconds (exact, fast to compare and index).
Concurrency: each thread gets its own connection (WAL lets readers run while
the ingest thread writes); writes are serialised by a lock so that the
``total_changes`` difference counted by :meth:`SqliteStore.add_events` is
exactly this call's inserts.  See docs/storage.md for the schema.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import numpy as np

from collector.model import STATE_CODE, AgentHealth, LearnedState, OccupancyState, ReceivedEvent, StateChange
from collector.store._time import from_us, to_us
from collector.store.base import Columns, TrackKey, sort_columns
from hubsense.protocol import SensorKind, SensorState

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id          INTEGER PRIMARY KEY,
    hub         TEXT    NOT NULL,
    agent       TEXT    NOT NULL,
    sensor      TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    ts_us       INTEGER NOT NULL,   -- agent clock
    seq         INTEGER NOT NULL,
    boot        TEXT    NOT NULL,
    received_us INTEGER NOT NULL,   -- collector clock
    UNIQUE (agent, boot, seq)
);
CREATE INDEX IF NOT EXISTS events_received ON events (received_us);
CREATE INDEX IF NOT EXISTS events_hub_received ON events (hub, received_us);
CREATE TABLE IF NOT EXISTS changes (
    hub    TEXT    NOT NULL,
    zone   TEXT    NOT NULL,
    desk   TEXT    NOT NULL,        -- '' for the zone itself
    at_us  INTEGER NOT NULL,
    state  TEXT    NOT NULL,
    reason TEXT    NOT NULL,
    PRIMARY KEY (hub, zone, desk, at_us)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS changes_hub_at ON changes (hub, at_us);
CREATE INDEX IF NOT EXISTS changes_at ON changes (at_us);
CREATE TABLE IF NOT EXISTS health (
    hub            TEXT    NOT NULL,
    agent          TEXT    NOT NULL,
    at_us          INTEGER NOT NULL,
    online         INTEGER NOT NULL,
    boot           TEXT    NOT NULL,
    clock_offset_s REAL    NOT NULL,
    queue_depth    INTEGER NOT NULL,
    dropped        INTEGER NOT NULL,
    interval_s     REAL    NOT NULL,
    PRIMARY KEY (hub, agent, at_us)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS health_hub_at ON health (hub, at_us);
CREATE TABLE IF NOT EXISTS learned (
    hub    TEXT    PRIMARY KEY,
    at_us  INTEGER NOT NULL,
    zones  TEXT    NOT NULL         -- JSON: zone id -> what the zone learned
) WITHOUT ROWID;
"""

_KINDS = {k.value: k for k in SensorKind}
_STATES = {s.value: s for s in SensorState}
_OCC = {s.value: s for s in OccupancyState}
_EVENT_COLS = "hub, agent, sensor, kind, state, ts_us, seq, boot, received_us"
_HEALTH_COLS = "hub, agent, at_us, online, boot, clock_offset_s, queue_depth, dropped, interval_s"
_FETCH = 2000

DEFAULT_EVENTS_RETENTION_DAYS = 90
DEFAULT_CHANGES_RETENTION_DAYS = 3650
DEFAULT_HEALTH_RETENTION_DAYS = 30


_WHERE = "FROM changes WHERE hub = ?1 AND zone = ?2 AND desk = ?3"
# one statement per track, so the state before start and the changes after it come from one snapshot
_TRACK_SQL = (
    f"SELECT (SELECT at_us || ',' || state {_WHERE} AND at_us < ?4 ORDER BY at_us DESC LIMIT 1), "
    f"group_concat(at_us), group_concat(state) {_WHERE} AND at_us >= ?4 AND at_us < ?5"
)
_EVENT_TIMES_SQL = (
    "SELECT sensor, group_concat(ts_us) FROM events WHERE hub = ? AND received_us >= ? AND received_us < ? "
    "AND kind = ? AND state = ? GROUP BY sensor"
)
_UNKNOWN = STATE_CODE[OccupancyState.UNKNOWN]
_FIRST_LETTER = np.full(256, _UNKNOWN, np.int8)  # state code by the first letter of its name
for _state, _code in STATE_CODE.items():
    _FIRST_LETTER[ord(_state.value[0])] = _code
_CODE_BY_NAME = {s.value: c for s, c in STATE_CODE.items()}


class SqliteStore:
    """:class:`collector.store.base.Store` on one SQLite file, with the
    :class:`~collector.store.base.ColumnReads` and :class:`~collector.store.base.KeepsLearned` capabilities.

    Retention (days; ``None`` keeps forever) is applied by :meth:`prune`, which the
    collector calls periodically.  The newest health record of each agent is never pruned.
    """

    def __init__(
        self,
        path: Path | str,
        events_retention_days: float | None = DEFAULT_EVENTS_RETENTION_DAYS,
        changes_retention_days: float | None = DEFAULT_CHANGES_RETENTION_DAYS,
        health_retention_days: float | None = DEFAULT_HEALTH_RETENTION_DAYS,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.retention = {
            "events": events_retention_days,
            "changes": changes_retention_days,
            "health": health_retention_days,
        }
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._readers: ThreadPoolExecutor | None = None
        self._closed = False
        conn = self._conn()
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(SCHEMA)

    # --- connections ---------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise RuntimeError("store is closed")
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    def _write(self, sql: str, rows: list[tuple]) -> int:
        """Run ``executemany`` in one transaction; return the number of rows changed."""
        if not rows:
            return 0
        conn = self._conn()
        with self._write_lock:
            before = conn.total_changes
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(sql, rows)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return conn.total_changes - before

    # --- writes --------------------------------------------------------------

    def add_events(self, events: Sequence[ReceivedEvent]) -> int:
        rows = [
            (e.hub, e.agent, e.sensor, e.kind.value, e.state.value, to_us(e.ts), e.seq, e.boot,
             to_us(e.received))
            for e in events
        ]
        return self._write(f"INSERT OR IGNORE INTO events ({_EVENT_COLS}) VALUES (?,?,?,?,?,?,?,?,?)", rows)

    def add_changes(self, changes: Sequence[StateChange]) -> None:
        """Idempotent; a zone / desk has one state per instant (the last write wins)."""
        rows = [(c.hub, c.zone, c.desk or "", to_us(c.at), c.state.value, c.reason) for c in changes]
        self._write("INSERT OR REPLACE INTO changes VALUES (?,?,?,?,?,?)", rows)

    def add_health(self, records: Sequence[AgentHealth]) -> None:
        """Idempotent on (hub, agent, at); the last write wins."""
        rows = [
            (h.hub, h.agent, to_us(h.at), int(h.online), h.boot, h.clock_offset_s, h.queue_depth, h.dropped,
             h.interval_s)
            for h in records
        ]
        self._write(f"INSERT OR REPLACE INTO health ({_HEALTH_COLS}) VALUES (?,?,?,?,?,?,?,?,?)", rows)

    # --- what the engines learned (KeepsLearned) -------------------------------------------

    def save_learned(self, state: LearnedState) -> None:
        self._write("INSERT OR REPLACE INTO learned VALUES (?,?,?)",
                    [(state.hub, to_us(state.at), json.dumps(state.zones, separators=(",", ":")))])

    def load_learned(self, hub: str) -> LearnedState | None:
        row = self._conn().execute("SELECT at_us, zones FROM learned WHERE hub = ?", (hub,)).fetchone()
        return None if row is None else LearnedState(hub, from_us(row[0]), json.loads(row[1]))

    # --- reads ---------------------------------------------------------------

    def changes(
        self, hub: str, start: datetime, end: datetime, zone: str | None = None
    ) -> list[StateChange]:
        start_us, end_us = to_us(start), to_us(end)
        zone_sql, zone_args = ("AND zone = ?", (zone,)) if zone is not None else ("", ())
        # SQLite: bare columns next to MAX() come from the row holding the maximum.
        initial = self._conn().execute(
            f"SELECT zone, desk, MAX(at_us), state, reason FROM changes "
            f"WHERE hub = ? AND at_us < ? {zone_sql} GROUP BY zone, desk",
            (hub, start_us, *zone_args),
        ).fetchall()
        in_range = self._conn().execute(
            f"SELECT zone, desk, at_us, state, reason FROM changes "
            f"WHERE hub = ? AND at_us >= ? AND at_us < ? {zone_sql}",
            (hub, start_us, end_us, *zone_args),
        ).fetchall()
        rows = sorted(initial + in_range, key=lambda r: (r[2], r[0], r[1]))
        return [StateChange(hub, z, d or None, _OCC[s], from_us(at), reason) for z, d, at, s, reason in rows]

    def events(
        self, hub: str | None = None, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[ReceivedEvent]:
        where, args = _event_filter(hub, start, end)
        cur = self._conn().execute(
            f"SELECT {_EVENT_COLS} FROM events {where} ORDER BY received_us, agent, boot, seq", args
        )
        while rows := cur.fetchmany(_FETCH):
            for h, a, sensor, kind, state, ts, seq, boot, rec in rows:
                yield ReceivedEvent(h, a, sensor, _KINDS[kind], _STATES[state], from_us(ts), seq, boot,
                                    from_us(rec))

    def event_count(self, hub: str | None = None) -> int:
        where, args = _event_filter(hub, None, None)
        return self._conn().execute(f"SELECT COUNT(*) FROM events {where}", args).fetchone()[0]

    def health(
        self, hub: str | None = None, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[AgentHealth]:
        where, args = _range_filter(hub, start, end, "at_us")
        cur = self._conn().execute(f"SELECT {_HEALTH_COLS} FROM health {where} ORDER BY at_us, hub, agent", args)
        while rows := cur.fetchmany(_FETCH):
            yield from map(_health_record, rows)

    def latest_health(self, hub: str) -> list[AgentHealth]:
        # SQLite: bare columns next to MAX() come from the row holding the maximum.
        cols = _HEALTH_COLS.replace("at_us", "MAX(at_us)")
        rows = self._conn().execute(
            f"SELECT {cols} FROM health WHERE hub = ? GROUP BY agent ORDER BY agent", (hub,)
        ).fetchall()
        return [_health_record(r) for r in rows]

    # --- maintenance ---------------------------------------------------------

    def prune(self, now: datetime) -> dict[str, int]:
        """Delete records older than their retention period; returns rows deleted per table."""
        deleted = {}
        for table, days in self.retention.items():
            if days is None:
                deleted[table] = 0
                continue
            cutoff = to_us(now - timedelta(days=days))
            if table == "events":
                sql = "DELETE FROM events WHERE received_us < ?"
            elif table == "changes":
                sql = "DELETE FROM changes WHERE at_us < ?"
            else:  # keep each agent's newest record, however old
                sql = (
                    "DELETE FROM health WHERE at_us < ? AND (hub, agent, at_us) NOT IN "
                    "(SELECT hub, agent, MAX(at_us) FROM health GROUP BY hub, agent)"
                )
            deleted[table] = self._write(sql, [(cutoff,)])
        return deleted

    # --- columns for the statistics (ColumnReads) -------------------------------------------

    def change_columns(self, hub: str, tracks: Sequence[TrackKey], start: datetime,
                       end: datetime) -> dict[TrackKey, Columns]:
        """One statement per track over the primary key (hub, zone, desk, at_us): SQLite concatenates
        the track's times and states into two strings (``group_concat``) and numpy parses them in C,
        so no per-row Python object is made (``changes`` takes ~1 s for a year of a busy hub).
        Tracks are read on two threads (sqlite3 releases the GIL while a statement runs)."""
        read = partial(self._track_columns, hub, start_us=to_us(start), end_us=to_us(end))
        series = dict(zip(tracks, self._reader_pool().map(read, tracks), strict=True))
        return {k: v for k, v in series.items() if len(v[0])}

    def _track_columns(self, hub: str, key: TrackKey, start_us: int, end_us: int) -> Columns:
        zone, desk = key[0], key[1] or ""
        before, ats, states = self._conn().execute(_TRACK_SQL, (hub, zone, desk, start_us, end_us)).fetchone()
        at = np.fromstring(ats, dtype=np.int64, sep=",") if ats else np.zeros(0, np.int64)
        code = _codes(states) if states else np.zeros(0, np.int8)
        if before is not None:
            before_us, before_state = before.split(",")
            at = np.concatenate(([int(before_us)], at))
            code = np.concatenate(([_CODE_BY_NAME.get(before_state, _UNKNOWN)], code)).astype(np.int8)
        return sort_columns(at / 1e6, code)  # group_concat follows the primary-key scan; make sure

    def _reader_pool(self) -> ThreadPoolExecutor:
        with self._conns_lock:
            if self._readers is None:
                self._readers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sqlite-columns")
            return self._readers

    def event_times(self, hub: str, kind: SensorKind, state: SensorState, start: datetime,
                    end: datetime) -> dict[str, np.ndarray]:
        """One grouped query, no Python object per event."""
        rows = self._conn().execute(
            _EVENT_TIMES_SQL, (hub, to_us(start), to_us(end), kind.value, state.value)).fetchall()
        return {sensor: np.sort(np.fromstring(ts, dtype=np.int64, sep=",") / 1e6) for sensor, ts in rows}

    def backup(self, target: Path | str) -> None:
        """A consistent copy of the database (online; SQLite's backup API)."""
        dest = sqlite3.connect(target)
        try:
            self._conn().backup(dest)
        finally:
            dest.close()

    def close(self) -> None:
        self._closed = True
        with self._conns_lock:
            readers, self._readers = self._readers, None
        if readers is not None:
            readers.shutdown(wait=True)
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            conn.close()
        self._local = threading.local()


def _health_record(row: tuple) -> AgentHealth:
    hub, agent, at, online, boot, offset, depth, dropped, interval = row
    return AgentHealth(hub, agent, bool(online), from_us(at), boot, offset, depth, dropped, interval)


def _event_filter(hub: str | None, start: datetime | None, end: datetime | None) -> tuple[str, tuple]:
    return _range_filter(hub, start, end, "received_us")


def _range_filter(
    hub: str | None, start: datetime | None, end: datetime | None, column: str
) -> tuple[str, tuple]:
    clauses: list[str] = []
    args: list[object] = []
    if hub is not None:
        clauses.append("hub = ?")
        args.append(hub)
    if start is not None:
        clauses.append(f"{column} >= ?")
        args.append(to_us(start))
    if end is not None:
        clauses.append(f"{column} < ?")
        args.append(to_us(end))
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), tuple(args)


def _codes(states: str) -> np.ndarray:
    """State codes from 'free,occupied,unknown,...' by the first letter of each item."""
    raw = np.frombuffer(states.encode("ascii"), dtype=np.uint8)
    firsts = np.concatenate(([0], np.flatnonzero(raw == ord(",")) + 1))
    return _FIRST_LETTER[raw[firsts]]
