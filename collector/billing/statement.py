"""The monthly statement of a hub: every booking that started in the month, per organisation, priced.

Pure: :func:`build_statement` takes the bookings (attributed at import), each room's states and door
spans and ``now``; bookings that have not started by ``now`` are only counted (``upcoming``).
Reading them from the calendars and the store is :mod:`collector.billing.load`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from collector.billing.policy import Basis, Charge, charge
from collector.bookings.calendar import Booking
from collector.bookings.facts import BookingFacts, States, booking_facts
from collector.bookings.usage import Interval
from hubsense.config import UNASSIGNED, Hub, Tariff

UNASSIGNED_NAME = "Ej tilldelade / unassigned"


def month_span(hub: Hub, month: str) -> tuple[datetime, datetime]:
    """``YYYY-MM`` as [local midnight of the 1st, local midnight of the next 1st) in UTC; ValueError if not."""
    try:
        first = date.fromisoformat(f"{month}-01") if len(month) == 7 else None
    except ValueError:
        first = None
    if first is None:
        raise ValueError(f"month: {month!r} is not a month; write YYYY-MM, e.g. 2026-03")
    after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    tz = hub.tz
    return (datetime.combine(first, datetime.min.time(), tz).astimezone(UTC),
            datetime.combine(after, datetime.min.time(), tz).astimezone(UTC))


@dataclass(frozen=True, slots=True)
class Line:
    """One booking on a statement."""

    facts: BookingFacts
    tariff: Tariff
    charge: Charge

    @property
    def booking(self) -> Booking:
        return self.facts.booking


@dataclass(slots=True)
class OrganisationStatement:
    id: str  # organisation id, or 'unassigned'
    name: str
    lines: list[Line] = field(default_factory=list)

    @property
    def bookings(self) -> int:
        return len(self.lines)

    @property
    def booked_s(self) -> float:
        return sum(line.facts.booked_s for line in self.lines)

    @property
    def used_s(self) -> float:
        """What the sensors saw the organisation use: inside its bookings, plus overruns."""
        return sum(line.facts.sensed_s + line.facts.overrun_s for line in self.lines)

    @property
    def no_shows(self) -> int:
        return sum(1 for line in self.lines if line.facts.released)

    @property
    def no_show_rate(self) -> float | None:
        return self.no_shows / self.bookings if self.lines else None

    @property
    def overrun_s(self) -> float:
        return sum(line.facts.overrun_s for line in self.lines)

    @property
    def amount_ore(self) -> int:
        return sum(line.charge.amount_ore for line in self.lines)

    @property
    def sensors_unknown(self) -> int:
        """Bookings billed as booked because the room's sensors were unknown during them."""
        return sum(1 for line in self.lines if line.charge.basis is Basis.SENSORS_UNKNOWN)

    @property
    def provisional(self) -> int:
        return sum(1 for line in self.lines if line.charge.basis is Basis.PROVISIONAL)


@dataclass(slots=True)
class MonthStatement:
    hub: str
    month: str  # YYYY-MM
    start: datetime
    end: datetime
    measured_until: datetime  # min(end, now)
    currency: str
    organisations: list[OrganisationStatement]  # every configured organisation, then 'unassigned' if any
    upcoming: int = 0  # bookings of the month that have not started yet
    unbilled_rooms: list[str] = field(default_factory=list)  # rooms with bookings but no tariff

    @property
    def unassigned(self) -> int:
        """Bookings that matched no organisation: add a domain or identifier to the hub config."""
        return sum(o.bookings for o in self.organisations if o.id == UNASSIGNED)

    def organisation(self, org_id: str) -> OrganisationStatement:
        for org in self.organisations:
            if org.id == org_id:
                return org
        raise KeyError(org_id)


def build_statement(hub: Hub, month: str, bookings: Sequence[Booking], states: dict[str, States],
                    doors: dict[str, list[Interval]], now: datetime, release_after: timedelta) -> MonthStatement:
    """The statement for ``month``.  ``bookings`` may reach into the neighbouring days (they cut early starts
    and overruns); ``states`` by room must cover them up to ``now``."""
    start, end = month_span(hub, month)
    orgs = {o.id: OrganisationStatement(o.id, o.name) for o in hub.organisations}
    out = MonthStatement(hub.id, month, start, end, max(start, min(end, now)), hub.billing.currency, [])
    unbilled: set[str] = set()
    for room in sorted({b.zone for b in bookings}):
        own = sorted((b for b in bookings if b.zone == room), key=lambda b: (b.start, b.end, b.uid))
        tariff = hub.billing.tariff_of(room)
        for facts in booking_facts(own, states[room], doors.get(room, []), now, release_after):
            if not start <= facts.booking.start < end:
                continue
            if not facts.started:
                out.upcoming += 1
            elif tariff is None:
                unbilled.add(room)
            else:
                org_id = facts.booking.organisation if facts.booking.organisation in orgs else UNASSIGNED
                org = orgs.setdefault(org_id, OrganisationStatement(UNASSIGNED, UNASSIGNED_NAME))
                org.lines.append(Line(facts, tariff, charge(facts, tariff)))
    for org in orgs.values():
        org.lines.sort(key=lambda line: (line.booking.start, line.booking.zone))
    out.organisations = list(orgs.values())
    out.unbilled_rooms = sorted(unbilled)
    return out
