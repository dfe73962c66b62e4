"""A state-change history as columns, and per-track step functions.

A *track* is one zone (``desk`` None) or one desk.  The history holds, per
track, the change instants (epoch seconds) and state codes, sorted by time;
:meth:`History.track` turns one track into a step function clipped to
[start, end]: boundaries ``t`` (n + 1) and states ``s`` (n), state ``s[i]`` on
``[t[i], t[i+1])``.  Before a track's first change its state is unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from collector.model import OccupancyState, StateChange

FREE, OCCUPIED, UNKNOWN = 0, 1, 2
CODES = {OccupancyState.FREE: FREE, OccupancyState.OCCUPIED: OCCUPIED, OccupancyState.UNKNOWN: UNKNOWN}
CODE_BY_NAME = {s.value: c for s, c in CODES.items()}

TrackKey = tuple[str, str | None]  # (zone, desk or None)


@dataclass(frozen=True)
class Track:
    t: np.ndarray  # boundaries, float64 epoch seconds, len n + 1
    s: np.ndarray  # state codes, intp (fast to index look-up tables with), len n

    def weight(self, lut: Sequence[float]) -> np.ndarray:
        """Per-segment weight: ``lut[state]`` (e.g. 1 for occupied, else 0)."""
        return np.asarray(lut, dtype=np.float64)[self.s]


@dataclass(frozen=True)
class History:
    """Columns for one hub and period.  ``series[key] = (at, code)``, each sorted by ``at``."""

    start: float
    end: float
    series: dict[TrackKey, tuple[np.ndarray, np.ndarray]]

    @classmethod
    def from_changes(cls, changes: Sequence[StateChange], start: float, end: float) -> History:
        """Convert ``Store.changes`` output once (one pass over the Python objects)."""
        by_key: dict[TrackKey, tuple[list[float], list[int]]] = {}
        for c in changes:
            ats, codes = by_key.setdefault((c.zone, c.desk), ([], []))
            ats.append(c.at.timestamp())
            codes.append(CODES[c.state])
        series = {k: _sorted(np.array(a, dtype=np.float64), np.array(s, dtype=np.int8))
                  for k, (a, s) in by_key.items()}
        return cls(start, end, series)

    def track(self, key: TrackKey) -> Track:
        at, code = self.series.get(key, (np.zeros(0), np.zeros(0, np.int8)))
        t = np.concatenate(([self.start], np.minimum(np.maximum(at, self.start), self.end), [self.end]))
        s = np.concatenate((np.array([UNKNOWN], np.intp), code.astype(np.intp)))
        return Track(t, s)

    @property
    def size(self) -> int:
        return sum(len(a) for a, _ in self.series.values())


def _sorted(at: np.ndarray, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(at, kind="stable")
    return at[order], code[order]
