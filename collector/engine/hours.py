"""Opening-hours arithmetic for the engine (the expansion itself is ``Hub.open_spans``)."""

from __future__ import annotations

from hubsense.config import Hub

MAX_DAYS = 400  # beyond this, counting further cannot change any flag


def opening_seconds(hub: Hub, start: float, end: float) -> float:
    """Seconds of opening hours between two epoch times (``start <= end``)."""
    start = max(start, end - (MAX_DAYS + 1) * 86400.0)
    return sum(b - a for a, b in hub.open_spans(start, end))
