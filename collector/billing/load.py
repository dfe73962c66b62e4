"""A hub's monthly statement from its calendars and its store (the I/O around
:func:`collector.billing.statement.build_statement`): bookings from the imported calendars, each room's
states from the stored state changes, door spans from the stored door events."""

from __future__ import annotations

from datetime import datetime, timedelta

from collector.billing.statement import MonthStatement, build_statement, month_span
from collector.bookings.facts import release_after
from collector.bookings.load import door_spans, room_states
from collector.bookings.sources import CalendarSources
from collector.store.base import Store
from hubsense.config import Hub

CONTEXT = timedelta(days=1)  # bookings around the month that cut its early starts and overruns


def load_statement(store: Store, sources: CalendarSources, hub: Hub, month: str, now: datetime,
                   grace_min: float) -> MonthStatement:
    """The hub's statement for ``month`` (YYYY-MM) as observed at ``now``.  Raises ValueError for a bad month,
    :class:`~collector.bookings.sources.CalendarUnavailable` if a calendar cannot be read.  ``grace_min``:
    the release time when the hub config sets none."""
    start, end = month_span(hub, month)
    span_start, span_end = start - CONTEXT, end + CONTEXT
    bookings = sources.bookings(hub.id, span_start, span_end)
    until = max(span_start, min(span_end, now))
    states = {room: room_states(store, hub, room, span_start, until) for room in {b.zone for b in bookings}}
    doors = door_spans(store, hub, span_start, until)
    return build_statement(hub, month, bookings, states, doors, now, release_after(hub, grace_min))
