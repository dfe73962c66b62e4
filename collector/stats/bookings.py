"""Seam for bookings of bookable rooms (meeting, conference and project rooms).

Not implemented yet: a later issue connects a booking source (e.g. an iCalendar
feed per room; ``icalendar`` is already a collector dependency) and fills
:func:`booked_intervals`.  Statistics will then compare booked time with sensed
occupancy (no-shows: booked but free; unbooked use: occupied but not booked).
Until then :func:`booked_intervals` returns None ("no booking data"), never an
empty list, so no report can mistake "unknown" for "never booked".
"""

from __future__ import annotations

import numpy as np

from hubsense.config import Hub


def booked_intervals(hub: Hub, zone: str, start: float, end: float) -> np.ndarray | None:
    """Booked [from, to) epoch-second intervals of a bookable zone, shape (n, 2), or None when
    no booking source is configured (always, for now)."""
    return None
