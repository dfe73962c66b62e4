"""Per-zone totals of a state-change timeline (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from collector.model import OccupancyState, StateChange


def summarize(changes: Iterable[StateChange], start: datetime, end: datetime) -> dict[tuple[str, str], dict]:
    """Seconds occupied / free / unknown and the number of occupied sessions per (hub, zone)
    within ``[start, end]``; a zone is unknown before its first change."""
    by_zone: dict[tuple[str, str], list[StateChange]] = {}
    for c in changes:
        if c.desk is None:
            by_zone.setdefault((c.hub, c.zone), []).append(c)
    out = {}
    for key, zone_changes in by_zone.items():
        totals = {s.value: 0.0 for s in OccupancyState}
        sessions = 0
        state, since = OccupancyState.UNKNOWN, start
        for c in sorted(zone_changes, key=lambda c: c.at):
            at = min(max(c.at, start), end)
            totals[state.value] += (at - since).total_seconds()
            if c.state is OccupancyState.OCCUPIED and state is not OccupancyState.OCCUPIED and c.at <= end:
                sessions += 1
            state, since = c.state, at
        totals[state.value] += max(0.0, (end - since).total_seconds())
        out[key] = {
            "occupied_s": round(totals["occupied"], 3),
            "free_s": round(totals["free"], 3),
            "unknown_s": round(totals["unknown"], 3),
            "sessions": sessions,
        }
    return out
