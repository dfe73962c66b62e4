"""Per-hub summaries for an installation of many hubs: what ``/api/hubs`` and the network overview
(``/network``, ``/api/network/*``) show, cached per hub and updated when that hub changes, so a
request at 1,000 hubs joins cached rows instead of reading 1,000 engines.

* **Live** (:meth:`NetworkSummaries.row`): zone counts by state, opening state, agents offline,
  stuck sensors.  A hub's row is rebuilt only when that hub's live version moved
  (:attr:`collector.live.LiveState.hub_versions`: it was fed, or a timeout fired), when its opening
  state turns, when one of its agents' heartbeat deadlines passes (a silent agent makes its zones
  unknown at once, even before the ticker runs), and at the latest after :data:`LIVE_MAX_AGE_S`
  (stuck-sensor flags grow with time alone).  In a running collector a background thread rebuilds
  the changed rows every ``live_refresh_s`` (0.5 s), and a request serves a row up to ``max_lag_s``
  (1 s) behind its hub's last change instead of rebuilding it, so the counts in ``/api/hubs`` and
  ``/network`` are at most about a second behind the zones' own routes and SSE, which are live.
* **History** (:meth:`NetworkSummaries.days`): per hub and local day, the open, known and occupied
  seconds of the whole hub (the hub total of :func:`collector.stats.utilisation.utilisation`).
  A past day is computed once; today and yesterday are recomputed by :meth:`NetworkSummaries.refresh`
  (every ``network_refresh_s``, in a background thread), because late events can still change
  them.  The agents' queue depths (newest health records) are read by the same refresh.

Time is passed in everywhere (``now``); only the background thread reads the clock.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import orjson

from collector.live import LiveState
from collector.model import OccupancyState, ZoneView
from collector.stats.load import load_history
from collector.stats.localtime import from_epoch, local_midnight
from collector.stats.opening import opening_state
from collector.stats.utilisation import utilisation
from collector.store.base import Store
from hubsense.config import Hub

log = logging.getLogger(__name__)

LIVE_MAX_AGE_S = 60.0  # a live row is rebuilt at least this often (stuck flags depend on time alone)
HORIZON_S = 8 * 86400.0  # opening_state looks this far ahead


def hub_row(hub: Hub, counts: dict[str, int], now: datetime, default: bool = False, simulated: bool = False) -> dict:
    """One ``/api/hubs`` entry (:class:`collector.api.models.HubOut`) as a plain dict; ``counts``:
    zones by state (``free`` / ``occupied`` / ``unknown``)."""
    open_now, opens_at, closes_at = opening_state(hub, now.timestamp())
    return {
        "id": hub.id, "name": hub.name, "address": hub.address, "city": hub.city, "region": hub.region,
        "timezone": hub.timezone, "zones": len(hub.zones), "free": counts.get(OccupancyState.FREE.value, 0),
        "occupied": counts.get(OccupancyState.OCCUPIED.value, 0),
        "unknown": counts.get(OccupancyState.UNKNOWN.value, 0),
        "open_now": open_now, "opens_at": from_epoch(opens_at) if opens_at is not None else None,
        "closes_at": from_epoch(closes_at) if closes_at is not None else None,
        "default": default, "simulated": simulated,
    }


def view_counts(views: list[ZoneView]) -> dict[str, int]:
    """Zones by state from a hub's views."""
    counts = dict.fromkeys((s.value for s in OccupancyState), 0)
    for v in views:
        counts[v.state.value] += 1
    return counts


def _dumps(payload: object) -> bytes:
    return orjson.dumps(payload, option=orjson.OPT_UTC_Z)


@dataclass(frozen=True, slots=True)
class LiveRow:
    """A hub's live summary, valid while its version holds and until ``valid_until`` (epoch s)."""

    version: int
    valid_until: float
    built_at: float
    hub: dict  # the /api/hubs entry
    hub_json: bytes
    agents: int
    agents_offline: int
    stuck_sensors: int


@dataclass(frozen=True, slots=True)
class Day:
    """The whole hub's seconds inside opening hours on one local day (zone-equivalent, as the
    utilisation statistic's hub total), observed at ``computed_at`` (epoch s)."""

    open_s: float
    known_s: float
    occupied_s: float
    computed_at: float


