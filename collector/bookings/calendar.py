"""Booking calendars: one room's iCalendar data as :class:`Booking` occurrences.

Pure: :func:`parse_calendar` expands recurring events (DST-correct in the event's own time
zone) within a window.  Where calendars come from is :mod:`collector.bookings.sources`; how
bookings compare with sensed occupancy is :mod:`collector.bookings.usage`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo

import icalendar
from dateutil.rrule import rruleset, rrulestr

from collector.bookings.organisations import ORGANISATION_PROPERTY

Interval = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class Booking:
    """One occurrence of a booking, in UTC: a room, a time span and the organisation it was attributed
    to at import (None: unassigned).  No title, organiser or attendee: those can name people."""

    zone: str
    start: datetime
    end: datetime
    uid: str = ""
    organisation: str | None = None


def parse_calendar(data: bytes | str, zone: str, tz: tzinfo, start: datetime, end: datetime) -> list[Booking]:
    """Bookings of ``zone`` overlapping [start, end), sorted by start.

    ``tz`` (the hub's time zone) places all-day and floating-time events.
    Cancelled events and cancelled occurrences are skipped; RRULE / RDATE /
    EXDATE are expanded and RECURRENCE-ID overrides replace their occurrence.
    The organisation is read from an imported calendar
    (:func:`collector.bookings.organisations.import_calendar`); titles are never read.
    Raises ValueError for data that is not an iCalendar calendar.
    """
    try:
        cal = icalendar.Calendar.from_ical(data)
    except Exception as exc:  # icalendar raises ValueError and friends
        raise ValueError(f"not an iCalendar file: {exc}") from None
    events = list(cal.walk("VEVENT"))
    overrides = {(str(e.get("UID", "")), _utc(_aware(e.decoded("RECURRENCE-ID"), tz)))
                 for e in events if "RECURRENCE-ID" in e}
    out: list[Booking] = []
    for ev in events:
        for occ_start, occ_end in _occurrences(ev, tz, start, end, overrides):
            if str(ev.get("STATUS", "")).upper() != "CANCELLED" and occ_start < end and occ_end > start:
                org = str(ev[ORGANISATION_PROPERTY]) if ORGANISATION_PROPERTY in ev else None
                out.append(Booking(zone, occ_start, occ_end, str(ev.get("UID", "")), org))
    out.sort(key=lambda b: (b.start, b.end, b.uid))
    return out


def _occurrences(ev, tz: tzinfo, start: datetime, end: datetime,
                 overrides: set[tuple[str, datetime]]) -> list[Interval]:
    first = _aware(ev.start, tz)
    length = _aware(ev.end, tz) - first if ev.get("DTEND") or ev.get("DURATION") else ev.duration
    if "RECURRENCE-ID" in ev or not (ev.rrules or ev.rdates):
        return [(_utc(first), _utc(first + length))]
    rules = rruleset()
    for rule in ev.rrules:
        rules.rrule(rrulestr(_recur_text(rule, tz), dtstart=first))
    for rdate in ev.rdates:
        rules.rdate(_aware(rdate[0] if isinstance(rdate, tuple) else rdate, tz))
    for exdate in ev.exdates:
        rules.exdate(_aware(exdate, tz))
    rules.rdate(first)  # DTSTART is always the first occurrence
    uid = str(ev.get("UID", ""))
    return [(_utc(s), _utc(s + length)) for s in rules.between(start - length, end, inc=True)
            if (uid, _utc(s)) not in overrides]


def _recur_text(rule: icalendar.vRecur, tz: tzinfo) -> str:
    """RRULE text dateutil accepts with an aware DTSTART: UNTIL made UTC."""
    rule = icalendar.vRecur(rule)
    if "UNTIL" in rule:
        until = rule["UNTIL"][0]
        if not isinstance(until, datetime):  # a DATE: the whole last day is included
            until = datetime.combine(until, time(23, 59, 59), tz)
        rule["UNTIL"] = [_utc(_aware(until, tz))]
    return rule.to_ical().decode()


def _aware(value: date | datetime, tz: tzinfo) -> datetime:
    if not isinstance(value, datetime):
        return datetime.combine(value, time(), tz)
    return value if value.tzinfo else value.replace(tzinfo=tz)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)
