"""Opening hours as UTC intervals and as a cumulative "open seconds" function.

Opening hours are local wall-clock times (``Hub.opening_hours``); ``Hub.open_spans`` turns
them into UTC instants per local day with zoneinfo (DST-safe).  :class:`Mask` makes any set of
intervals (opening hours, or anything else) a cumulative length function.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from collector.stats.history import History
from hubsense.config import Hub


def opening_intervals(hub: Hub, start: float, end: float) -> np.ndarray:
    """Sorted, disjoint (n, 2) array of [open, close) epoch seconds inside [start, end] (``Hub.open_spans``)."""
    return np.array(hub.open_spans(start, end), dtype=np.float64).reshape(-1, 2)


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
