"""Read a state-change history into columns, fast.

``Store.changes`` builds one Python object per row (fine for the API's small
ranges, ~0.5 s for a year of a busy hub).  For the SQLite store this module
runs its own SQL on the store's connection instead: SQLite concatenates each
track's times and state codes into one string (``group_concat``), and numpy
parses it in C (``np.fromstring(sep=',')``), so no per-row Python object is
made.  Other backends fall back to ``Store.changes``.  Same semantics either
way: per track the latest change before ``start``, then the changes in
[start, end).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from collector.stats.history import History, TrackKey
from collector.stats.localtime import to_epoch
from collector.store._time import to_us
from collector.store.base import Store
from collector.store.sqlite import SqliteStore

_CODE_SQL = "CASE state WHEN 'free' THEN '0' WHEN 'occupied' THEN '1' ELSE '2' END"


def load_history(store: Store, hub: str, start: datetime, end: datetime, zone: str | None = None) -> History:
    s, e = to_epoch(start), to_epoch(end)
    if isinstance(store, SqliteStore):
        return History.from_arrays(_sqlite_series(store, hub, start, end, zone), s, e)
    return History.from_changes(store.changes(hub, start, end, zone), s, e)


def _sqlite_series(store: SqliteStore, hub: str, start: datetime, end: datetime,
                   zone: str | None) -> dict[TrackKey, tuple[np.ndarray, np.ndarray]]:
    start_us, end_us = to_us(start), to_us(end)
    zone_sql, zone_args = ("AND zone = ?", (zone,)) if zone is not None else ("", ())
    conn = store._conn()  # the store's per-thread connection (WAL: reads never block ingest)
    initial = conn.execute(
        f"SELECT zone, desk, MAX(at_us), {_CODE_SQL} FROM changes "
        f"WHERE hub = ? AND at_us < ? {zone_sql} GROUP BY zone, desk",
        (hub, start_us, *zone_args),
    ).fetchall()
    grouped = conn.execute(
        f"SELECT zone, desk, group_concat(at_us), group_concat(code, '') FROM ("
        f"  SELECT zone, desk, at_us, {_CODE_SQL} AS code FROM changes"
        f"  WHERE hub = ? AND at_us >= ? AND at_us < ? {zone_sql} ORDER BY zone, desk, at_us"
        f") GROUP BY zone, desk",
        (hub, start_us, end_us, *zone_args),
    ).fetchall()
    series: dict[TrackKey, tuple[np.ndarray, np.ndarray]] = {}
    for z, d, at_us, code in initial:
        series[(z, d or None)] = (np.array([at_us / 1e6]), np.array([int(code)], np.int8))
    for z, d, ats, codes in grouped:
        at = np.fromstring(ats, dtype=np.int64, sep=",") / 1e6
        st = np.frombuffer(codes.encode("ascii"), dtype=np.uint8).astype(np.int8) - ord("0")
        before = series.get((z, d or None))
        if before is not None:
            at, st = np.concatenate((before[0], at)), np.concatenate((before[1], st))
        series[(z, d or None)] = (at, st)
    return series
