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


def masked_cumulative(track: Track, w: np.ndarray, mask: Mask, x: np.ndarray) -> np.ndarray:
    """Integral of the weighted step function over the mask from track start to each ``x``."""
    return Integrator(mask, x).cumulative(track, [w])[0]


def bucket_sums(track: Track, w: np.ndarray, mask: Mask, edges: np.ndarray) -> np.ndarray:
    """Masked integral of the weighted track in each [edges[k], edges[k+1])."""
    return np.diff(masked_cumulative(track, w, mask, edges))


class Integrator:
    """Masked integrals of many tracks at the same edges (the mask at the edges is computed once)."""

    def __init__(self, mask: Mask, edges: np.ndarray) -> None:
        self.mask = mask
        self.edges = edges
        self.m_x = mask.cum(edges)

    def cumulative(self, track: Track, weights: list[np.ndarray]) -> list[np.ndarray]:
        m_t = self.mask.cum(track.t)
        dm_t = np.diff(m_t)
        i = np.searchsorted(track.t, self.edges, side="right") - 1
        np.clip(i, 0, len(dm_t) - 1, out=i)
        dm_x = self.m_x - m_t[i]
        out = []
        for w in weights:
            c = np.empty(len(w) + 1)
            c[0] = 0.0
            np.cumsum(w * dm_t, out=c[1:])
            out.append(c[i] + w[i] * dm_x)
        return out

    def bucket_sums(self, track: Track, luts: list[tuple[float, ...]]) -> list[np.ndarray]:
        """Per-bucket masked seconds of the track for each state look-up table."""
        return [np.diff(v) for v in self.cumulative(track, [track.weight(lut) for lut in luts])]


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
    out = np.full(len(edges) - 1, -1.0)
    np.maximum.at(out, bucket[ok], n[:-1][ok])
    return np.rint(out).astype(np.int64)
