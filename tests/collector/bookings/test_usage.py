"""Bookings vs sensed occupancy: booked and used time, no-shows (collector/bookings/usage.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.bookings.calendar import Booking
from collector.bookings.usage import BookingStatus, live_bookings, room_usage, state_intervals
from collector.model import OccupancyState, StateChange

ROOM = "motesrum-ekorren"
FREE, OCC, UNK = OccupancyState.FREE, OccupancyState.OCCUPIED, OccupancyState.UNKNOWN


def t(hhmm: str, day: int = 2) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime(2026, 3, day, h, m, tzinfo=UTC)


def changes(*items: tuple[str, OccupancyState], zone: str = ROOM) -> list[StateChange]:
    return [StateChange("stockholm", zone, None, state, t(at)) for at, state in items]


def test_state_intervals_start_unknown_and_use_the_change_before_start() -> None:
    got = state_intervals(changes(("07:00", FREE), ("08:30", OCC)), ROOM, t("08:00"), t("09:00"))
    assert got == {FREE: [(t("08:00"), t("08:30"))], OCC: [(t("08:30"), t("09:00"))], UNK: []}
    assert state_intervals([], ROOM, t("08:00"), t("09:00"))[UNK] == [(t("08:00"), t("09:00"))]
    desk = [StateChange("stockholm", ROOM, "desk-01", OCC, t("08:00"))]
    assert state_intervals(desk, ROOM, t("08:00"), t("09:00"))[OCC] == []


BOOKINGS = [
    Booking(ROOM, t("09:00"), t("10:00"), "A"),
    Booking(ROOM, t("10:30"), t("11:00"), "B"),
    Booking(ROOM, t("11:30"), t("12:30"), "C"),
    Booking("other-room", t("09:00"), t("12:00"), "elsewhere"),
]
DAY = changes(("07:00", FREE), ("08:00", OCC), ("08:30", FREE), ("09:05", OCC), ("09:50", FREE),
              ("11:40", OCC), ("12:20", FREE))


def test_room_usage_on_a_hand_made_morning() -> None:
    u = room_usage(ROOM, BOOKINGS, DAY, t("08:00"), t("12:00"), now=t("13:00"))
    minutes = {k: getattr(u, k) / 60 for k in ("booked_s", "used_s", "booked_used_s", "booked_unused_s",
                                                "unbooked_used_s", "unknown_s")}
    assert minutes == {"booked_s": 120, "used_s": 95, "booked_used_s": 65, "booked_unused_s": 55,
                       "unbooked_used_s": 30, "unknown_s": 0}
    assert [(o.booking.uid, o.status, o.first_occupied, o.used_s / 60) for o in u.bookings] == [
        ("A", BookingStatus.USED, t("09:05"), 45),
        ("B", BookingStatus.NO_SHOW, None, 0),
        ("C", BookingStatus.USED, t("11:40"), 40),  # measured to its end, past the period
    ]
    assert u.no_shows == 1 and u.measured_until == t("12:00")


def test_nothing_after_now_is_measured() -> None:
    u = room_usage(ROOM, BOOKINGS, DAY, t("08:00"), t("12:00"), now=t("10:40"))
    assert u.measured_until == t("10:40")
    assert u.booked_s / 60 == 70  # 09:00-10:00 and 10:30-10:40
    assert [o.status for o in u.bookings] == [BookingStatus.USED, BookingStatus.PENDING, BookingStatus.UPCOMING]


def test_a_late_arrival_is_still_a_no_show_but_shows_when_they_came() -> None:
    day = changes(("08:00", FREE), ("10:50", OCC))
    [b] = room_usage(ROOM, BOOKINGS[1:2], day, t("08:00"), t("12:00"), now=t("12:00")).bookings
    assert (b.status, b.first_occupied) == (BookingStatus.NO_SHOW, t("10:50"))


def test_grace_period_is_configurable() -> None:
    day = changes(("08:00", FREE), ("10:50", OCC))
    [b] = room_usage(ROOM, BOOKINGS[1:2], day, t("08:00"), t("12:00"), now=t("12:00"),
                     grace=timedelta(minutes=25)).bookings
    assert b.status is BookingStatus.USED


def test_unknown_state_during_grace_is_not_a_no_show() -> None:
    day = changes(("08:00", FREE), ("10:35", UNK), ("10:40", FREE))
    [b] = room_usage(ROOM, BOOKINGS[1:2], day, t("08:00"), t("12:00"), now=t("12:00")).bookings
    assert b.status is BookingStatus.UNKNOWN
    # occupied from before the start (the previous meeting runs over) counts as used
    day = changes(("08:00", FREE), ("10:20", OCC), ("10:35", FREE))
    [b] = room_usage(ROOM, BOOKINGS[1:2], day, t("08:00"), t("12:00"), now=t("12:00")).bookings
    assert (b.status, b.first_occupied) == (BookingStatus.USED, t("10:30"))


def test_live_flags_a_no_show_once_the_grace_period_is_over() -> None:
    day = changes(("08:00", FREE))
    [other, b] = live_bookings(BOOKINGS, day, now=t("10:40"))  # sorted by start
    assert (b.booking.uid, b.status) == ("B", BookingStatus.PENDING)
    assert (other.booking.zone, other.status) == ("other-room", BookingStatus.UNKNOWN)  # no data for it
    [_, b] = live_bookings(BOOKINGS, day, now=t("10:46"))
    assert (b.booking.uid, b.status) == ("B", BookingStatus.NO_SHOW)
    [a, other] = live_bookings(BOOKINGS, DAY + changes(("08:00", OCC), zone="other-room"), now=t("09:10"))
    assert (a.booking.uid, a.status, other.status) == ("A", BookingStatus.USED, BookingStatus.USED)
    assert [o.booking.zone for o in live_bookings(BOOKINGS, day, now=t("10:15"))] == ["other-room"]


_minutes = st.integers(min_value=0, max_value=600)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_minutes, st.sampled_from([FREE, OCC])), max_size=12),
       st.lists(st.tuples(_minutes, st.integers(min_value=1, max_value=120)), max_size=6))
def test_booked_time_splits_into_used_and_unused_when_the_state_is_known(
        steps: list[tuple[int, OccupancyState]], spans: list[tuple[int, int]]) -> None:
    base = t("06:00")
    chg = [StateChange("stockholm", ROOM, None, FREE, base)]
    chg += [StateChange("stockholm", ROOM, None, s, base + timedelta(minutes=m)) for m, s in sorted(steps)]
    books = [Booking(ROOM, base + timedelta(minutes=m), base + timedelta(minutes=m + d)) for m, d in spans]
    u = room_usage(ROOM, books, chg, base, base + timedelta(hours=8), now=base + timedelta(hours=9))
    assert u.unknown_s == 0
    assert u.booked_used_s + u.booked_unused_s == pytest.approx(u.booked_s)
    assert u.booked_used_s + u.unbooked_used_s == pytest.approx(u.used_s)
    assert 0 <= u.booked_s <= 8 * 3600 and 0 <= u.used_s <= 8 * 3600
    assert all(o.status in (BookingStatus.USED, BookingStatus.NO_SHOW) for o in u.bookings)


def test_occupied_share_of_booked_time() -> None:
    """Overlapping bookings count once, other rooms' bookings not at all, unknown time is neither
    used nor unused (was the test of the removed second computation in collector/stats/bookings.py)."""
    bookings = [Booking(ROOM, t("09:00"), t("11:00")), Booking(ROOM, t("10:00"), t("12:00")),
                Booking("other", t("08:00"), t("18:00")), Booking(ROOM, t("16:00"), t("17:00"))]
    chg = changes(("00:00", FREE), ("09:15", OCC), ("10:45", FREE), ("16:30", UNK))
    u = room_usage(ROOM, bookings, chg, t("00:00"), t("17:00"), now=t("18:00"))
    assert u.booked_s == 4 * 3600  # 9-12 merged, 16-17
    assert u.booked_used_s + u.booked_unused_s == pytest.approx(3.5 * 3600)  # known booked time
    assert u.booked_used_s == pytest.approx(1.5 * 3600)
