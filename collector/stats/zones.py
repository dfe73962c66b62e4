"""Per-zone time sums: the shared step of utilisation, heatmap and forecast.

Seconds are *zone-equivalent*: for a desk area, desk-seconds divided by the
number of desks in the config, so a desk area with half its desks in use all
day counts as occupied half the day, never more than 100 %, and zones of every
kind add up on the same scale in hub totals.  Desks seen in the data but not in
the config are ignored; configured desks with no data count as unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from collector.stats.history import OCCUPIED, History, Track
from collector.stats.integrate import Integrator, peak_concurrent
from hubsense.config import Zone, ZoneKind

OCC_LUT = (0.0, 1.0, 0.0)  # free, occupied, unknown
KNOWN_LUT = (1.0, 1.0, 0.0)


@dataclass(frozen=True)
class ZoneSums:
    occupied_s: np.ndarray
    known_s: np.ndarray
    peak_desks: np.ndarray | None  # desk areas only; -1 where the bucket is never open


def zone_tracks(history: History, zone: Zone) -> list[Track]:
    """The tracks that measure a zone: its desks for a desk area, else the zone itself."""
    if zone.kind is ZoneKind.DESK_AREA:
        return [history.track((zone.id, d.id)) for d in zone.desks]
    return [history.track((zone.id, None))]


def zone_sums(history: History, zone: Zone, integrator: Integrator, peaks: bool = True) -> ZoneSums:
    """Per-bucket occupied and known seconds of a zone (and its desk peaks) over the integrator's buckets."""
    tracks = zone_tracks(history, zone)
    mask, edges = integrator.mask, integrator.edges
    occ, known = np.zeros(integrator.n), np.zeros(integrator.n)
    for track in tracks:
        o, k = integrator.bucket_sums(track, [OCC_LUT, KNOWN_LUT])
        occ += o
        known += k
    occ /= len(tracks)
    known /= len(tracks)
    peak = None
    if zone.kind is ZoneKind.DESK_AREA and peaks:
        peak = peak_concurrent(tracks, OCCUPIED, mask, edges)
    return ZoneSums(occ, known, peak)


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with NaN (reported as null) where den is 0; clipped to [0, 1] against rounding."""
    num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    ok = den > 1e-9
    np.divide(num, den, out=out, where=ok)
    return np.where(ok, np.clip(out, 0.0, 1.0), np.nan)
