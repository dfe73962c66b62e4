"""Booking routes: booked vs used hours per bookable room, no-shows, and live release flags.

Calendars come from the ``bookings`` setting (see :mod:`collector.bookings.sources`; the
composition root builds them) and are only held in memory; occupancy from the stored zone
state changes.  ``start`` / ``end`` follow the statistics API (ISO 8601 with offset, or a
bare date = local midnight).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends, HTTPException, Query, Response

from collector.api.access import MANAGER
from collector.api.formats import csv_response
from collector.api.models import BookingOut, BookingReport, LiveBookings, RoomBookings, RoomLiveOut
from collector.api.params import (
    DIALECT,
    END,
    FORMAT,
    START,
    Dialect,
    Format,
    find_zone,
    get_hub,
    get_rooms,
    get_settings,
    get_sources,
    get_store,
    period,
)
from collector.api.rooms import current_rooms
from collector.api.security import GuardedRoute
from collector.bookings.sources import CalendarSources, CalendarUnavailable
from collector.bookings.usage import live_bookings, room_usage
from collector.bookings.watch import RoomWatch
from collector.settings import Settings
from collector.store.base import Store
from hubsense.config import Hub

router = APIRouter(dependencies=[MANAGER], route_class=GuardedRoute)


CSV_COLUMNS = ["zone", "room", "booked_hours", "used_hours", "booked_used_hours", "booked_unused_hours",
               "unbooked_used_hours", "unknown_hours", "bookings", "no_shows"]


@router.get("/api/hubs/{hub}/bookings", response_model=BookingReport,
            summary="Booked vs used hours, no-shows and unbooked use per bookable room")
def get_bookings(
    start: str = START, end: str = END,
    zone: str | None = Query(None, description="Only this room (id, case-insensitive)."),
    format: Format = Query("json", description="json, or csv (one row per room)."), dialect: Dialect = DIALECT,
    hub: Hub = Depends(get_hub), store: Store = Depends(get_store),
    settings: Settings = Depends(get_settings), sources: CalendarSources = Depends(get_sources),
) -> Response | BookingReport:
    s, e = period(hub, start, end, settings)
    rooms = sources.rooms.get(hub.id, {})
    if zone is not None:
        zone = find_zone(hub, zone).id
        if zone not in rooms:
            raise HTTPException(404, f"no booking calendar for zone {zone!r} in hub {hub.id!r} (rooms with one: "
                                     f"{', '.join(sorted(rooms)) or 'none'})")
    now = datetime.now(UTC)
    grace = timedelta(minutes=settings.bookings_grace_min)
    bookings = _load(sources, hub, s, e, zone)
    report = []
    for room in sorted(rooms) if zone is None else [zone]:
        own = [b for b in bookings if b.zone == room]
        span_start = min([s, *(b.start for b in own)])  # a booking may start before the period
        span_end = max(span_start, min(max([e, *(b.end for b in own)]), now))
        u = room_usage(room, own, store.changes(hub.id, span_start, span_end, room), s, e, now, grace)
        report.append(RoomBookings(
            zone=room, room=hub.zone(room).name, booked_hours=_h(u.booked_s), used_hours=_h(u.used_s),
            booked_used_hours=_h(u.booked_used_s), booked_unused_hours=_h(u.booked_unused_s),
            unbooked_used_hours=_h(u.unbooked_used_s), unknown_hours=_h(u.unknown_s),
            bookings=len(u.bookings), no_shows=u.no_shows, items=[BookingOut.build(hub, o) for o in u.bookings]))
    if format == "csv":
        return csv_response([r.model_dump() for r in report], CSV_COLUMNS, f"{hub.id}-bookings", dialect, hub.tz)
    return BookingReport(hub=hub.id, start=s, end=e, measured_until=max(s, min(e, now)),
                         grace_minutes=settings.bookings_grace_min, rooms=report)


@router.get("/api/hubs/{hub}/bookings/live", response_model=LiveBookings,
            summary="Bookings running now, with a no-show flag once the grace period is over")
def get_live_bookings(
    format: Format = FORMAT, dialect: Dialect = DIALECT,
    hub: Hub = Depends(get_hub), store: Store = Depends(get_store),
    settings: Settings = Depends(get_settings), sources: CalendarSources = Depends(get_sources),
    rooms: RoomWatch = Depends(get_rooms),
) -> Response | LiveBookings:
    now = datetime.now(UTC)
    current = [b for b in _load(sources, hub, now, now + timedelta(seconds=1)) if b.start <= now < b.end]
    grace = timedelta(minutes=settings.bookings_grace_min)
    outcomes = []
    for room in sorted({b.zone for b in current}):
        own = [b for b in current if b.zone == room]
        changes = store.changes(hub.id, min(b.start for b in own), now, room)
        outcomes += live_bookings(own, changes, now, grace)
    outcomes.sort(key=lambda o: (o.booking.start, o.booking.zone))
    items = [BookingOut.build(hub, o) for o in outcomes]
    if format == "csv":
        return csv_response([b.model_dump() for b in items], list(BookingOut.model_fields),
                            f"{hub.id}-bookings-live", dialect, hub.tz)
    return LiveBookings(hub=hub.id, now=now, grace_minutes=settings.bookings_grace_min, bookings=items,
                        rooms=[RoomLiveOut.build(hub, r) for r in current_rooms(rooms, hub)])


def _load(sources: CalendarSources, hub: Hub, start: datetime, end: datetime, zone: str | None = None) -> list:
    try:
        return sources.bookings(hub.id, start, end, zone)
    except CalendarUnavailable as exc:
        raise HTTPException(502, str(exc)) from None


def _h(seconds: float) -> float:
    return round(seconds / 3600, 4)
