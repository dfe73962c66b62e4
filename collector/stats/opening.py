"""Opening hours as UTC intervals and as a cumulative "open seconds" function.

Opening hours are local wall-clock times (``Hub.opening_hours``).  They are
turned into UTC instants per local day with zoneinfo, so a DST day keeps its
local 08:00-17:00 (the UTC instants shift by an hour; the open length changes
only if the hours span the 02:00-03:00 jump).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from collector.stats.history import History
from collector.stats.localtime import local_dates
from hubsense.config import WEEKDAYS, Hub


def opening_intervals(hub: Hub, start: float, end: float) -> np.ndarray:
    """Sorted, disjoint (n, 2) array of [open, close) epoch seconds inside [start, end]."""
    tz = hub.tz
    spans: list[tuple[float, float]] = []
    for day in local_dates(tz, start, end):
        weekday = WEEKDAYS[day.weekday()]
        for hours in hub.opening_hours:
            if weekday in hours.days:
                a = datetime.combine(day, hours.open, tz).timestamp()
                b = datetime.combine(day, hours.close, tz).timestamp()
                spans.append((max(a, start), min(b, end)))
    arr = np.array(spans, dtype=np.float64).reshape(-1, 2)
    return merge_intervals(arr[arr[:, 1] > arr[:, 0]])


def opening_state(hub: Hub, now: float, horizon_days: int = 8) -> tuple[bool, float | None, float | None]:
    """(open at ``now``, next opening if closed, closing time if open), looking ``horizon_days`` ahead;
    None where the horizon holds no such instant (never opens, or open throughout)."""
    end = now + horizon_days * 86400.0
    spans = opening_intervals(hub, now, end)
    if len(spans) == 0:
        return False, None, None
    first_open, first_close = float(spans[0, 0]), float(spans[0, 1])
    if first_open <= now:
        return True, None, first_close if first_close < end else None
    return False, first_open, None


def merge_intervals(spans: np.ndarray) -> np.ndarray:
    """Merge overlapping or touching [a, b) intervals (vectorised)."""
    if len(spans) == 0:
        return spans.reshape(0, 2)
    spans = spans[np.argsort(spans[:, 0], kind="stable")]
    reach = np.maximum.accumulate(spans[:, 1])
    new = np.concatenate(([True], spans[1:, 0] > reach[:-1]))
    starts = spans[new, 0]
    group_end = np.concatenate((np.flatnonzero(new)[1:] - 1, [len(spans) - 1]))
    return np.column_stack((starts, reach[group_end]))


@dataclass(frozen=True)
class Mask:
    """A set of disjoint intervals with its cumulative length function.

    ``cum(t)`` is the masked length of (-inf, t]: piecewise linear, so ``np.interp``
    evaluates it exactly at any number of instants; the masked length of [a, b)
    is ``cum(b) - cum(a)``.
    """

    intervals: np.ndarray  # (n, 2)
    xp: np.ndarray
    fp: np.ndarray

    @classmethod
    def of(cls, intervals: np.ndarray) -> Mask:
        intervals = np.asarray(intervals, dtype=np.float64).reshape(-1, 2)
        if len(intervals) == 0:
            return cls(intervals, np.zeros(1), np.zeros(1))
        xp = intervals.ravel()
        lengths = intervals[:, 1] - intervals[:, 0]
        ends = np.cumsum(lengths)
        fp = np.column_stack((ends - lengths, ends)).ravel()
        return cls(intervals, xp, fp)

    @classmethod
    def opening(cls, hub: Hub, start: float, end: float) -> Mask:
        return cls.of(opening_intervals(hub, start, end))

    @classmethod
    def observed(cls, hub: Hub, history: History) -> Mask:
        """Opening hours in the history's observed time, [start, min(end, now)): the future is not
        open time yet, so it never counts as known, free or occupied."""
        return cls.opening(hub, history.start, history.observed_end)

    @classmethod
    def always(cls, start: float, end: float) -> Mask:
        return cls.of(np.array([[start, end]]))

    def cum(self, t: np.ndarray) -> np.ndarray:
        return np.interp(t, self.xp, self.fp)

    def lengths(self, edges: np.ndarray) -> np.ndarray:
        """Masked seconds in each [edges[i], edges[i+1])."""
        return np.diff(self.cum(edges))

    @property
    def boundaries(self) -> np.ndarray:
        return self.xp
