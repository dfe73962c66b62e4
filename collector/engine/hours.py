"""Opening-hours arithmetic in the hub's local time zone (DST-safe, via zoneinfo)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hubsense.config import WEEKDAYS, Hub

MAX_DAYS = 400  # beyond this, counting further cannot change any flag


def opening_seconds(hub: Hub, start: float, end: float) -> float:
    """Seconds of opening hours between two epoch times (``start <= end``)."""
    if end <= start:
        return 0.0
    tz = hub.tz
    first = datetime.fromtimestamp(start, UTC).astimezone(tz).date()
    last = datetime.fromtimestamp(end, UTC).astimezone(tz).date()
    if (last - first).days > MAX_DAYS:
        first = last - timedelta(days=MAX_DAYS)
    total = 0.0
    day = first
    while day <= last:
        weekday = WEEKDAYS[day.weekday()]
        for hours in hub.opening_hours:
            if weekday not in hours.days:
                continue
            lo = datetime.combine(day, hours.open, tz).timestamp()
            hi = datetime.combine(day, hours.close, tz).timestamp()
            total += max(0.0, min(hi, end) - max(lo, start))
        day += timedelta(days=1)
    return total
