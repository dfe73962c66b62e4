"""Read a state-change history into columns, fast.

``Store.changes`` builds one Python object per row (~1 s for a year of a busy
hub).  For the SQLite store this module runs its own SQL on the store's
per-thread connections instead, one statement per track (zone or desk) over the
primary key (hub, zone, desk, at_us): SQLite concatenates the track's times and
states into two strings (``group_concat``) and numpy parses them in C, so no
per-row Python object is made.  Tracks are read on two threads (sqlite3 releases
the GIL while a statement runs).  Other backends fall back to ``Store.changes``.
Same semantics either way: per track the latest change before ``start``, then
the changes in [start, end).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import numpy as np

from collector.stats.doors import door_openings
from collector.stats.history import FREE, OCCUPIED, UNKNOWN, History, TrackKey
from collector.stats.localtime import to_epoch
from collector.store._time import to_us
from collector.store.base import Store
from collector.store.sqlite import SqliteStore
from hubsense.config import Hub
from hubsense.protocol import SensorKind

_WHERE = "FROM changes WHERE hub = ?1 AND zone = ?2 AND desk = ?3"
# one statement per track, so the state before start and the changes after it come from one snapshot
_TRACK_SQL = (
    f"SELECT (SELECT at_us || ',' || state {_WHERE} AND at_us < ?4 ORDER BY at_us DESC LIMIT 1), "
    f"group_concat(at_us), group_concat(state) {_WHERE} AND at_us >= ?4 AND at_us < ?5"
)
_FIRST_LETTER = np.full(256, UNKNOWN, np.int8)
_FIRST_LETTER[ord("f")], _FIRST_LETTER[ord("o")] = FREE, OCCUPIED
_STATE_CODE = {"free": FREE, "occupied": OCCUPIED, "unknown": UNKNOWN}
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="stats-load")


def hub_tracks(hub: Hub, zone: str | None = None) -> list[TrackKey]:
    """Every track of the hub config (each zone, and each desk of a desk area)."""
    zones = [z for z in hub.zones if zone is None or z.id == zone]
    return [(z.id, None) for z in zones] + [(z.id, d.id) for z in zones for d in z.desks]


def load_history(store: Store, hub: Hub, start: datetime, end: datetime, now: datetime,
                 zone: str | None = None) -> History:
    """The history of the hub's configured tracks (of one zone if given) for [start, end), as
    observed at ``now`` (nothing after it is known; changes stamped later are not read)."""
    s, e = to_epoch(start), to_epoch(end)
    end = min(end, max(start, now))
    tracks = hub_tracks(hub, zone)
    if isinstance(store, SqliteStore):
        args = [(store, hub.id, key, to_us(start), to_us(end)) for key in tracks]
        series = dict(zip(tracks, _POOL.map(_read_track, *zip(*args, strict=True)), strict=True))
        return History(s, e, {k: v for k, v in series.items() if len(v[0])}, to_epoch(now))
    wanted = set(tracks)
    changes = [c for c in store.changes(hub.id, start, end, zone) if (c.zone, c.desk) in wanted]
    return History.from_changes(changes, s, e, to_epoch(now))


def _read_track(store: SqliteStore, hub: str, key: TrackKey, start_us: int,
                end_us: int) -> tuple[np.ndarray, np.ndarray]:
    """(epoch seconds, state codes) of one track, sorted by time."""
    conn = store._conn()  # the store's own per-thread connection (WAL: reads never block ingest)
    zone, desk = key[0], key[1] or ""
    before, ats, states = conn.execute(_TRACK_SQL, (hub, zone, desk, start_us, end_us)).fetchone()
    at = np.fromstring(ats, dtype=np.int64, sep=",") if ats else np.zeros(0, np.int64)
    code = _codes(states) if states else np.zeros(0, np.int8)
    if before is not None:
        before_us, before_state = before.split(",")
        at = np.concatenate(([int(before_us)], at))
        code = np.concatenate(([_STATE_CODE.get(before_state, UNKNOWN)], code)).astype(np.int8)
    order = np.argsort(at, kind="stable")  # group_concat follows the primary-key scan; make sure
    return at[order] / 1e6, code[order]


def load_door_openings(store: Store, hub: Hub, start: datetime, end: datetime,
                       slack: timedelta = timedelta(hours=1)) -> dict[str, np.ndarray]:
    """Epoch seconds (agent clock) of door openings per room zone.

    Events are selected by receive time widened by ``slack`` (late delivery, clock
    skew); callers cut on the agent clock.  SQLite: one grouped query, no Python
    object per event; other backends: ``Store.events``.
    """
    lo, hi = start - slack, end + slack
    if not isinstance(store, SqliteStore):
        return door_openings(hub, store.events(hub.id, lo, hi))
    rows = store._conn().execute(
        "SELECT sensor, group_concat(ts_us) FROM events WHERE hub = ? AND received_us >= ? AND received_us < ? "
        "AND kind = 'door' AND state = 'open' GROUP BY sensor",
        (hub.id, to_us(lo), to_us(hi)),
    ).fetchall()
    by_sensor = {sensor: np.fromstring(ts, dtype=np.int64, sep=",") / 1e6 for sensor, ts in rows}
    out: dict[str, list[np.ndarray]] = {}
    for _, sensor in hub.sensors().values():
        if sensor.kind is SensorKind.DOOR:
            out.setdefault(sensor.zone, []).append(by_sensor.get(sensor.id, np.zeros(0)))
    return {zone: np.sort(np.concatenate(parts)) for zone, parts in out.items()}


def _codes(states: str) -> np.ndarray:
    """State codes from 'free,occupied,unknown,...' by the first letter of each item."""
    raw = np.frombuffer(states.encode("ascii"), dtype=np.uint8)
    firsts = np.concatenate(([0], np.flatnonzero(raw == ord(",")) + 1))
    return _FIRST_LETTER[raw[firsts]]


