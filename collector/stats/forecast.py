"""Busy-times forecast: per zone and local hour of the week, how likely the zone
is occupied, from the last N weeks (default 8) before ``now``.

probability = occupied share of known open time in that cell over the window
(time-weighted, like the heatmap); weeks = the number of distinct local weeks
that contributed known open time to the cell.  Labels: "no data" without
evidence, else "usually free" below 25 %, "often busy" below 60 %, "usually
busy" from 60 %.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from collector.stats.heatmap import CELLS, HourGrid
from collector.stats.history import History
from collector.stats.localtime import DAY
from collector.stats.zones import ratio, zone_sums
from hubsense.config import Hub, Zone

DEFAULT_WEEKS = 8
FREE_BELOW = 0.25
BUSY_FROM = 0.60
LABELS = ("usually free", "often busy", "usually busy", "no data")


def window(now: float, weeks: int = DEFAULT_WEEKS) -> tuple[float, float]:
    """The history period a forecast made at ``now`` uses: [now - weeks * 7 days, now)."""
    return now - weeks * 7 * DAY, now


def label(probability: float, weeks: int) -> str:
    if weeks == 0 or np.isnan(probability):
        return "no data"
    if probability < FREE_BELOW:
        return "usually free"
    return "often busy" if probability < BUSY_FROM else "usually busy"


@dataclass(frozen=True)
class ZoneForecast:
    zone: Zone
    probability: np.ndarray  # (7, 24), NaN = no data
    weeks: np.ndarray  # (7, 24) int
    data_quality: float  # known share of the window's open time (NaN: never open)

    @property
    def labels(self) -> list[list[str]]:
        return [[label(p, w) for p, w in zip(pr, wr, strict=True)]
                for pr, wr in zip(self.probability, self.weeks, strict=True)]


def forecast(hub: Hub, history: History, zones: list[Zone] | None = None) -> list[ZoneForecast]:
    """Forecast from ``history`` (whose period should be :func:`window` of its ``now``; nothing
    after ``now`` is evidence)."""
    grid = HourGrid.of(hub, history)
    first_week = grid.week.min() if len(grid.week) else 0
    out = []
    for zone in zones if zones is not None else hub.zones:
        sums = zone_sums(history, zone, grid.integrator, peaks=False)
        known = sums.known_s > 0
        pairs = np.unique(grid.cell[known] * 10_000 + (grid.week[known] - first_week))
        weeks = np.bincount(pairs // 10_000, minlength=CELLS).reshape(7, 24)
        p = ratio(grid.per_cell(sums.occupied_s), grid.per_cell(sums.known_s))
        quality = ratio(sums.known_s.sum(), grid.open_s.sum())
        out.append(ZoneForecast(zone, p, weeks, float(quality)))
    return out
