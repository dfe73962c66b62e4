"""The one primitive behind every time-weighted figure: integrate a step function
over a mask (opening hours) between arbitrary edges, in O(n + m log n).

For a track with boundaries ``t`` and per-segment weights ``w``, the masked
integral up to instant x is ``C[i] + w[i] * (M(x) - M(t[i]))`` where ``i`` is the
segment holding x, ``M`` the mask's cumulative length and ``C`` the cumulative
integral at segment starts.  Evaluating it at bucket edges and differencing
gives per-bucket sums; no interval is ever split in Python.
"""

from __future__ import annotations

import numpy as np

from collector.stats.history import Track
from collector.stats.opening import Mask


def _cumulative(track: Track, weights: list[np.ndarray], mask: Mask, x: np.ndarray,
                m_x: np.ndarray) -> list[np.ndarray]:
    """For each weight array, the masked integral from the track's start to each ``x`` (``m_x`` = mask at x)."""
    m_t = mask.cum(track.t)
    dm_t = np.diff(m_t)
    i = np.searchsorted(track.t, x, side="right") - 1
    np.minimum(np.maximum(i, 0, out=i), len(dm_t) - 1, out=i)
    dm_x = m_x - m_t[i]
    out = []
    for w in weights:
        c = np.empty(len(w) + 1)
        c[0] = 0.0
        np.cumsum(w * dm_t, out=c[1:])
        out.append(c[i] + w[i] * dm_x)
    return out


class Integrator:
    """Masked per-bucket integrals of many tracks over the same buckets.

    Set up once per request: buckets with no masked (open) time are skipped, so the
    cumulative integral is evaluated only at the edges of open buckets (for an hourly
    grid about a third of the hours of a year).
    """

    def __init__(self, mask: Mask, edges: np.ndarray) -> None:
        self.mask = mask
        self.edges = edges
        self.n = len(edges) - 1
        self.active = np.flatnonzero(np.diff(mask.cum(edges)) > 0)
        left, right = edges[self.active], edges[self.active + 1]
        self.points = np.unique(np.concatenate((left, right)))
        self.il = np.searchsorted(self.points, left)
        self.ir = np.searchsorted(self.points, right)
        self.m_x = mask.cum(self.points)

    def bucket_sums(self, track: Track, luts: list[tuple[float, ...]]) -> list[np.ndarray]:
        """Per-bucket masked seconds of the track for each state look-up table."""
        weights = [track.weight(lut) for lut in luts]
        out = []
        for c in _cumulative(track, weights, self.mask, self.points, self.m_x):
            sums = np.zeros(self.n)
            sums[self.active] = c[self.ir] - c[self.il]
            out.append(sums)
        return out


def peak_concurrent(tracks: list[Track], state: int, mask: Mask, edges: np.ndarray) -> np.ndarray:
    """Most tracks in ``state`` at the same time within the mask, per bucket (-1: bucket never masked-in).

    A sweep: +1 / -1 at every entry / exit, summed in time order; bucket edges and
    mask boundaries are added as zero steps so every elementary interval lies in
    one bucket and is wholly in or out of the mask.
    """
    times = [edges, mask.boundaries]
    steps = [np.zeros(len(edges)), np.zeros(len(mask.boundaries))]
    for tr in tracks:
        inside = (tr.s == state).astype(np.float64)
        times.append(tr.t[:-1])
        steps.append(np.diff(inside, prepend=0.0))
    t = np.concatenate(times)
    order = np.argsort(t, kind="stable")
    t = t[order]
    count = np.cumsum(np.concatenate(steps)[order])
    last = np.concatenate((t[1:] != t[:-1], [True]))  # the count after all steps at an instant
    u, n = t[last], count[last]
    open_len = np.diff(mask.cum(u))
    bucket = np.searchsorted(edges, u[:-1], side="right") - 1
    ok = (open_len > 0) & (bucket >= 0) & (bucket < len(edges) - 1)
    out = np.full(len(edges) - 1, -1, dtype=np.int64)
    b, v = bucket[ok], np.rint(n[:-1][ok]).astype(np.int64)
    if len(b):  # b is sorted: one maximum per run of equal buckets
        first = np.flatnonzero(np.concatenate(([True], b[1:] != b[:-1])))
        out[b[first]] = np.maximum.reduceat(v, first)
    return out
