"""dashboard/static/bookings.js in Debian's Chromium, against a real API (uvicorn) over SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collector.model import OccupancyState, StateChange
from collector.service import Collector
from collector.settings import Settings
from collector.store.sqlite import SqliteStore
from hubsense.services import free_port, launch_chromium

pytestmark = pytest.mark.browser
HUB, EKORREN, RAVEN = "stockholm", "motesrum-ekorren", "motesrum-raven"
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bookings</title></head><body>
<select id="hub"><option value="stockholm" selected>Stockholm</option></select>
<section id="bookings"></section>
<script type="module" src="/static/bookings.js"></script></body></html>"""


def _ics(*spans: tuple[datetime, datetime]) -> str:
    fmt = "%Y%m%dT%H%M%SZ"
    events = "".join(f"BEGIN:VEVENT\r\nUID:{i}\r\nDTSTART:{a.strftime(fmt)}\r\nDTEND:{b.strftime(fmt)}\r\n"
                     "END:VEVENT\r\n" for i, (a, b) in enumerate(spans))
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n{events}END:VCALENDAR\r\n"


@pytest.fixture
def api_url(tmp_path: Path) -> Iterator[str]:
    now = datetime.now(UTC).replace(microsecond=0)
    (tmp_path / "ekorren.ics").write_text(_ics((now - timedelta(minutes=30), now + timedelta(minutes=30))))
    (tmp_path / "raven.ics").write_text(_ics((now - timedelta(minutes=40), now + timedelta(minutes=20)),
                                             (now - timedelta(days=1), now - timedelta(days=1, minutes=-60))))
    store = SqliteStore(tmp_path / "db.sqlite3")
    store.add_changes([StateChange(HUB, EKORREN, None, OccupancyState.FREE, now - timedelta(days=2)),
                       StateChange(HUB, EKORREN, None, OccupancyState.OCCUPIED, now - timedelta(minutes=28)),
                       StateChange(HUB, RAVEN, None, OccupancyState.FREE, now - timedelta(days=2))])
    settings = Settings(sqlite_path=tmp_path / "db.sqlite3", http_host="127.0.0.1", http_port=free_port(), bookings={
        f"{HUB}/{EKORREN}": str(tmp_path / "ekorren.ics"), f"{HUB}/{RAVEN}": str(tmp_path / "raven.ics")})
    with Collector.build(settings, store, mqtt=False).serving() as collector:
        yield collector.url
    store.close()


@pytest.fixture
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        yield browser
        browser.close()


def test_bookings_table_shows_live_no_shows_and_the_report(api_url: str, browser) -> None:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route(f"{api_url}/bookings-test", lambda route: route.fulfill(body=PAGE, content_type="text/html"))
    page.goto(f"{api_url}/bookings-test")
    live = page.locator("#bookings .bookings-live tbody tr")
    live.first.wait_for(timeout=10_000)
    rows = {r.locator("td").nth(0).inner_text(): r for r in live.all()}
    assert set(rows) == {"Mötesrum Ekorren", "Mötesrum Räven"}
    assert "no-show" in rows["Mötesrum Räven"].inner_text()
    assert rows["Mötesrum Räven"].get_attribute("class") == "no-show"
    assert "in use" in rows["Mötesrum Ekorren"].inner_text()
    rooms = page.locator("#bookings .bookings-rooms tbody tr")  # every room with a calendar, now
    assert {r.get_attribute("data-zone"): r.get_attribute("data-status") for r in rooms.all()} == {
        "motesrum-ekorren": "booked", "motesrum-raven": "released"}
    assert "released (no-show)" in rooms.filter(has_text="Räven").inner_text()
    report = page.locator("#bookings > div:not(.bookings-live):not(.bookings-rooms) tbody tr")
    assert report.count() == 2
    raven = report.filter(has_text="Räven").locator("td")
    assert raven.nth(6).inner_text() == "2"  # yesterday's and today's booking were both no-shows
    assert not errors, errors


def test_the_manager_page_includes_the_bookings(api_url: str, browser) -> None:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{api_url}/manager?hub={HUB}")
    rows = page.locator("#bookings .bookings-live tbody tr")
    rows.first.wait_for(timeout=10_000)
    assert rows.count() == 2
    assert page.locator("#bookings h2").count() == 3  # bookings now, the rooms now, booked vs used
    assert not errors, errors
