"""Occupied sessions and daily peak concurrency.

A session is a maximal run of occupied time of one track (zone or desk).
Sessions overlapping the period are counted, with durations clipped to it and to
the history's ``now`` (a session still running is counted up to now, never
into the future); a session ends when the track becomes free or unknown.  Daily peaks count
concurrently occupied zones (zone tracks, not desk areas) and desks in use
(desk tracks), within opening hours up to ``now``, per local day; a day that
has not begun is null, like a closed one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from collector.stats.history import OCCUPIED, History, Track
from collector.stats.integrate import Integrator, peak_concurrent
from collector.stats.localtime import bucket_edges
from collector.stats.opening import Mask
from collector.stats.zones import KNOWN_LUT, ratio
from hubsense.config import Hub, Zone, ZoneKind


def session_durations(track: Track) -> np.ndarray:
    """Durations (s) of the occupied runs of a track, zero-length runs dropped."""
    occ = track.s == OCCUPIED
    rise = np.flatnonzero(occ & ~np.concatenate(([False], occ[:-1])))
    fall = np.flatnonzero(occ & ~np.concatenate((occ[1:], [False])))
    durations = track.t[fall + 1] - track.t[rise]
    return durations[durations > 0]


@dataclass(frozen=True)
class SessionStats:
    zone: str
    desk: str | None
    count: int
    median_s: float | None
    p90_s: float | None
    data_quality: float | None  # known share of the period's open time

    @classmethod
    def of(cls, zone: str, desk: str | None, durations: np.ndarray, quality: float | None) -> SessionStats:
        if len(durations) == 0:
            return cls(zone, desk, 0, None, None, quality)
        med, p90 = np.percentile(durations, [50, 90])
        return cls(zone, desk, len(durations), float(med), float(p90), quality)


def sessions(hub: Hub, history: History, zones: list[Zone]) -> list[SessionStats]:
    """Per zone (and per desk of desk areas) session count, median, 90th percentile, data quality."""
    mask = Mask.observed(hub, history)
    integrator = Integrator(mask, np.array([history.start, history.end]))
    open_s = mask.lengths(integrator.edges)
    out = []
    for zone in zones:
        for key in [(zone.id, None)] + [(zone.id, d.id) for d in zone.desks]:
            track = history.track(key)
            (known,) = integrator.bucket_sums(track, [KNOWN_LUT])
            quality = ratio(known, open_s)[0]
            out.append(SessionStats.of(*key, session_durations(track), None if np.isnan(quality) else float(quality)))
    return out


@dataclass(frozen=True)
class DailyPeaks:
    edges: np.ndarray  # local days
    zones: np.ndarray | None  # peak occupied zones per day (-1: closed all day); None: no such zones
    desks: np.ndarray | None  # peak desks in use per day (-1: closed all day); None: no desks


def daily_peaks(hub: Hub, history: History, zones: list[Zone]) -> DailyPeaks:
    edges = bucket_edges(hub.tz, history.start, history.end, "day")
    mask = Mask.observed(hub, history)
    zone_tracks = [history.track((z.id, None)) for z in zones if z.kind is not ZoneKind.DESK_AREA]
    desk_tracks = [history.track((z.id, d.id)) for z in zones for d in z.desks]
    return DailyPeaks(
        edges,
        peak_concurrent(zone_tracks, OCCUPIED, mask, edges) if zone_tracks else None,
        peak_concurrent(desk_tracks, OCCUPIED, mask, edges) if desk_tracks else None,
    )
