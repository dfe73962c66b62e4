"""Bookable rooms right now (members: the room cards of the member view and the kiosk) and the latest
room events (managers: released, walk-in, overrun; the webhook deliveries of the same types carry the
same data).  Both come from the room watch (:mod:`collector.bookings.watch`)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, HTTPException, Query

from collector.api.access import LIVE, MANAGER
from collector.api.models import RoomEventOut, RoomEvents, RoomOut, RoomsNow
from collector.api.params import get_hub, get_rooms, parse_time
from collector.api.security import GuardedRoute
from collector.bookings.rooms import RoomNow
from collector.bookings.sources import CalendarUnavailable
from collector.bookings.watch import RoomWatch
from hubsense.config import Hub

router = APIRouter(route_class=GuardedRoute)


@router.get("/api/hubs/{hub}/rooms", response_model=RoomsNow, dependencies=[LIVE],
            summary="Bookable rooms now: booked, released (free to use until ...), walk-in, free until the next "
                    "booking; times only, never titles or organisers")
def get_rooms_now(hub: Hub = Depends(get_hub), rooms: RoomWatch = Depends(get_rooms)) -> RoomsNow:
    now = datetime.now(UTC)
    return RoomsNow(hub=hub.id, now=now, rooms=[RoomOut.build(hub, r) for r in current_rooms(rooms, hub)])


@router.get("/api/hubs/{hub}/rooms/events", response_model=RoomEvents, dependencies=[MANAGER],
            summary="The latest room events (released, walk-in, overrun), webhook-ready")
def get_room_events(
    since: str | None = Query(None, description="Only events at or after this time (ISO 8601 with offset)."),
    hub: Hub = Depends(get_hub), rooms: RoomWatch = Depends(get_rooms),
) -> RoomEvents:
    after = parse_time(since, hub, "since") if since else None
    events = [RoomEventOut(type=e.type, hub=e.hub, zone=e.zone, at=e.at, data=e.data)
              for e in rooms.recent(hub.id, after)]
    return RoomEvents(hub=hub.id, events=events)


def current_rooms(rooms: RoomWatch, hub: Hub) -> list[RoomNow]:
    """The hub's rooms now, or 502 if a calendar cannot be read."""
    try:
        return rooms.rooms(hub.id)
    except CalendarUnavailable as exc:
        raise HTTPException(502, str(exc)) from None
