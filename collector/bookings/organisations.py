"""Bookings belong to organisations, never to persons: attribution at import.

A calendar is read once (:mod:`collector.bookings.sources`) and passed through
:func:`import_calendar` before anything keeps it: each event is attributed to one of the hub's
organisations (``[[organisations]]`` in the hub config) by its organiser's e-mail domain or a
calendar identifier, and the result is a calendar that holds only times, recurrence, status and
that organisation id.  Organiser and attendee addresses, names, titles, descriptions and locations
are dropped there, so nothing later (cache, API, statements, logs) can store or return them.  Event
UIDs (which some calendar systems build from the organiser's address) are replaced by a keyed hash:
occurrences of one series still belong together, but the UID cannot be read back.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

import icalendar

from hubsense.config import Hub

# The property that carries the organisation id in an imported calendar (nothing else of a person's is kept).
ORGANISATION_PROPERTY = "X-HUBSENSE-ORGANISATION"
# What an imported event keeps: times, recurrence and status.
KEPT = ("DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", "STATUS", "SEQUENCE")


@dataclass(frozen=True)
class Attribution:
    """Which organisation a booking belongs to, from the hub config's ``organisations``."""

    by_identifier: dict[str, str]  # lower-cased calendar identifier -> organisation id
    by_domain: dict[str, str]  # lower-cased e-mail domain -> organisation id
    uid_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)  # hashes event UIDs

    @classmethod
    def of(cls, hub: Hub) -> Attribution:
        return cls({c.lower(): o.id for o in hub.organisations for c in o.calendars},
                   {d: o.id for o in hub.organisations for d in o.domains})

    def organisation(self, organiser: str | None, categories: Iterable[str] = (),
                     calendar_name: str | None = None) -> str | None:
        """The organisation id, or None (unassigned).  An exact identifier (the organiser's address, then a
        category) wins over the organiser's domain (the most specific one: ``it.region.se`` before
        ``region.se``), which wins over the calendar's name."""
        address = (organiser or "").strip().lower()
        for candidate in (address, *(c.strip().lower() for c in categories)):
            if candidate and candidate in self.by_identifier:
                return self.by_identifier[candidate]
        domain = address.rpartition("@")[2] if "@" in address else ""
        while domain:
            if domain in self.by_domain:
                return self.by_domain[domain]
            domain = domain.partition(".")[2]
        if calendar_name and calendar_name.strip().lower() in self.by_identifier:
            return self.by_identifier[calendar_name.strip().lower()]
        return None

    def uid(self, uid: str) -> str:
        """An event UID as an opaque id (the same for every event of one series)."""
        return hmac.new(self.uid_key, uid.encode(), hashlib.sha256).hexdigest()[:24]


def import_calendar(data: bytes | str, attribution: Attribution) -> bytes:
    """The calendar with every event attributed (``X-HUBSENSE-ORGANISATION``) and stripped to times,
    recurrence and status; time zone definitions are kept.  Raises ValueError for data that is not an
    iCalendar calendar."""
    try:
        cal = icalendar.Calendar.from_ical(data)
    except Exception as exc:  # icalendar raises ValueError and friends
        raise ValueError(f"not an iCalendar file: {exc}") from None
    name = str(cal.get("X-WR-CALNAME", "")) or None
    out = icalendar.Calendar()
    out.add("VERSION", "2.0")
    out.add("PRODID", "-//hubsense//imported bookings//EN")
    for tz in cal.walk("VTIMEZONE"):
        out.add_component(tz)
    for event in cal.walk("VEVENT"):
        kept = icalendar.Event()
        for key in KEPT:
            if key in event:
                kept[key] = event[key]
        kept["UID"] = attribution.uid(str(event.get("UID", "")))
        org = attribution.organisation(_address(event.get("ORGANIZER")), _categories(event), name)
        if org is not None:
            kept.add(ORGANISATION_PROPERTY, org)
        out.add_component(kept)
    return out.to_ical()


def _address(organiser: object) -> str | None:
    if organiser is None:
        return None
    text = str(organiser)
    return text[7:] if text.lower().startswith("mailto:") else text


def _categories(event: icalendar.Event) -> list[str]:
    raw = event.get("CATEGORIES")
    if raw is None:
        return []
    out: list[str] = []
    for item in raw if isinstance(raw, list) else [raw]:
        out += [str(c) for c in getattr(item, "cats", [item])]
    return out
