"""Local-time arithmetic on epoch seconds, vectorised.

Statistics work on float64 epoch seconds (UTC).  Local calendar facts (weekday,
hour of day, midnights, month starts) depend on the hub's UTC offset, which
changes at DST transitions.  :func:`utc_offsets` finds the transitions inside a
range once (a zoneinfo call per day plus a bisection per transition) and then
maps any number of instants to their offset with one ``searchsorted``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

DAY = 86400.0
HOUR = 3600.0
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


def _offset(tz: ZoneInfo, t: float) -> float:
    return datetime.fromtimestamp(t, tz).utcoffset().total_seconds()


@lru_cache(maxsize=64)
def _transitions(tz: ZoneInfo, day0: int, day1: int) -> tuple[np.ndarray, np.ndarray]:
    """UTC offset changes between epoch days ``day0`` and ``day1``: (instants, offsets after).

    ``offsets[0]`` is the offset before the first instant.  Assumes at most one
    change per UTC day, true of every real time zone.
    """
    instants: list[float] = []
    offsets = [_offset(tz, day0 * DAY)]
    for day in range(day0 + 1, day1 + 1):
        off = _offset(tz, day * DAY)
        if off == offsets[-1]:
            continue
        lo, hi = (day - 1) * DAY, day * DAY  # offset(lo) = old, offset(hi) = new
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if _offset(tz, mid) == offsets[-1] else (lo, mid)
        instants.append(hi)
        offsets.append(off)
    return np.array(instants), np.array(offsets)


def utc_offsets(tz: ZoneInfo, t: np.ndarray) -> np.ndarray:
    """UTC offset in seconds at each epoch instant of ``t``."""
    t = np.asarray(t, dtype=np.float64)
    if t.size == 0:
        return np.zeros(0)
    day0, day1 = int(np.floor(t.min() / DAY)) - 1, int(np.floor(t.max() / DAY)) + 1
    instants, offsets = _transitions(tz, day0, day1)
    return offsets[np.searchsorted(instants, t, side="right")]


def local_seconds(tz: ZoneInfo, t: np.ndarray) -> np.ndarray:
    """Epoch instants as local wall-clock seconds since 1970-01-01 00:00 local."""
    t = np.asarray(t, dtype=np.float64)
    return t + utc_offsets(tz, t)


def hour_of_week(tz: ZoneInfo, t: np.ndarray) -> np.ndarray:
    """Local hour-of-week cell of each instant: weekday * 24 + hour, Monday 00:00 = 0."""
    local = local_seconds(tz, t)
    day = np.floor(local / DAY)
    weekday = (day + _EPOCH_WEEKDAY) % 7
    hour = np.floor((local - day * DAY) / HOUR)
    return (weekday * 24 + hour).astype(np.int64)


def local_week(tz: ZoneInfo, t: np.ndarray) -> np.ndarray:
    """Index of the local Monday-started week of each instant (weeks since 1969-12-29)."""
    day = np.floor(local_seconds(tz, t) / DAY)
    return ((day + _EPOCH_WEEKDAY) // 7).astype(np.int64)


def to_epoch(value: datetime) -> float:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}")
    return value.timestamp()


def from_epoch(t: float) -> datetime:
    return datetime.fromtimestamp(float(t), UTC)


def local_midnight(tz: ZoneInfo, day: date) -> float:
    return datetime.combine(day, time(0), tz).timestamp()


def local_dates(tz: ZoneInfo, start: float, end: float) -> list[date]:
    """Every local date touched by [start, end], padded by a day each side."""
    first = datetime.fromtimestamp(start, tz).date() - timedelta(days=1)
    last = datetime.fromtimestamp(end, tz).date() + timedelta(days=1)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


BUCKETS = ("hour", "day", "week", "month")


def bucket_edges(tz: ZoneInfo, start: float, end: float, bucket: str) -> np.ndarray:
    """Edges of local calendar buckets covering [start, end), clipped to it.

    The first and last bucket are partial when start / end are not on a boundary.
    Hours are local clock hours (a DST day has 23 or 25 of them).
    """
    if bucket == "hour":
        inner = _hour_edges(tz, start, end)
    else:
        days = local_dates(tz, start, end)
        if bucket == "week":
            days = [d for d in days if d.weekday() == 0]
        elif bucket == "month":
            days = [d for d in days if d.day == 1]
        elif bucket != "day":
            raise ValueError(f"unknown bucket {bucket!r}; use one of {', '.join(BUCKETS)}")
        inner = np.array([local_midnight(tz, d) for d in days])
    inner = inner[(inner > start) & (inner < end)]
    return np.concatenate(([start], inner, [end]))


def _hour_edges(tz: ZoneInfo, start: float, end: float) -> np.ndarray:
    """Local hour boundaries in (start, end): UTC instants whose local time is HH:00.

    Candidates are every whole UTC hour when every offset in the range is a whole
    number of hours (then those are exactly the local hours), else every quarter
    hour (offsets are multiples of 15 minutes in every zone in use).
    """
    _, offsets = _transitions(tz, int(np.floor(start / DAY)) - 1, int(np.floor(end / DAY)) + 1)
    step = HOUR if np.all(np.mod(offsets, HOUR) == 0) else 900.0
    grid = np.arange(np.ceil(start / step) * step, end, step)
    return grid if step == HOUR else grid[np.mod(local_seconds(tz, grid), HOUR) == 0]
