"""Bookings attributed to organisations at import, personal data dropped (collector/bookings/organisations.py)."""

from __future__ import annotations

from pathlib import Path

from collector.bookings.organisations import Attribution, import_calendar
from collector.bookings.sources import CalendarSources
from hubsense.config import DEFAULT_CONFIG_DIR, load_hubs

CALENDAR = Path(__file__).resolve().parent / "data" / "ekorren-outlook.ics"
PERSONAL = ["anna", "andersson", "bertil", "lisa", "karin", "bo.berglund", "someone.private", "070-123", "@",
            "mailto", "summary", "organizer", "attendee", "description", "location", "styrgrupp", "intervju",
            "mötesrum ekorren"]


def test_the_imported_calendar_keeps_times_and_organisations_only() -> None:
    hubs = load_hubs([DEFAULT_CONFIG_DIR])
    raw = CALENDAR.read_text(encoding="utf-8").lower()
    assert all(word in raw for word in PERSONAL)  # the test file does name people
    imported = import_calendar(CALENDAR.read_bytes(), Attribution.of(hubs["stockholm"])).decode().lower()
    assert [word for word in PERSONAL if word in imported] == []
    assert imported.count("x-hubsense-organisation:trafikverket") == 6  # the series, its 2 overrides, 3 more
    assert "rrule:freq=weekly;count=5;byday=tu" in imported and "tzid:w. europe standard time" in imported

    # what the calendar sources keep (and parse on every request) is the imported calendar
    sources = CalendarSources({"stockholm/motesrum-ekorren": str(CALENDAR)}, hubs, refresh_s=300)
    kept = sources.read("stockholm", str(CALENDAR)).decode().lower()
    assert [word for word in PERSONAL if word in kept] == [] and kept.count("begin:vevent") == 13
    uids = [b.uid for b in sources.bookings("stockholm", *_march())]
    assert len(uids) == 13 and len(set(uids)) == 11  # the weekly series (3 left, one moved) shares one
    # another hub's organisations: the same file attributed differently (Östersund has none of these)
    hubs["ostersund"].zone("motesrum-lo")
    other = CalendarSources({"motesrum-lo": str(CALENDAR)}, hubs, refresh_s=300)
    assert {b.organisation for b in other.bookings("ostersund", *_march())} == {None}


def _march():
    from datetime import UTC, datetime

    return datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)


def test_attribution_prefers_exact_identifiers_then_the_most_specific_domain() -> None:
    a = Attribution(by_identifier={"bokning@region.se": "region-bokning", "projekt x": "projekt"},
                    by_domain={"region.se": "region", "it.region.se": "region-it", "kommun.se": "kommun"})
    assert a.organisation("Anna@IT.Region.se") == "region-it"
    assert a.organisation("anna@lab.it.region.se") == "region-it"
    assert a.organisation("anna@region.se") == "region"
    assert a.organisation("BOKNING@region.se") == "region-bokning"
    assert a.organisation("anna@gmail.com", ["Projekt X"]) == "projekt"
    assert a.organisation("anna@region.se", ["projekt x"]) == "projekt"
    assert a.organisation("anna@notregion.se") is None  # a domain matches on a dot boundary only
    assert a.organisation(None, [], "Projekt X") == "projekt"  # the calendar's name, last
    assert a.organisation("anna@kommun.se", [], "Projekt X") == "kommun"
    assert a.organisation(None) is None and a.organisation("not an address") is None
