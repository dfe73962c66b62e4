"""Bookings of bookable rooms compared with sensed occupancy.

Pure functions: :func:`room_usage` and :func:`live_bookings` compare bookings
(:mod:`collector.bookings.calendar`) with the room's state changes (from ``Store.changes``) up to
a given ``now``; nothing here does I/O or reads the clock.

A booking is a *no-show* when the room is not occupied at any moment of the
grace period after its start.  If the room's state was unknown (agent offline)
for part of that period and no occupancy was seen, the booking is ``unknown``:
a no-show is never claimed without evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from collector.bookings.calendar import Booking
from collector.model import OccupancyState, StateChange
from hubsense.spans import merge_spans

DEFAULT_GRACE = timedelta(minutes=15)
Interval = tuple[datetime, datetime]


class BookingStatus(StrEnum):
    USED = "used"  # occupied within the grace period after the start
    NO_SHOW = "no_show"  # known free for the whole grace period
    UNKNOWN = "unknown"  # not seen occupied, but the state was unknown for part of the grace period
    PENDING = "pending"  # started, grace period not over, not seen occupied yet
    UPCOMING = "upcoming"  # starts after ``now``


# -- intervals ----------------------------------------------------------------


def state_intervals(changes: Iterable[StateChange], zone: str, start: datetime,
                    end: datetime) -> dict[OccupancyState, list[Interval]]:
    """The zone's (not its desks') states as sorted, disjoint intervals within [start, end).

    ``changes`` as ``Store.changes`` returns them (the latest before ``start`` first);
    before the first change the state is unknown."""
    out: dict[OccupancyState, list[Interval]] = {s: [] for s in OccupancyState}
    state, since = OccupancyState.UNKNOWN, start
    for c in sorted((c for c in changes if c.zone == zone and c.desk is None), key=lambda c: c.at):
        at = min(max(c.at, start), end)
        if at > since:
            out[state].append((since, at))
        state, since = c.state, max(since, at)
    if end > since:
        out[state].append((since, end))
    return {s: merge_spans(v) for s, v in out.items()}


def clip(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    return [(max(a, start), min(b, end)) for a, b in intervals if a < end and b > start]


def length(intervals: Iterable[Interval]) -> float:
    return sum((b - a).total_seconds() for a, b in intervals)


def intersect(x: Sequence[Interval], y: Sequence[Interval]) -> list[Interval]:
    """Intersection of two sorted, disjoint interval lists."""
    out, i, j = [], 0, 0
    while i < len(x) and j < len(y):
        a, b = max(x[i][0], y[j][0]), min(x[i][1], y[j][1])
        if a < b:
            out.append((a, b))
        if x[i][1] < y[j][1]:
            i += 1
        else:
            j += 1
    return out


# -- reports ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookingOutcome:
    booking: Booking
    status: BookingStatus
    first_occupied: datetime | None  # first occupied instant within the booking (up to ``now``)
    used_s: float  # occupied seconds within the booking (up to ``now``)


@dataclass(slots=True)
class RoomUsage:
    """One room over [start, measured_until): figures in seconds."""

    zone: str
    start: datetime
    measured_until: datetime  # min(end, now): nothing after ``now`` is measured
    booked_s: float = 0.0
    used_s: float = 0.0
    booked_used_s: float = 0.0
    booked_unused_s: float = 0.0  # booked, known free
    unbooked_used_s: float = 0.0  # occupied outside any booking
    unknown_s: float = 0.0  # state unknown (agent offline / stale)
    bookings: list[BookingOutcome] = field(default_factory=list)

    @property
    def no_shows(self) -> int:
        return sum(1 for o in self.bookings if o.status is BookingStatus.NO_SHOW)


def booking_status(booking: Booking, states: dict[OccupancyState, list[Interval]], now: datetime,
                   grace: timedelta = DEFAULT_GRACE) -> BookingOutcome:
    """Classify one booking from the room's state intervals (which must cover the booking up to ``now``)."""
    until = min(booking.end, now)
    occupied = clip(states[OccupancyState.OCCUPIED], booking.start, until)
    first = occupied[0][0] if occupied else None
    used = length(occupied)
    if booking.start > now:
        return BookingOutcome(booking, BookingStatus.UPCOMING, None, 0.0)
    window_end = min(booking.start + grace, booking.end)
    if first is not None and first < window_end:
        status = BookingStatus.USED
    elif now < window_end:
        status = BookingStatus.PENDING
    elif clip(states[OccupancyState.UNKNOWN], booking.start, window_end):
        status = BookingStatus.UNKNOWN
    else:
        status = BookingStatus.NO_SHOW
    return BookingOutcome(booking, status, first, used)


def room_usage(zone: str, bookings: Sequence[Booking], changes: Sequence[StateChange], start: datetime,
               end: datetime, now: datetime, grace: timedelta = DEFAULT_GRACE) -> RoomUsage:
    """Booked vs used time of one room over [start, end), measured up to ``now``.

    ``changes`` must cover [min(start, first booking start), min(end, now)) for the zone."""
    until = max(start, min(end, now))
    own = [b for b in bookings if b.zone == zone and b.start < end and b.end > start]
    span_start = min([start, *(b.start for b in own)])
    span_end = max([until, *(min(b.end, now) for b in own)])
    states = state_intervals(changes, zone, span_start, max(span_start, span_end))
    booked = clip(merge_spans((b.start, b.end) for b in own), start, until)
    occupied = clip(states[OccupancyState.OCCUPIED], start, until)
    free = clip(states[OccupancyState.FREE], start, until)
    booked_used = intersect(booked, occupied)
    return RoomUsage(
        zone=zone, start=start, measured_until=until,
        booked_s=length(booked), used_s=length(occupied), booked_used_s=length(booked_used),
        booked_unused_s=length(intersect(booked, free)),
        unbooked_used_s=length(occupied) - length(booked_used),
        unknown_s=length(clip(states[OccupancyState.UNKNOWN], start, until)),
        bookings=[booking_status(b, states, now, grace) for b in own],
    )


def live_bookings(bookings: Sequence[Booking], changes: Sequence[StateChange], now: datetime,
                  grace: timedelta = DEFAULT_GRACE) -> list[BookingOutcome]:
    """Bookings running at ``now`` with their status; ``no_show`` means the room can be released.

    ``changes`` must cover each current booking's zone from the booking's start to ``now``."""
    current = [b for b in bookings if b.start <= now < b.end]
    out = []
    for b in current:
        states = state_intervals(changes, b.zone, b.start, now)
        out.append(booking_status(b, states, now, grace))
    return sorted(out, key=lambda o: (o.booking.start, o.booking.zone))
