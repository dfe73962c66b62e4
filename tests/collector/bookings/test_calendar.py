"""iCalendar parsing of booking calendars (collector/bookings/calendar.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from collector.bookings.calendar import parse_calendar

STHLM = ZoneInfo("Europe/Stockholm")
ROOM = "motesrum-ekorren"


def t(hhmm: str, day: int = 2) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime(2026, 3, day, h, m, tzinfo=UTC)


def cal(*events: str) -> str:
    body = "".join(f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events)
    body = body.replace("\n", "\r\n").replace("\r\r\n", "\r\n")
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//hubsense tests//EN\r\n{body}END:VCALENDAR\r\n"


def test_plain_events_are_parsed_in_utc_and_cancelled_ones_skipped() -> None:
    data = cal(
        "UID:1\nSUMMARY:Styrelsemöte\nDTSTART;TZID=Europe/Stockholm:20260302T100000\n"
        "DTEND;TZID=Europe/Stockholm:20260302T113000",
        "UID:2\nSUMMARY:Inställt\nSTATUS:CANCELLED\nDTSTART:20260302T130000Z\nDTEND:20260302T140000Z",
        "UID:3\nSUMMARY:Utanför\nDTSTART:20260310T130000Z\nDTEND:20260310T140000Z",
        "UID:4\nSUMMARY:Kort\nDTSTART:20260302T150000Z\nDURATION:PT30M",
    )
    got = parse_calendar(data, ROOM, STHLM, t("00:00"), t("00:00", day=3))
    assert [(b.uid, b.start, b.end) for b in got] == [
        ("1", t("09:00"), t("10:30")),  # CET = UTC+1
        ("4", t("15:00"), t("15:30")),
    ]
    assert all(b.zone == ROOM for b in got)


def test_all_day_and_floating_events_use_the_hub_time_zone() -> None:
    data = cal("UID:d\nDTSTART;VALUE=DATE:20260302\nDTEND;VALUE=DATE:20260303",
               "UID:f\nDTSTART:20260302T080000\nDTEND:20260302T090000")
    got = {b.uid: b for b in parse_calendar(data, ROOM, STHLM, t("00:00", day=1), t("00:00", day=4))}
    assert (got["d"].start, got["d"].end) == (t("23:00", day=1), t("23:00", day=2))
    assert (got["f"].start, got["f"].end) == (t("07:00"), t("08:00"))


def test_weekly_rule_keeps_local_time_across_the_dst_change() -> None:
    # Sweden moves to summer time on 2026-03-29: 09:00 local is 08:00 UTC before, 07:00 UTC after.
    data = cal("UID:w\nSUMMARY:Standup\nDTSTART;TZID=Europe/Stockholm:20260320T090000\n"
               "DTEND;TZID=Europe/Stockholm:20260320T093000\nRRULE:FREQ=WEEKLY;COUNT=4\n"
               "EXDATE;TZID=Europe/Stockholm:20260327T090000")
    got = parse_calendar(data, ROOM, STHLM, t("00:00", day=1), datetime(2026, 5, 1, tzinfo=UTC))
    assert [(b.start, b.end - b.start) for b in got] == [
        (datetime(2026, 3, 20, 8, 0, tzinfo=UTC), timedelta(minutes=30)),
        (datetime(2026, 4, 3, 7, 0, tzinfo=UTC), timedelta(minutes=30)),
        (datetime(2026, 4, 10, 7, 0, tzinfo=UTC), timedelta(minutes=30)),
    ]


def test_window_cuts_an_endless_rule_and_overrides_replace_occurrences() -> None:
    data = cal(
        "UID:r\nDTSTART:20260302T120000Z\nDTEND:20260302T130000Z\nRRULE:FREQ=DAILY",
        "UID:r\nRECURRENCE-ID:20260303T120000Z\nDTSTART:20260303T140000Z\nDTEND:20260303T150000Z",
        "UID:r\nRECURRENCE-ID:20260304T120000Z\nSTATUS:CANCELLED\nDTSTART:20260304T120000Z\n"
        "DTEND:20260304T130000Z",
    )
    got = parse_calendar(data, ROOM, STHLM, t("12:30"), t("12:30", day=6))
    assert [b.start for b in got] == [t("12:00"), t("14:00", day=3), t("12:00", day=5), t("12:00", day=6)]


def test_until_as_a_date_includes_the_last_day() -> None:
    data = cal("UID:u\nDTSTART;VALUE=DATE:20260302\nRRULE:FREQ=DAILY;UNTIL=20260304")
    got = parse_calendar(data, ROOM, STHLM, t("00:00", day=1), t("00:00", day=20))
    assert [b.start.astimezone(STHLM).day for b in got] == [2, 3, 4]


def test_garbage_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_calendar(b"this is not a calendar", ROOM, STHLM, t("00:00"), t("01:00"))


# -- state intervals and room usage -----------------------------------------


