"""Hour-of-week heatmap (7 x 24, Monday first, local time) per zone.

Decision: cells cover OPEN hours only, like utilisation: a cell is the occupied
share of known open time in that local hour of the week.  Hours after the
history's ``now`` are not open time yet and count nowhere.  A cell whose hour is
never open in the period is null, and so is one with no known time (its
data_quality then says 0).  On the autumn DST day the repeated 02:00 hour
adds to the Sunday 02 cell; on the spring day that cell gets nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from collector.stats.history import History
from collector.stats.integrate import Integrator
from collector.stats.localtime import bucket_edges, hour_of_week, local_week
from collector.stats.opening import Mask
from collector.stats.zones import ratio, zone_sums
from hubsense.config import Hub, Zone

CELLS = 7 * 24


@dataclass(frozen=True)
class HourGrid:
    """Local clock hours of a period, with their hour-of-week cell and week index."""

    edges: np.ndarray
    cell: np.ndarray
    week: np.ndarray
    mask: Mask
    open_s: np.ndarray
    integrator: Integrator

    @classmethod
    def of(cls, hub: Hub, history: History) -> HourGrid:
        """The history's local hours; open time only up to its ``now``."""
        edges = bucket_edges(hub.tz, history.start, history.end, "hour")
        mask = Mask.observed(hub, history)
        return cls(edges, hour_of_week(hub.tz, edges[:-1]), local_week(hub.tz, edges[:-1]), mask,
                   mask.lengths(edges), Integrator(mask, edges))

    def per_cell(self, per_hour: np.ndarray) -> np.ndarray:
        return np.bincount(self.cell, weights=per_hour, minlength=CELLS).reshape(7, 24)


@dataclass(frozen=True)
class ZoneHeatmap:
    zone: Zone
    open_s: np.ndarray  # (7, 24)
    known_s: np.ndarray
    occupied_s: np.ndarray

    @property
    def share(self) -> np.ndarray:
        """Occupied share of known open time; NaN (null) where never open or never known."""
        return np.where(self.open_s > 0, ratio(self.occupied_s, self.known_s), np.nan)

    @property
    def data_quality(self) -> np.ndarray:
        return ratio(self.known_s, self.open_s)


def heatmap(hub: Hub, history: History, zones: list[Zone] | None = None) -> list[ZoneHeatmap]:
    grid = HourGrid.of(hub, history)
    out = []
    for zone in zones if zones is not None else hub.zones:
        sums = zone_sums(history, zone, grid.integrator, peaks=False)
        out.append(ZoneHeatmap(zone, grid.per_cell(grid.open_s), grid.per_cell(sums.known_s),
                               grid.per_cell(sums.occupied_s)))
    return out
