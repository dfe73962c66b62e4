"""InfluxDB store over the v1 HTTP API (InfluxDB 1.x, 2.x v1-compat, 3 Core).

Measurements (see docs/storage.md):

* ``sensor_event``  tags hub, agent, sensor, kind; fields state, seq, boot, received_us.
  Point time = agent clock ``ts`` in ns **plus ``(seq + crc32(boot)) % 1000`` ns**.
  InfluxDB keeps one point per (measurement, tag set, time), so a redelivered event
  (same agent, sensor, ts, boot, seq) overwrites itself instead of adding a duplicate;
  the offset keeps distinct events of one sensor in the same microsecond apart.
  ``ts`` is recovered as ``time // 1000`` µs.
* ``zone_state``    tags hub, zone, desk (absent for the zone itself); fields state, reason.
* ``agent_health``  tags hub, agent; fields online, boot, clock_offset_s, queue_depth, dropped,
  interval_s.
* ``engine_learned`` tags hub, zone; fields learned (what the zone learned, JSON), saved_us.  One
  point per zone and UTC day (point time = the day's midnight), overwritten by every save that day,
  in the long retention policy: a year is 365 small points per zone.

Only ids are tags (low cardinality); seq and boot are fields.  Queries are plain
range scans; ordering and the "state at start" logic happen in Python.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta

from collector.model import AgentHealth, LearnedState, OccupancyState, ReceivedEvent, StateChange
from collector.store._time import from_us, to_us
from collector.store.influx_http import (
    InfluxError,
    InfluxHttp,
    InfluxStatus,
    field_str,
    field_text,
    quote_ident,
    quote_str,
    tag,
)
from hubsense.protocol import MAX_CLOCK_SKEW, SensorKind, SensorState

log = logging.getLogger(__name__)

_KINDS = {k.value: k for k in SensorKind}
_STATES = {s.value: s for s in SensorState}
_OCC = {s.value: s for s in OccupancyState}
_FAR_PAST_NS = -(2**62)
READ_WINDOW_US = 7 * 86_400_000_000  # events() / health() read a week at a time


class InfluxStore:
    """:class:`collector.store.base.Store` on an InfluxDB database.

    ``raw_rp`` holds raw events and agent health, ``long_rp`` state changes (``None``: the
    database's default policy).  With ``create`` the database and ``raw_rp`` (duration
    ``events_retention_days``) are created on first use (InfluxDB 1.x; on 2.x / 3 Core
    this fails harmlessly and the DBRP mapping must exist, see docs/storage.md).
    ``clock_margin`` bounds |agent ts - receive time|: :meth:`events` widens its scan of
    the ts-keyed points by it.
    """

    def __init__(
        self,
        url: str,
        database: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        raw_rp: str | None = None,
        long_rp: str | None = None,
        events_retention_days: float | None = 90,
        create: bool = True,
        batch_size: int = 5000,
        timeout_s: float = 10.0,
        clock_margin: timedelta = MAX_CLOCK_SKEW,
    ) -> None:
        self.http = InfluxHttp(url, database, token, username, password, timeout_s)
        self.database = database
        self.raw_rp = raw_rp
        self.long_rp = long_rp
        self.events_retention_days = events_retention_days
        self.batch_size = batch_size
        self.clock_margin_ns = int(clock_margin.total_seconds() * 1e9)
        self._ready = not create
        self._ready_lock = threading.Lock()

    # --- setup ---------------------------------------------------------------

    def ensure_database(self) -> None:
        """Create the database and the raw retention policy once (idempotent).

        Raises StoreUnavailable while the server is unreachable; an InfluxQL error
        (2.x / 3 Core do not support CREATE DATABASE) is logged and ignored."""
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            db = quote_ident(self.database)
            try:
                self.http.command(f"CREATE DATABASE {db}")
                if self.raw_rp:
                    self._ensure_rp(self.raw_rp, self.events_retention_days)
            except (InfluxError, InfluxStatus) as exc:
                if isinstance(exc, InfluxStatus) and exc.status >= 500:
                    raise
                log.warning("could not create InfluxDB database / retention policy (%s); assuming they "
                            "exist (InfluxDB 2.x / 3 Core: create a bucket and DBRP mapping)", exc)
            self._ready = True

    def _ensure_rp(self, rp: str, days: float | None) -> None:
        duration = "INF" if days is None else f"{max(1, round(days * 24))}h"
        target = f"{quote_ident(rp)} ON {quote_ident(self.database)} DURATION {duration} REPLICATION 1"
        try:
            self.http.command(f"CREATE RETENTION POLICY {target}")
        except InfluxError:  # exists with another duration
            self.http.command(f"ALTER RETENTION POLICY {target}")

    def _query(self, q: str) -> Iterator[dict[str, object]]:
        """Run a read; a store that was never written still answers (empty), not 'not found'."""
        self.ensure_database()
        return self.http.query(q)

    def _from(self, measurement: str, rp: str | None) -> str:
        return f"{quote_ident(rp)}.{quote_ident(measurement)}" if rp else quote_ident(measurement)

    def _write(self, lines: list[str], rp: str | None) -> None:
        self.ensure_database()
        for i in range(0, len(lines), self.batch_size):
            self.http.write(lines[i : i + self.batch_size], rp)

    # --- writes --------------------------------------------------------------

    def add_events(self, events: Sequence[ReceivedEvent]) -> int:
        """Write the events not stored yet; returns how many that was.

        One range query over the batch's point times finds the stored ones, so a
        redelivery keeps the first receive time (as in SQLite).  Should it miss one, the
        write is still idempotent: the point is overwritten, not duplicated."""
        unique: dict[tuple[str, str, int], ReceivedEvent] = {}
        for e in events:
            unique.setdefault(e.key, e)
        if not unique:
            return 0
        self.ensure_database()
        existing = self._existing_keys(list(unique.values()))
        new = [e for k, e in unique.items() if k not in existing]
        self._write([_event_line(e) for e in new], self.raw_rp)
        return len(new)

    def _existing_keys(self, batch: list[ReceivedEvent]) -> set[tuple[str, str, int]]:
        times = [_event_time_ns(e) for e in batch]
        agents = " OR ".join(f"agent = {quote_str(a)}" for a in sorted({e.agent for e in batch}))
        rows = self._query(
            f"SELECT boot, seq, agent FROM {self._from('sensor_event', self.raw_rp)} "
            f"WHERE time >= {min(times)} AND time <= {max(times)} AND ({agents})"
        )
        return {(r["agent"], r["boot"], r["seq"]) for r in rows}

    def add_changes(self, changes: Sequence[StateChange]) -> None:
        """Idempotent: one point per (hub, zone, desk, at); the last write wins."""
        self._write([_change_line(c) for c in changes], self.long_rp)

    def add_health(self, records: Sequence[AgentHealth]) -> None:
        self._write([_health_line(h) for h in records], self.raw_rp)

    # --- reads ---------------------------------------------------------------

    def changes(
        self, hub: str, start: datetime, end: datetime, zone: str | None = None
    ) -> list[StateChange]:
        start_ns, end_ns = to_us(start) * 1000, to_us(end) * 1000
        where = f"hub = {quote_str(hub)}" + (f" AND zone = {quote_str(zone)}" if zone is not None else "")
        src = self._from("zone_state", self.long_rp)
        initial = self._query(
            f"SELECT state, reason FROM {src} WHERE {where} AND time >= {_FAR_PAST_NS} "
            f"AND time < {start_ns} GROUP BY zone, desk ORDER BY time DESC LIMIT 1"
        )
        in_range = self._query(
            f"SELECT state, reason FROM {src} WHERE {where} AND time >= {start_ns} AND time < {end_ns} "
            "GROUP BY zone, desk"
        )
        rows = sorted([*initial, *in_range], key=lambda r: (r["time"], r["zone"], r.get("desk") or ""))
        return [
            StateChange(hub, r["zone"], r.get("desk") or None, _OCC[r["state"]], from_us(r["time"] // 1000),
                        r.get("reason") or "")
            for r in rows
        ]

    def events(
        self, hub: str | None = None, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[ReceivedEvent]:
        """Read in windows of receive time (memory stays bounded on long ranges)."""
        src = self._from("sensor_event", self.raw_rp)
        hub_where = f"hub = {quote_str(hub)} AND " if hub is not None else ""
        margin_us = self.clock_margin_ns // 1000
        for w0, w1 in self._windows(src, "seq", hub_where, start, end, margin_us):
            rows = list(self._query(
                f"SELECT * FROM {src} WHERE {hub_where}time >= {(w0 - margin_us) * 1000} "
                f"AND time < {(w1 + margin_us) * 1000} AND received_us >= {w0} AND received_us < {w1}"
            ))
            rows.sort(key=lambda r: (r["received_us"], r["agent"], r["boot"], r["seq"]))
            yield from map(_event_record, rows)

    def event_count(self, hub: str | None = None) -> int:
        hub_where = f"hub = {quote_str(hub)} AND " if hub is not None else ""
        rows = list(self._query(
            f"SELECT COUNT(seq) FROM {self._from('sensor_event', self.raw_rp)} WHERE {hub_where}"
            f"time >= {_FAR_PAST_NS}"
        ))
        return int(rows[0]["count"]) if rows else 0

    def health(
        self, hub: str | None = None, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[AgentHealth]:
        src = self._from("agent_health", self.raw_rp)
        hub_where = f"hub = {quote_str(hub)} AND " if hub is not None else ""
        for w0, w1 in self._windows(src, "dropped", hub_where, start, end, 0):
            rows = list(self._query(
                f"SELECT * FROM {src} WHERE {hub_where}time >= {w0 * 1000} AND time < {w1 * 1000} "
                "GROUP BY hub, agent"
            ))
            rows.sort(key=lambda r: (r["time"], r["hub"], r["agent"]))
            yield from map(_health_record, rows)

    def _windows(
        self, src: str, field: str, hub_where: str, start: datetime | None, end: datetime | None,
        margin_us: int,
    ) -> Iterator[tuple[int, int]]:
        """[w0, w1) microsecond windows covering start..end; an open bound is taken from the
        first / last stored point (widened by ``margin_us``)."""
        lo = to_us(start) if start is not None else None
        hi = to_us(end) if end is not None else None
        if lo is None or hi is None:
            bounds = self._time_bounds(src, field, hub_where)
            if bounds is None:
                return
            first_us, last_us = bounds
            lo = first_us - margin_us if lo is None else lo
            hi = last_us + margin_us + 1 if hi is None else hi
        for w0 in range(lo, hi, READ_WINDOW_US):
            yield w0, min(w0 + READ_WINDOW_US, hi)

    def _time_bounds(self, src: str, field: str, hub_where: str) -> tuple[int, int] | None:
        """Times (µs) of the first and last point, or None when there is none."""
        where = f"WHERE {hub_where}time >= {_FAR_PAST_NS}"
        first = list(self._query(f"SELECT FIRST({field}) FROM {src} {where}"))
        last = list(self._query(f"SELECT LAST({field}) FROM {src} {where}"))
        if not first or not last:
            return None
        return first[0]["time"] // 1000, last[0]["time"] // 1000

    def latest_health(self, hub: str) -> list[AgentHealth]:
        rows = self._query(
            f"SELECT * FROM {self._from('agent_health', self.raw_rp)} WHERE hub = {quote_str(hub)} "
            f"AND time >= {_FAR_PAST_NS} GROUP BY hub, agent ORDER BY time DESC LIMIT 1"
        )
        return sorted(map(_health_record, rows), key=lambda h: h.agent)

    # --- what the engines learned (KeepsLearned) -------------------------------------------

    def save_learned(self, state: LearnedState) -> None:
        self._write([_learned_line(state, zone, data) for zone, data in state.zones.items()], self.long_rp)

    def load_learned(self, hub: str) -> LearnedState | None:
        """The zones of the newest save (a zone missing from it, e.g. removed, is left out)."""
        rows = list(self._query(
            f"SELECT saved_us, learned FROM {self._from('engine_learned', self.long_rp)} WHERE hub = "
            f"{quote_str(hub)} AND time >= {_FAR_PAST_NS} GROUP BY zone ORDER BY time DESC LIMIT 1"
        ))
        if not rows:
            return None
        newest = max(int(r["saved_us"]) for r in rows)
        zones = {r["zone"]: json.loads(r["learned"]) for r in rows if int(r["saved_us"]) == newest}
        return LearnedState(hub, from_us(newest), zones)

    # --- maintenance ---------------------------------------------------------

    def prune(self, now: datetime) -> dict[str, int]:
        """Retention is the server's job (retention policies / bucket retention)."""
        return {"events": 0, "changes": 0, "health": 0}

    def drop_database(self) -> None:
        """Delete the whole database (tests, benchmarks)."""
        self.http.command(f"DROP DATABASE {quote_ident(self.database)}")

    def close(self) -> None:
        self.http.close()


