"""The manager view with token auth on: one clear message without a token, every panel reloads
when a token is saved, errors in the page's language, Swedish Excel CSV, phones."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from collector.auth import Role, create_token
from collector.model import OccupancyState, StateChange
from collector.service import Collector
from collector.settings import Settings
from collector.store.sqlite import SqliteStore
from hubsense.services import free_port, launch_chromium
from tests.dashboard.test_bookings_js import EKORREN, HUB, RAVEN, _ics

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def locked(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """A collector with a manager token (so statistics need it) and two booking calendars."""
    tmp = tmp_path_factory.mktemp("manager")
    now = datetime.now(UTC).replace(microsecond=0)
    (tmp / "ekorren.ics").write_text(_ics((now - timedelta(minutes=30), now + timedelta(minutes=30))))
    (tmp / "raven.ics").write_text(_ics((now - timedelta(minutes=40), now + timedelta(minutes=20))))
    store = SqliteStore(tmp / "db.sqlite3")
    day = now - timedelta(days=1)
    store.add_changes([StateChange(HUB, z.id, None, state, at) for z in _zones() for state, at in (
        (OccupancyState.FREE, day - timedelta(days=2)), (OccupancyState.OCCUPIED, day),
        (OccupancyState.FREE, day + timedelta(hours=2)))])
    token, _ = create_token(tmp / "tokens.json", Role.MANAGER, "test")
    settings = Settings(sqlite_path=tmp / "db.sqlite3", tokens_path=tmp / "tokens.json", http_host="127.0.0.1",
                        http_port=free_port(), bookings={f"{HUB}/{EKORREN}": str(tmp / "ekorren.ics"),
                                                         f"{HUB}/{RAVEN}": str(tmp / "raven.ics")})
    with Collector.build(settings, store, mqtt=False).serving() as collector:
        yield collector.url, token
    store.close()


def _zones():
    from hubsense.config import DEFAULT_CONFIG_DIR, load_hubs

    return load_hubs([DEFAULT_CONFIG_DIR])[HUB].zones


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, errors


def test_without_a_token_one_message_and_no_half_empty_panels(page, locked) -> None:
    url, _ = locked
    page.goto(f"{url}/manager?hub={HUB}")
    message = page.locator("#locked")
    expect(message).to_be_visible()
    expect(message).to_have_text(re.compile("kräver en förvaltartoken"))
    expect(page.locator("#error")).to_be_hidden()
    for panel in ["#h-util", "#h-health", "#h-sessions", "#bookings"]:
        expect(page.locator(panel)).to_be_hidden()
    links = page.locator("#csv a")
    expect(links.first).to_have_attribute("aria-disabled", "true")
    assert page.locator("#csv a[href]").count() == 0
    body = page.locator("body").inner_text()
    assert "Not authenticated" not in body and "401" not in body and "token required" not in body.lower()


def test_saving_a_token_reloads_every_panel(page, locked) -> None:
    url, token = locked
    page.goto(f"{url}/manager?hub={HUB}")
    expect(page.locator("#locked")).to_be_visible()
    page.fill("#token", "hs_wrong.token")
    page.click("#token-form button[type=submit]")
    expect(page.locator("#locked")).to_contain_text("godtog inte")
    page.fill("#token", token)
    page.click("#token-form button[type=submit]")
    expect(page.locator("#locked")).to_be_hidden()
    expect(page.locator("#util tr.hub-row")).to_have_count(1)
    expect(page.locator("#health tbody tr").first).to_be_visible()
    expect(page.locator("#bookings .bookings-live tbody tr")).to_have_count(2)  # no reload of the page needed
    excel = page.locator("#csv a[data-dialect=excel-sv]").first
    expect(excel).to_have_attribute("href", re.compile("dialect=excel-sv"))


def test_a_reversed_period_is_explained_in_swedish_and_old_data_goes(page, locked) -> None:
    url, token = locked
    page.goto(f"{url}/manager?hub={HUB}&token={token}")
    expect(page.locator("#util tr.hub-row")).to_have_count(1)
    page.fill("#from", "2026-11-05")
    page.fill("#to", "2026-11-01")
    page.click("#filters button[type=submit]")
    error = page.locator("#error")
    expect(error).to_be_visible()
    expect(error).to_have_text("Till-datumet (1 nov. 2026) ligger före Från-datumet (5 nov. 2026). "
                               "Välj ett Till-datum samma dag eller senare.")
    expect(page.locator("#util tr")).to_have_count(0)  # nothing stale under the message


def test_swedish_excel_csv_download(page, locked) -> None:
    url, token = locked
    page.goto(f"{url}/manager?hub={HUB}")
    page.fill("#token", token)
    page.click("#token-form button[type=submit]")
    link = page.locator("#csv a", has_text="Beläggning (Excel)")
    with page.expect_download() as info:
        link.click()
    data = Path(info.value.path()).read_bytes()
    assert data.startswith("\ufeff".encode()) and b";" in data.splitlines()[0]
    assert "Hela hubben" in data.decode("utf-8-sig")


def test_manager_view_on_a_phone_shows_every_row_without_sideways_scrolling(browser, locked) -> None:
    url, token = locked
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="sv-SE")
    try:
        page = context.new_page()
        page.goto(f"{url}/manager?hub={HUB}&token={token}")
        expect(page.locator("#sessions tbody tr").first).to_be_visible()
        layout = page.evaluate("""() => ({
          page: [document.documentElement.scrollWidth, document.documentElement.clientWidth],
          wraps: [...document.querySelectorAll('.table-wrap')].map((w) =>
            [w.scrollWidth, w.clientWidth, w.scrollHeight, w.clientHeight]),
        })""")
        assert layout["page"][0] <= layout["page"][1], layout
        for sw, cw, sh, ch in layout["wraps"]:
            assert sw <= cw + 1 and sh <= ch + 1, layout  # no row hidden in a scroll box, nothing cut off
    finally:
        context.close()
