"""Hook between bookings of bookable rooms and the statistics.

Bookings themselves (iCalendar parsing, no-show detection, per-room usage) live in
:mod:`collector.bookings`; this module only turns its :class:`~collector.bookings.Booking`
occurrences into a :class:`~collector.stats.opening.Mask`, so any time-weighted figure can
be taken over *booked* time instead of opening hours, e.g. how much of the booked time a
room was actually occupied.  The utilisation API does not mix bookings in yet: a later
issue can add booked-vs-sensed columns on top of :func:`booked_occupancy`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from collector.bookings import Booking
from collector.stats.history import History
from collector.stats.integrate import Integrator
from collector.stats.opening import Mask, merge_intervals
from collector.stats.zones import KNOWN_LUT, OCC_LUT


def booked_mask(bookings: Iterable[Booking], zone: str, start: float, end: float) -> Mask:
    """The zone's booked time in [start, end) (overlapping bookings counted once)."""
    spans = np.array([(b.start.timestamp(), b.end.timestamp()) for b in bookings if b.zone == zone],
                     dtype=np.float64).reshape(-1, 2)
    spans = np.clip(spans, start, end)
    return Mask.of(merge_intervals(spans[spans[:, 1] > spans[:, 0]]))


@dataclass(frozen=True)
class BookedOccupancy:
    booked_s: float
    known_s: float  # booked seconds with a known state
    occupied_s: float  # booked seconds the room was occupied


def booked_occupancy(history: History, zone: str, bookings: Iterable[Booking]) -> BookedOccupancy:
    mask = booked_mask(bookings, zone, history.start, history.end)
    edges = np.array([history.start, history.end])
    occ, known = Integrator(mask, edges).bucket_sums(history.track((zone, None)), [OCC_LUT, KNOWN_LUT])
    return BookedOccupancy(float(mask.lengths(edges)[0]), float(known[0]), float(occ[0]))
