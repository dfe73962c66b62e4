"""A bookable room right now and the room events between two evaluations (collector/bookings/rooms.py), on
March 2026 in Mötesrum Ekorren (a real Outlook calendar, see scenario.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from collector.bookings.rooms import RoomEventType, RoomNow, RoomStatus, room_events, room_now
from collector.bookings.usage import state_intervals
from tests.collector.bookings.scenario import RELEASE_AFTER, ROOM, TZ, bookings, changes, door_spans, lt, stockholm

HUB = stockholm()
BOOKINGS = bookings(HUB)
CHANGES = changes()
GRACE = timedelta(minutes=10)  # the meeting rooms' tariff


def now_at(text: str) -> RoomNow:
    now = lt(text)
    states = state_intervals(CHANGES, ROOM, lt("2026-02-28 00:00"), now)
    return room_now(HUB, ROOM, BOOKINGS, states, door_spans(), now, RELEASE_AFTER)


def hm(t: datetime | None) -> str | None:
    return t.astimezone(TZ).strftime("%d %H:%M") if t else None


@pytest.mark.parametrize(("when", "status", "booking", "free_until", "extra"), [
    ("2026-03-03 12:00", RoomStatus.FREE, None, "05 13:00", {}),  # free until the next booking
    ("2026-03-05 12:55", RoomStatus.WALK_IN, None, "05 13:00", {"occupied_since": "05 12:50"}),  # early start
    ("2026-03-05 13:30", RoomStatus.BOOKED, "05 13:00", None, {}),
    ("2026-03-12 10:05", RoomStatus.OVERRUN, "12 09:00", None, {"overrun_s": 300, "next": "12 10:15"}),
    ("2026-03-12 10:20", RoomStatus.BOOKED, "12 10:15", None, {}),  # the overrun ran into the next booking
    ("2026-03-26 10:05", RoomStatus.BOOKED, "26 10:00", None, {}),  # nobody yet, not released yet
    ("2026-03-26 10:20", RoomStatus.RELEASED, "26 10:00", "27 09:00", {"released_at": "26 10:15"}),
    ("2026-03-26 10:45", RoomStatus.RELEASED_IN_USE, "26 10:00", "27 09:00", {"occupied_since": "26 10:40"}),
    ("2026-03-26 11:45", RoomStatus.RELEASED, "26 10:00", "27 09:00", {}),  # the walk-ins left
    ("2026-03-26 12:05", RoomStatus.FREE, None, "27 09:00", {}),
    ("2026-03-27 13:20", RoomStatus.RELEASED, "27 13:00", "27 15:00", {}),  # a peek through the door
    ("2026-03-27 15:20", RoomStatus.BOOKED, "27 15:00", None, {}),  # the door stands open: not released
    ("2026-03-30 14:30", RoomStatus.BOOKED, "30 14:00", None, {}),  # sensors unknown during a booking
    ("2026-03-30 16:00", RoomStatus.FREE, None, "31 09:00", {}),
])
def test_room_status(when: str, status: RoomStatus, booking: str | None, free_until: str | None,
                     extra: dict) -> None:
    room = now_at(when)
    assert (room.status, hm(room.booking.start if room.booking else None), hm(room.free_until)) == (
        status, booking, free_until)
    for name, want in extra.items():
        got = room.next.start if name == "next" else getattr(room, name)
        assert (hm(got) if isinstance(got, datetime) else got) == want, name


def test_unknown_without_a_booking_and_no_data_at_all() -> None:
    states = state_intervals([], ROOM, lt("2026-03-03 00:00"), lt("2026-03-03 12:00"))
    room = room_now(HUB, ROOM, BOOKINGS, states, [], lt("2026-03-03 12:00"), RELEASE_AFTER)
    assert room.status is RoomStatus.UNKNOWN and room.free_until is None  # never "free" without evidence


def events_over(day: str, start: str, end: str) -> list[tuple[str, str, dict]]:
    """Evaluate the room every minute and collect the events."""
    out, previous = [], None
    t, stop = lt(f"{day} {start}"), lt(f"{day} {end}")
    while t <= stop:
        current = now_at(t.astimezone(TZ).strftime("%Y-%m-%d %H:%M"))
        for e in room_events(HUB, previous, current, GRACE):
            assert e.data["zone_name"] == "Mötesrum Ekorren" and e.hub == "stockholm" and e.zone == ROOM
            out.append((e.type, hm(e.at), {k: hm(v) if isinstance(v, datetime) else v for k, v in e.data.items()
                                           if k not in ("hub", "zone", "zone_name")}))
        previous, t = current, t + timedelta(minutes=1)
    return out


def test_a_no_show_released_and_then_taken() -> None:
    assert events_over("2026-03-26", "09:50", "12:10") == [
        (RoomEventType.RELEASED, "26 10:15", {"booking_start": "26 10:00", "booking_end": "26 12:00",
                                              "released_at": "26 10:15", "free_until": "27 09:00"}),
        (RoomEventType.WALK_IN, "26 10:40", {"at": "26 10:40", "released_booking": True,
                                             "booking_start": "26 10:00", "booking_end": "26 12:00"}),
    ]


def test_walk_ins_and_overruns_past_the_grace_only() -> None:
    assert events_over("2026-03-05", "12:40", "14:10") == [  # an early start is a walk-in until the booking
        (RoomEventType.WALK_IN, "05 12:50", {"at": "05 12:50", "released_booking": False, "booking_start": None,
                                             "booking_end": None})]
    assert events_over("2026-03-12", "09:30", "11:30") == [  # cut short by the next booking at 10:15
        (RoomEventType.OVERRUN, "12 10:11", {"booking_start": "12 09:00", "booking_end": "12 10:00",
                                             "overrun_min": 11.0, "next_booking_start": "12 10:15"})]
    assert events_over("2026-03-17", "13:30", "14:30") == []  # 5 minutes over: within the grace
    assert [e[2]["overrun_min"] for e in events_over("2026-03-19", "15:30", "16:30")] == [11.0]
    assert events_over("2026-03-03", "08:30", "11:30") == []  # back to back, as booked
