"""Time-weighted utilisation per zone and per hub, in local calendar buckets.

utilisation = occupied open time / known open time (unknown time is left out of
the denominator, never counted as free); data_quality = known open time / open
time.  Both are null where their denominator is 0.  The hub figure pools every
zone's zone-equivalent seconds (see :mod:`collector.stats.zones`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from collector.stats.history import History
from collector.stats.integrate import Integrator
from collector.stats.localtime import bucket_edges
from collector.stats.opening import Mask
from collector.stats.zones import ratio, zone_sums
from hubsense.config import Hub, Zone


@dataclass(frozen=True)
class Series:
    """One zone's (or the hub's) figures, one element per bucket."""

    zone: Zone | None  # None: the hub total
    open_s: np.ndarray
    known_s: np.ndarray
    occupied_s: np.ndarray
    desks: int = 0
    peak_desks: np.ndarray | None = None

    @property
    def utilisation(self) -> np.ndarray:
        return ratio(self.occupied_s, self.known_s)

    @property
    def data_quality(self) -> np.ndarray:
        return ratio(self.known_s, self.open_s)

    @property
    def peak_desk_share(self) -> np.ndarray | None:
        if self.peak_desks is None:
            return None
        return np.where(self.peak_desks >= 0, np.minimum(self.peak_desks, self.desks) / self.desks, np.nan)


@dataclass(frozen=True)
class Utilisation:
    edges: np.ndarray  # bucket k is [edges[k], edges[k+1])
    zones: list[Series]
    hub: Series


def utilisation(hub: Hub, history: History, bucket: str, zones: list[Zone] | None = None) -> Utilisation:
    """Utilisation of ``zones`` (default: all) over ``history.start .. history.end``.

    Only time before ``history.now`` counts: buckets (or parts of them) after it have no open,
    known or occupied time, so their figures are null, never a guess."""
    edges = bucket_edges(hub.tz, history.start, history.end, bucket)
    mask = Mask.observed(hub, history)
    open_s = mask.lengths(edges)
    integrator = Integrator(mask, edges)
    series = []
    for zone in zones if zones is not None else hub.zones:
        sums = zone_sums(history, zone, integrator)
        series.append(Series(zone, open_s, sums.known_s, sums.occupied_s, len(zone.desks), sums.peak_desks))
    total = Series(
        None, open_s * len(series),
        np.sum([s.known_s for s in series], axis=0), np.sum([s.occupied_s for s in series], axis=0),
    )
    return Utilisation(edges, series, total)