@dataclass(frozen=True, slots=True)
class Figures:
    """Summed seconds of some days, with the two ratios (None where the denominator is 0)."""

    open_s: float
    known_s: float
    occupied_s: float

    @property
    def utilisation(self) -> float | None:
        return self.occupied_s / self.known_s if self.known_s > 0 else None

    @property
    def data_quality(self) -> float | None:
        return self.known_s / self.open_s if self.open_s > 0 else None

    def as_dict(self) -> dict:
        return {"utilisation": self.utilisation, "data_quality": self.data_quality, "open_s": self.open_s,
                "known_s": self.known_s, "occupied_s": self.occupied_s}


def total(days: Iterable[Day | None]) -> Figures:
    """The sum of some days (missing ones count as nothing observed)."""
    o = k = c = 0.0
    for d in days:
        if d is not None:
            o, k, c = o + d.open_s, k + d.known_s, c + d.occupied_s
    return Figures(o, k, c)


def local_today(hub: Hub, now: datetime) -> date:
    return now.astimezone(hub.tz).date()


def is_final(day: date, d: Day, hub: Hub) -> bool:
    """A day computed once the day after it was over: late events no longer change it (in practice)."""
    return d.computed_at >= local_midnight(hub.tz, day + timedelta(days=2))


@dataclass
class AgentQueues:
    queued: int = 0  # events waiting in the agents' store-and-forward queues (newest health records)
    dropped: int = 0  # events the agents dropped because their queue was full
    at: float | None = None  # when read (epoch s)


