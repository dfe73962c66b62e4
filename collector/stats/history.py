"""A state-change history as columns, and per-track step functions.

A *track* is one zone (``desk`` None) or one desk.  The history holds, per
track, the change instants (epoch seconds) and state codes, sorted by time;
:meth:`History.track` turns one track into a step function clipped to
[start, end]: boundaries ``t`` (n + 1) and states ``s`` (n), state ``s[i]`` on
``[t[i], t[i+1])``.  Before a track's first change its state is unknown, and so
is everything after the history's ``now``: time that has not happened yet is not
observed, so it is neither known nor occupied (a state is never carried into the
future).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from collector.model import STATE_CODE, OccupancyState, StateChange
from collector.store.base import TrackKey, columns_of

FREE, OCCUPIED, UNKNOWN = (STATE_CODE[s] for s in (OccupancyState.FREE, OccupancyState.OCCUPIED,
                                                   OccupancyState.UNKNOWN))

__all__ = ["FREE", "OCCUPIED", "UNKNOWN", "History", "Track", "TrackKey"]


@dataclass(frozen=True)
class Track:
    t: np.ndarray  # boundaries, float64 epoch seconds, len n + 1
    s: np.ndarray  # state codes, intp (fast to index look-up tables with), len n

    def weight(self, lut: Sequence[float]) -> np.ndarray:
        """Per-segment weight: ``lut[state]`` (e.g. 1 for occupied, else 0)."""
        return np.asarray(lut, dtype=np.float64)[self.s]


@dataclass(frozen=True)
class History:
    """Columns for one hub and period.  ``series[key] = (at, code)``, each sorted by ``at``.

    ``now`` is when the history was read: from ``min(end, now)`` on nothing is known.
    """

    start: float
    end: float
    series: dict[TrackKey, tuple[np.ndarray, np.ndarray]]
    now: float

    @property
    def observed_end(self) -> float:
        """The end of observed time: ``end``, or ``now`` if the period reaches past it."""
        return min(self.end, max(self.start, self.now))

    @classmethod
    def from_changes(cls, changes: Sequence[StateChange], start: float, end: float, now: float) -> History:
        """Convert ``Store.changes`` output once (one pass over the Python objects)."""
        return cls(start, end, columns_of(changes), now)

    def track(self, key: TrackKey) -> Track:
        """The track's step function on [start, end): unknown before its first change and after ``now``."""
        at, code = self.series.get(key, (np.zeros(0), np.zeros(0, np.int8)))
        until = self.observed_end
        t = np.concatenate(([self.start], np.minimum(np.maximum(at, self.start), until), [until, self.end]))
        s = np.concatenate((np.array([UNKNOWN], np.intp), code.astype(np.intp), np.array([UNKNOWN], np.intp)))
        return Track(t, s)

    @property
    def size(self) -> int:
        return sum(len(a) for a, _ in self.series.values())
