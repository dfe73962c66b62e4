"""Bookable rooms and billing in Debian's Chromium, against a real collector (Mosquitto ingest, SQLite, room
watch) with real calendars: a released room on the member view and the kiosk (and taken by walk-ins live),
the next booking and walk-ins on the room cards, an overrun on the manager view, the billing panel and an
organisation's printable statement (printed to PDF)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from collector.model import OccupancyState, StateChange
from collector.service import Collector
from tests.collector.bookings.scenario import CALENDAR, changes
from tests.dashboard.conftest import round_the_clock_configs
from tests.support import RunningCollector, collector_settings

pytestmark = pytest.mark.browser

HUB = "stockholm"
TZ = ZoneInfo("Europe/Stockholm")
EKORREN, RAVEN, ALGEN, MYRAN = "motesrum-ekorren", "motesrum-raven", "konferens-algen", "projektrum-myran"
Slot = tuple[datetime, datetime]


@dataclass(frozen=True)
class Times:
    """The bookings around the moment a collector is started (not when the module is imported: the suite
    may reach these tests minutes later)."""

    now: datetime
    released: Slot  # nobody came: released 5 minutes ago
    next: Slot
    overrun: Slot  # in use since soon after its start, still in use
    later: Slot

    @classmethod
    def around_now(cls) -> Times:
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        return cls(now, (now - timedelta(minutes=20), now + timedelta(minutes=40)),
                   (now + timedelta(minutes=70), now + timedelta(minutes=100)),
                   (now - timedelta(minutes=72), now - timedelta(minutes=12)),
                   (now + timedelta(hours=20), now + timedelta(hours=21)))


def ics(*slots: tuple[datetime, datetime]) -> str:
    fmt = "%Y%m%dT%H%M%SZ"
    events = "".join(
        f"BEGIN:VEVENT\r\nUID:live-{i}\r\nSUMMARY:Möte med Anna Andersson\r\n"
        f"ORGANIZER;CN=Anna Andersson:mailto:anna.andersson@trafikverket.se\r\n"
        f"DTSTART:{a.strftime(fmt)}\r\nDTEND:{b.strftime(fmt)}\r\nEND:VEVENT\r\n" for i, (a, b) in enumerate(slots))
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{events}END:VCALENDAR\r\n"


def hm(t: datetime) -> str:
    return t.astimezone(TZ).strftime("%H:%M")


def calendars(work: Path, t: Times) -> dict[str, str]:
    for name, slots in (("ekorren", (t.released, t.next)), ("algen", (t.overrun,)), ("myran", (t.later,))):
        (work / f"{name}.ics").write_text(ics(*slots), encoding="utf-8")
    return {f"{HUB}/{EKORREN}": str(work / "ekorren.ics"), f"{HUB}/{ALGEN}": str(work / "algen.ics"),
            f"{HUB}/{MYRAN}": str(work / "myran.ics"), f"{HUB}/{RAVEN}": str(CALENDAR)}


@pytest.fixture(scope="module")
def times() -> Times:
    return Times.around_now()


@pytest.fixture(scope="module")
def booked(broker, tmp_path_factory, times: Times) -> Iterator[RunningCollector]:
    """The API and dashboard over a store with the rooms' history (no MQTT ingest: no agent's live state
    changes the rooms the tests look at; the room cards are read from /api/hubs/{hub}/rooms)."""
    work, now = tmp_path_factory.mktemp("rooms"), times.now
    settings = collector_settings(broker, work, config_paths=[round_the_clock_configs(work / "config", now)],
                                  bookings=calendars(work, times))
    collector = Collector.build(settings, mqtt=False)
    collector.store.add_changes([
        *(StateChange(HUB, z, None, OccupancyState.FREE, now - timedelta(hours=3), "test")
          for z in (EKORREN, ALGEN, MYRAN)),
        StateChange(HUB, ALGEN, None, OccupancyState.OCCUPIED, now - timedelta(minutes=67), "test"),
        StateChange(HUB, MYRAN, None, OccupancyState.OCCUPIED, now - timedelta(minutes=10), "test"),
        *changes(HUB, RAVEN),  # March 2026 in Räven, as the billing tests have it in Ekorren
    ])
    with collector.serving():
        yield RunningCollector(collector, collector.url)


def card(page, zone: str):
    return page.locator(f'.card[data-zone="{zone}"]')


@pytest.mark.parametrize("view", ["/", "/kiosk"])
def test_a_released_room_is_free_to_use_on_the_member_view_and_the_kiosk(page, booked, times, view) -> None:
    page.goto(f"{booked.url}{view}?hub={HUB}")
    ekorren = card(page, EKORREN)
    expect(ekorren).to_have_attribute("data-room", "released")
    released = ekorren.locator(".rb-released")
    expect(released).to_have_text(f"Bokat men oanvänt – ledigt att använda till {hm(times.next[0])}")
    expect(released).to_be_visible()
    expect(ekorren.locator(".rb-next")).to_have_text(f"Bokat {hm(times.next[0])}–{hm(times.next[1])}")
    text = ekorren.inner_text()
    assert "Anna" not in text and "Möte med" not in text and "trafikverket" not in text.lower()  # times only
    # walk-ins in a room without a booking; the next booking of a free room
    expect(card(page, MYRAN).locator(".rb-walk_in")).to_have_text("Används utan bokning")
    expect(card(page, MYRAN).locator(".rb-next")).to_contain_text(hm(times.later[0]))
    # a room running over shows as in use to members, never "running over"
    expect(card(page, ALGEN)).to_have_attribute("data-room", "in_use")
    assert "drar över" not in card(page, ALGEN).inner_text()
    for zone in (EKORREN, RAVEN, ALGEN, MYRAN):  # a room with nothing to say about bookings says nothing
        assert "null" not in card(page, zone).inner_text() and "undefined" not in card(page, zone).inner_text()


def test_english_says_free_to_use_until(page, booked, times) -> None:
    page.goto(f"{booked.url}/?hub={HUB}&lang=en")
    expect(card(page, EKORREN).locator(".rb-released")).to_have_text(
        f"Booked but unused – free to use until {hm(times.next[0])}")


@pytest.fixture
def live_booked(broker, tmp_path) -> Iterator[RunningCollector]:
    """A whole collector (MQTT ingest, room watch) with the released booking in Ekorren."""
    t = Times.around_now()
    settings = collector_settings(broker, tmp_path, config_paths=[round_the_clock_configs(tmp_path / "config", t.now)],
                                  bookings=calendars(tmp_path, t))
    collector = Collector.build(settings)
    collector.store.add_changes([StateChange(HUB, EKORREN, None, OccupancyState.FREE, t.now - timedelta(hours=3))])
    with collector.serving():
        yield RunningCollector(collector, collector.url)


def test_taking_the_released_room_shows_live_without_reload(page, live_booked, publisher) -> None:
    booked = live_booked
    page.goto(f"{booked.url}/kiosk?hub={HUB}")
    ekorren = card(page, EKORREN)
    expect(ekorren).to_have_attribute("data-room", "released")
    page.evaluate("window.__sameDocument = true")
    publisher.status(HUB, "sthlm-pi-rum", "online")
    publisher.event(HUB, "sthlm-pi-rum", "motesrum-ekorren-pir", "pir", "motion")
    expect(ekorren).to_have_attribute("data-room", "released_in_use", timeout=15_000)
    expect(ekorren.locator(".rb-released_in_use")).to_have_text("Släppt bokning – används nu")
    assert page.evaluate("window.__sameDocument") is True
    r = booked.get(f"/api/hubs/{HUB}/rooms/events")
    kinds = [(e["type"], e["zone"], e["data"].get("released_booking")) for e in r.json()["events"]]
    assert ("room.walk_in", EKORREN, True) in kinds  # walk-in use of a released booking, webhook-ready


def test_the_manager_sees_the_overrun_and_the_month_per_organisation(page, booked, times) -> None:
    page.goto(f"{booked.url}/manager?hub={HUB}&month=2026-03")
    algen = page.locator(f'#bookings .bookings-rooms tr[data-zone="{ALGEN}"]')
    expect(algen).to_have_attribute("data-status", "overrun")
    expect(algen).to_contain_text(re.compile(r"drar över med \d+ min"))
    shown = int(re.search(r"drar över med (\d+) min", algen.inner_text()).group(1))
    # minutes since the booking ended, as the page saw it (it refreshes; a loaded machine is slow)
    over = (datetime.now(UTC) - times.overrun[1]).total_seconds() / 60
    assert over - 5 <= shown <= over + 1, (shown, over)
    rows = page.locator("#billing table.billing tbody tr")
    expect(rows).to_have_count(4)  # three organisations and the unassigned bookings
    trafikverket = page.locator('#billing tr[data-organisation="trafikverket"]')
    expect(trafikverket.locator("td.amount")).to_have_text("2\u00a0187,50 SEK")
    expect(trafikverket).to_contain_text("6")
    expect(page.locator("#billing tr.totals td.amount")).to_have_text("4\u00a0112,50 SEK")
    expect(page.locator('#billing [data-note="unassigned"]')).to_contain_text("1 bokningar kunde inte knytas")
    page.fill("#billing-month", "2026-02")
    page.dispatch_event("#billing-month", "change")
    expect(page.locator("#billing tr.totals td.amount")).to_have_text("0,00 SEK")


def test_the_statement_page_prints_with_a_totals_line(page, booked, tmp_path) -> None:
    page.goto(f"{booked.url}/manager?hub={HUB}&month=2026-03")
    page.locator('#billing a[data-organisation="trafikverket"]').click()
    expect(page).to_have_url(re.compile(r"/statement\?hub=stockholm&month=2026-03&organisation=trafikverket"))
    article = page.locator("article.statement")
    expect(article.locator("h1")).to_have_text("Faktureringsunderlag")
    expect(article.locator(".statement-org")).to_have_text("Trafikverket")
    expect(article.locator("tbody tr")).to_have_count(6)
    totals = article.locator("tfoot tr.totals")
    expect(totals).to_contain_text("Summa · 6 bokningar")
    expect(totals.locator(".total-amount")).to_have_text("2\u00a0187,50\u00a0SEK")
    expect(article.locator("tbody tr.marked")).to_have_count(1)  # sensors unknown: billed as booked, marked
    expect(article.locator(".statement-quality")).to_contain_text("1 bokning(ar) debiterades som bokade")
    expect(page.locator("#print")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator(".statement-tools")).to_be_hidden()  # the buttons are not printed
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
    page.emulate_media(media="screen")
    page.goto(f"{booked.url}/statement?hub={HUB}&month=2026-03&organisation=trafikverket&lang=en")
    expect(page.locator("article.statement h1")).to_have_text("Billing statement")
    expect(page.locator("article.statement .total-amount")).to_have_text("2,187.50\u00a0SEK")