@dataclass
class NetworkSummaries:
    """Cached per-hub summaries (see the module docstring); shared by the API routes."""

    hubs: dict[str, Hub]
    live: LiveState
    store: Store
    default_hub: str | None = None
    simulated: bool = False
    refresh_s: float = 300.0
    live_refresh_s: float = 0.5  # the background thread rebuilds changed live rows this often
    max_lag_s: float = 1.0  # ... and requests may get a row this much older than the hub's last change
    _rows: dict[str, LiveRow] = field(default_factory=dict, repr=False)
    _days: dict[str, dict[date, Day]] = field(default_factory=dict, repr=False)
    _queues: dict[str, AgentQueues] = field(default_factory=dict, repr=False)
    _overviews: dict[str, tuple[LiveRow, float | None, date, bytes]] = field(default_factory=dict, repr=False)
    _history_at: float | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _live_thread: threading.Thread | None = field(default=None, repr=False)
    _generation: int = field(default=0, repr=False)  # +1 whenever any live row is rebuilt
    _warmed_at: float = field(default=float("-inf"), repr=False)  # when warm() last finished (epoch s)
    _joined: dict[str, tuple[tuple, bytes]] = field(default_factory=dict, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def __post_init__(self) -> None:
        self.default_hub = self.default_hub or next(iter(self.hubs), None)
        self._rng = random.Random(0)
        self._days_lock = threading.Lock()

    # --- live ------------------------------------------------------------------------------

    def row(self, hub_id: str, now: datetime) -> LiveRow:
        """The hub's live row, rebuilt only when it is out of date.  While the background thread keeps
        the rows up to date (:meth:`start`), a row whose hub changed is still served for up to
        ``max_lag_s`` (the thread rebuilds it meanwhile), so a request never rebuilds many rows."""
        row = self._rows.get(hub_id)
        t = now.timestamp()
        if row is not None and t < row.valid_until and (
                row.version == self.live.hub_versions[hub_id]
                or (self._live_thread is not None and t - row.built_at < self.max_lag_s)):
            return row
        row = self._rows[hub_id] = self._build(hub_id, now)
        self._generation += 1
        return row

    def _build(self, hub_id: str, now: datetime) -> LiveRow:
        hub = self.hubs[hub_id]
        t = now.timestamp()
        version = self.live.hub_versions[hub_id]  # read first: a change after it only makes the row older
        counts, agents, offline, stuck, deadline = self.live.hub_counts(hub_id, now)
        row = hub_row(hub, counts, now, default=hub_id == self.default_hub, simulated=self.simulated)
        turns = row["opens_at"] or row["closes_at"]
        # spread the time-based rebuilds of many hubs over the minute instead of all at once
        valid_until = min(deadline, t + LIVE_MAX_AGE_S * (0.5 + self._rng.random()),
                          turns.timestamp() if turns is not None else t + HORIZON_S)
        return LiveRow(version, valid_until, t, row, _dumps(row), agents, offline, stuck)

    def warm(self, now: datetime) -> int:
        """Rebuild every row that is out of date, and the network overview's rows with it (the
        background thread, every ``live_refresh_s``); returns how many live rows were rebuilt."""
        t, built = now.timestamp(), 0
        versions = self.live.hub_versions
        for hub_id in self.hubs:
            row = self._rows.get(hub_id)
            if row is None or row.version != versions[hub_id] or t >= row.valid_until:
                self._rows[hub_id] = self._build(hub_id, now)
                self._generation += 1
                built += 1
            self.overview_json(hub_id, now)
        self._warmed_at = t
        return built

    def hubs_json(self, hub_ids: Iterable[str], now: datetime) -> bytes:
        """The ``/api/hubs`` body for these hubs: cached rows joined."""
        return self._joined_body("hubs", tuple(hub_ids), now, lambda h: self.row(h, now).hub_json)

    def _joined_body(self, name: str, ids: tuple[str, ...], now: datetime, part) -> bytes:
        """``[part(h), ...]`` as JSON.  While the background thread keeps the rows fresh (its last round
        less than ``max_lag_s`` ago), the joined body itself is kept until any row changes, so a request
        at 1,000 hubs costs a lookup instead of 1,000 row checks."""
        t = now.timestamp()
        fresh = self._live_thread is not None and t - self._warmed_at < self.max_lag_s
        key = (ids, self._generation, self._history_at, now.date())
        hit = self._joined.get(name)
        if fresh and hit is not None and hit[0] == key:
            return hit[1]
        body = b"[" + b",".join(part(h) for h in ids) + b"]"
        if fresh:
            self._joined[name] = (key, body)  # one entry per route: the common case is one set of hubs
        return body

    # --- history ---------------------------------------------------------------------------

    def days(self, hub_id: str, first: date, last: date, now: datetime, *, compute: bool = True) -> list[Day | None]:
        """The hub's figures for each local day ``first`` .. ``last`` (inclusive).  Days not cached
        yet are computed (one store read for the span) unless ``compute`` is false (then None)."""
        hub = self.hubs[hub_id]
        cached = self._days.get(hub_id, {})
        dates = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        missing = [d for d in dates if d not in cached]
        if missing and compute:
            self._compute(hub, missing[0], missing[-1], now)
            cached = self._days.get(hub_id, {})
        return [cached.get(d) for d in dates]

    def _compute(self, hub: Hub, first: date, last: date, now: datetime) -> None:
        """Compute and cache the hub's days ``first`` .. ``last`` (one history read)."""
        today = local_today(hub, now)
        last = min(last, today)
        if last < first:  # only future days: nothing is observed there
            return
        start = from_epoch(local_midnight(hub.tz, first))
        end = from_epoch(local_midnight(hub.tz, last + timedelta(days=1)))
        report = utilisation(hub, load_history(self.store, hub, start, end, now), "day")
        series, t = report.hub, now.timestamp()
        starts = report.edges[:-1].tolist()
        computed = {
            datetime.fromtimestamp(s, hub.tz).date(): Day(o, k, c, t)
            for s, o, k, c in zip(starts, series.open_s.tolist(), series.known_s.tolist(),
                                  series.occupied_s.tolist(), strict=True)
        }
        with self._days_lock:
            self._days[hub.id] = {**self._days.get(hub.id, {}), **computed}

    def refresh(self, now: datetime, hub_ids: Iterable[str] | None = None) -> None:
        """Recompute what can still change: every hub's days of this week and yesterday that are not
        final, and the agents' queue depths.  Called by the background thread; tests call it directly."""
        for hub_id in hub_ids if hub_ids is not None else list(self.hubs):
            if self._stop.is_set():  # stopping: leave the rest
                return
            hub = self.hubs[hub_id]
            today = local_today(hub, now)
            first = min(today - timedelta(days=today.weekday()), today - timedelta(days=1))
            cached = self._days.get(hub_id, {})
            stale = [d for d in _dates(first, today) if d not in cached or not is_final(d, cached[d], hub)]
            if stale:
                self._compute(hub, stale[0], today, now)
            self._queues[hub_id] = self._read_queues(hub_id, now)
        self._forget_old(now)
        self._history_at = now.timestamp()

    def _read_queues(self, hub_id: str, now: datetime) -> AgentQueues:
        records = self.store.latest_health(hub_id)
        return AgentQueues(sum(r.queue_depth for r in records), sum(r.dropped for r in records), now.timestamp())

    def _forget_old(self, now: datetime, keep_days: int = 800) -> None:
        """Drop days older than ``keep_days`` (bounded memory at many hubs)."""
        oldest = now.date() - timedelta(days=keep_days)
        with self._days_lock:
            for hub_id, days in self._days.items():
                if days and min(days) < oldest:
                    self._days[hub_id] = {d: v for d, v in days.items() if d >= oldest}

    def queues(self, hub_id: str) -> AgentQueues:
        return self._queues.get(hub_id, AgentQueues())

    @property
    def history_at(self) -> datetime | None:
        """When :meth:`refresh` last finished (None: not yet)."""
        return None if self._history_at is None else from_epoch(self._history_at)

    def overview(self, hub_id: str, now: datetime) -> dict:
        """One row of the network overview: live counts, agents, stuck sensors, agents' queues,
        and yesterday's and this week's utilisation with data quality (null until refreshed)."""
        hub = self.hubs[hub_id]
        row = self.row(hub_id, now)
        today = local_today(hub, now)
        monday = today - timedelta(days=today.weekday())
        yesterday = today - timedelta(days=1)
        days = self.days(hub_id, min(monday, yesterday), today, now, compute=False)
        by_date = dict(zip(_dates(min(monday, yesterday), today), days, strict=True))
        queues = self.queues(hub_id)
        have = all(by_date[d] is not None for d in _dates(monday, today)) and by_date[yesterday] is not None
        return {
            **{k: row.hub[k] for k in ("id", "name", "city", "region", "timezone", "zones", "free", "occupied",
                                       "unknown", "open_now")},
            "agents": row.agents, "agents_offline": row.agents_offline, "stuck_sensors": row.stuck_sensors,
            "queued": queues.queued if queues.at is not None else None,
            "dropped": queues.dropped if queues.at is not None else None,
            "yesterday": total([by_date[yesterday]]).as_dict() if have else None,
            "week": total(by_date[d] for d in _dates(monday, today)).as_dict() if have else None,
        }

    def overview_body(self, hub_ids: Iterable[str], now: datetime) -> bytes:
        """The network overview's rows for these hubs as one JSON list."""
        return self._joined_body("overview", tuple(hub_ids), now, lambda h: self.overview_json(h, now))

    def overview_json(self, hub_id: str, now: datetime) -> bytes:
        """:meth:`overview` as JSON, cached until the hub's live row or the history changes."""
        row = self.row(hub_id, now)
        today = local_today(self.hubs[hub_id], now)
        hit = self._overviews.get(hub_id)
        if hit is not None and hit[0] is row and hit[1] == self._history_at and hit[2] == today:
            return hit[3]
        body = _dumps(self.overview(hub_id, now))
        self._overviews[hub_id] = (row, self._history_at, today, body)
        return body

    # --- background refresh ------------------------------------------------------------------

    def start(self) -> None:
        """Keep the rows up to date in two daemon threads until :meth:`stop`: live rows every
        ``live_refresh_s``, history (:meth:`refresh`) now and every ``refresh_s``."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._live_thread = threading.Thread(target=self._run_live, name="network-live", daemon=True)
        self._thread = threading.Thread(target=self._run_history, name="network-history", daemon=True)
        self._live_thread.start()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in (self._thread, self._live_thread):
            if thread is not None:
                thread.join(10)
        self._thread = self._live_thread = None

    def _run_live(self) -> None:
        while not self._stop.is_set():
            try:
                self.warm(datetime.now(UTC))
            except Exception:  # never end the thread; the next round retries
                log.exception("network summaries: live rows failed")
            self._stop.wait(self.live_refresh_s)

    def _run_history(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh(datetime.now(UTC))
            except Exception:  # a store outage must not end the thread; the next round retries
                log.exception("network summaries: refresh failed")
            self._stop.wait(self.refresh_s)


def _dates(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def date_buckets(first: date, end: date, bucket: str) -> list[tuple[date, date]]:
    """Local-calendar buckets covering ``first`` .. ``end`` (exclusive) as (first day, day after the last):
    days, weeks from Monday or calendar months, the first and last clipped to the period."""
    out = []
    a = first
    while a < end:
        if bucket == "day":
            b = a + timedelta(days=1)
        elif bucket == "week":
            b = a + timedelta(days=7 - a.weekday())
        elif bucket == "month":
            b = date(a.year + a.month // 12, a.month % 12 + 1, 1)
        else:
            raise ValueError(f"bucket {bucket!r}")
        out.append((a, min(b, end)))
        a = min(b, end)
    return out
