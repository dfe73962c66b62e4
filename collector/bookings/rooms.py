"""A bookable room right now: booked, released, taken, walked into, running over, or free until the next
booking (pure), and the room events that follow from one status to the next.

:func:`room_now` reads the room's bookings, states and door spans up to ``now`` through
:func:`collector.bookings.facts.booking_facts`; :func:`room_events` compares two consecutive
:class:`RoomNow` of a room and says what happened in between.  The stateful shell that polls the rooms
and hands the events to listeners (SSE, webhooks) is :mod:`collector.bookings.watch`.  Nothing here
carries a title, an organiser or an organisation: what members may see is a room and times.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from collector.bookings.calendar import Booking
from collector.bookings.facts import BookingFacts, States, booking_facts
from collector.bookings.usage import Interval
from collector.model import OccupancyState
from hubsense.config import Hub


class RoomStatus(StrEnum):
    FREE = "free"  # no booking running; free until the next one
    BOOKED = "booked"  # a booking is running (in use, or not released yet)
    RELEASED = "released"  # the running booking is a no-show: free to use until the next booking
    RELEASED_IN_USE = "released_in_use"  # a released booking's room is used by walk-ins
    WALK_IN = "walk_in"  # in use, not booked
    OVERRUN = "overrun"  # a booking has ended and the room is still in use (managers only)
    UNKNOWN = "unknown"  # no booking running and the room's sensors are unknown


class RoomEventType(StrEnum):
    """Room events (the webhook event types of the same names: collector/notify/events.py)."""

    RELEASED = "room.released"
    WALK_IN = "room.walk_in"
    OVERRUN = "room.overrun"


@dataclass(frozen=True, slots=True)
class RoomNow:
    hub: str
    zone: str
    at: datetime  # when this was evaluated
    status: RoomStatus
    booking: Booking | None  # the running booking, or the one running over
    next: Booking | None  # the next booking to start after ``at``
    free_until: datetime | None  # FREE, RELEASED, WALK_IN: when the room is needed next (None: not soon)
    released_at: datetime | None  # RELEASED, RELEASED_IN_USE: when the running booking was released
    occupied_since: datetime | None  # when the current occupied stretch began (None: not occupied)
    overrun_s: float  # OVERRUN: how long the room has been in use past the booking's end


def room_now(hub: Hub, zone: str, bookings: Sequence[Booking], states: States, door_open: Sequence[Interval],
             now: datetime, release_after: timedelta) -> RoomNow:
    """The room's status at ``now``.  ``bookings``: the room's bookings around ``now`` (those that may still
    run over, and the coming ones); ``states`` must cover them up to ``now``."""
    own = sorted((b for b in bookings if b.zone == zone), key=lambda b: (b.start, b.end))
    facts = [f for f in booking_facts(own, states, door_open, now, release_after) if f.started]
    upcoming = next((b for b in own if b.start > now), None)
    state, since = _state_at(states, now)
    occupied_since = since if state is OccupancyState.OCCUPIED else None

    def made(status: RoomStatus, f: BookingFacts | None = None, free: bool = False) -> RoomNow:
        return RoomNow(hub.id, zone, now, status, f.booking if f else None, upcoming,
                       upcoming.start if free and upcoming else None, f.released_at if f else None,
                       occupied_since, f.overrun_s if status is RoomStatus.OVERRUN and f else 0.0)

    running = [f for f in facts if f.booking.end > now]
    if running:
        held = next((f for f in running if not f.released), None)
        if held is not None:
            return made(RoomStatus.BOOKED, held)
        return made(RoomStatus.RELEASED_IN_USE if occupied_since else RoomStatus.RELEASED, running[0], free=True)
    over = next((f for f in facts if not f.complete), None)  # ended, and the room is still in use
    if over is not None:
        return made(RoomStatus.OVERRUN, over)
    if state is OccupancyState.OCCUPIED:
        return made(RoomStatus.WALK_IN, free=True)
    if state is OccupancyState.UNKNOWN:
        return made(RoomStatus.UNKNOWN)
    return made(RoomStatus.FREE, free=True)


def _state_at(states: States, now: datetime) -> tuple[OccupancyState, datetime | None]:
    """The state in the interval that ends at (or runs through) ``now``, and when that interval began."""
    for state, spans in states.items():
        for a, b in spans:
            if a < now <= b:
                return state, a
    return OccupancyState.UNKNOWN, None


@dataclass(frozen=True, slots=True)
class RoomEvent:
    """Something happened to a room: the webhook-ready event (``data`` fits the webhook payload model of
    ``type`` in collector/notify/events.py)."""

    type: RoomEventType
    hub: str
    zone: str
    at: datetime
    data: dict


def room_events(hub: Hub, previous: RoomNow | None, current: RoomNow, overrun_grace: timedelta) -> list[RoomEvent]:
    """What happened between two consecutive evaluations of a room (none for the first one: the collector
    announces what it sees happen).  An overrun is announced once it is longer than ``overrun_grace``."""
    if previous is None:
        return []
    same = previous.booking == current.booking
    status, before = current.status, previous.status
    base = {"hub": hub.id, "zone": current.zone, "zone_name": hub.zone(current.zone).name}
    b = current.booking
    if status is RoomStatus.RELEASED and not (same and before in (RoomStatus.RELEASED, RoomStatus.RELEASED_IN_USE)):
        return [RoomEvent(RoomEventType.RELEASED, hub.id, current.zone, current.released_at or current.at, {
            **base, "booking_start": b.start, "booking_end": b.end, "released_at": current.released_at,
            "free_until": current.free_until})]
    if status is RoomStatus.RELEASED_IN_USE and not (same and before is RoomStatus.RELEASED_IN_USE):
        at = current.occupied_since or current.at
        return [RoomEvent(RoomEventType.WALK_IN, hub.id, current.zone, at, {
            **base, "at": at, "released_booking": True, "booking_start": b.start, "booking_end": b.end})]
    if status is RoomStatus.WALK_IN and before is not RoomStatus.WALK_IN:
        at = current.occupied_since or current.at
        return [RoomEvent(RoomEventType.WALK_IN, hub.id, current.zone, at, {
            **base, "at": at, "released_booking": False, "booking_start": None, "booking_end": None})]
    grace_s = overrun_grace.total_seconds()
    announced = same and before is RoomStatus.OVERRUN and previous.overrun_s > grace_s
    if status is RoomStatus.OVERRUN and current.overrun_s > grace_s and not announced:
        return [RoomEvent(RoomEventType.OVERRUN, hub.id, current.zone, current.at, {
            **base, "booking_start": b.start, "booking_end": b.end, "overrun_min": round(current.overrun_s / 60, 1),
            "next_booking_start": current.next.start if current.next else None})]
    return []