def _event_record(r: dict) -> ReceivedEvent:
    return ReceivedEvent(r["hub"], r["agent"], r["sensor"], _KINDS[r["kind"]], _STATES[r["state"]],
                         from_us(r["time"] // 1000), r["seq"], r["boot"], from_us(r["received_us"]))


def _health_record(r: dict) -> AgentHealth:
    return AgentHealth(
        r["hub"], r["agent"], bool(r["online"]), from_us(r["time"] // 1000), r.get("boot") or "",
        float(r["clock_offset_s"]), int(r["queue_depth"]), int(r["dropped"]), float(r.get("interval_s") or 0.0),
    )


# --- line protocol -------------------------------------------------------------


def _event_time_ns(e: ReceivedEvent) -> int:
    """Agent ts in ns plus a deterministic 0..999 ns offset from (boot, seq): a redelivery
    lands on the same point; distinct events in one microsecond (seq within 1000 of each
    other, or the same seq in another boot) land on different points."""
    return to_us(e.ts) * 1000 + (e.seq + _boot_offset(e.boot)) % 1000


@functools.lru_cache(maxsize=4096)
def _boot_offset(boot: str) -> int:
    return zlib.crc32(boot.encode())


def _event_line(e: ReceivedEvent) -> str:
    return (
        f"sensor_event,agent={tag(e.agent)},hub={tag(e.hub)},kind={e.kind.value},sensor={tag(e.sensor)} "
        f'boot={field_str(e.boot)},received_us={to_us(e.received)}i,seq={e.seq}i,state="{e.state.value}" '
        f"{_event_time_ns(e)}"
    )


def _change_line(c: StateChange) -> str:
    desk = f",desk={tag(c.desk)}" if c.desk else ""
    return (
        f"zone_state{desk},hub={tag(c.hub)},zone={tag(c.zone)} "
        f'reason={field_str(c.reason)},state="{c.state.value}" {to_us(c.at) * 1000}'
    )


def _health_line(h: AgentHealth) -> str:
    return (
        f"agent_health,agent={tag(h.agent)},hub={tag(h.hub)} "
        f"boot={field_str(h.boot)},clock_offset_s={float(h.clock_offset_s)!r},dropped={h.dropped}i,"
        f"interval_s={float(h.interval_s)!r},online={'true' if h.online else 'false'},"
        f"queue_depth={h.queue_depth}i {to_us(h.at) * 1000}"
    )


def _learned_line(state: LearnedState, zone: str, data: dict) -> str:
    saved_us = to_us(state.at)
    day_ns = saved_us // 86_400_000_000 * 86_400_000_000 * 1000
    learned = field_text(json.dumps(data, separators=(",", ":")))
    return f"engine_learned,hub={tag(state.hub)},zone={tag(zone)} learned={learned},saved_us={saved_us}i {day_ns}"


def lines_for(records: Iterable[ReceivedEvent]) -> list[str]:
    """Line protocol of events exactly as :class:`InfluxStore` writes them (benchmarks)."""
    return [_event_line(e) for e in records]
