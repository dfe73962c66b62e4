"""The network overview and the hub picker at 1,000 hubs (generated configs like stockholm.toml),
in Debian's Chromium: /network renders every hub in under 2 s after navigation, sorts, filters and
links to each hub; the picker searches and groups; a hub-scoped token sees only its hubs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect

from collector.auth import Role, create_token
from collector.live import LiveState
from collector.model import ReceivedEvent
from collector.service import Collector
from collector.settings import Settings
from collector.store.sqlite import SqliteStore
from hubsense import protocol as p
from hubsense.config import Hub
from hubsense.services import free_port, launch_chromium

pytestmark = pytest.mark.browser
RENDER_LIMIT_S = 2.0
SCOPED = ("orebro-1", "orebro-2")


def liven(live: LiveState, hub: Hub, now: datetime, agents: int) -> None:
    """The first ``agents`` agents of the hub online with every other sensor active (straight into
    the engine: 1,000 hubs through the message handler would take the fixture half a minute)."""
    with live.feeding(hub.id) as engine:
        for agent in hub.agents[:agents]:
            engine.status(agent.id, True, now)
            for seq, sensor in enumerate(agent.sensors[::2], 1):
                engine.event(ReceivedEvent(hub.id, agent.id, sensor.id, sensor.kind, p.kind_spec(sensor.kind).active,
                                           now, seq, "b", now))


@pytest.fixture(scope="module")
def network(tmp_path_factory, fleet_dir: Path, fleet: dict[str, Hub]) -> Iterator[dict]:
    """A collector over the 1,000 generated hubs: most with every agent online, some with one agent
    silent (unknown zones), some never heard from; an operator token and a token of two hubs."""
    tmp = tmp_path_factory.mktemp("network")
    operator, _ = create_token(tmp / "tokens.json", Role.MANAGER, "operator")
    scoped, _ = create_token(tmp / "tokens.json", Role.MANAGER, "Örebro", SCOPED)
    now = datetime.now(UTC)
    live = LiveState(fleet)
    for i, hub in enumerate(fleet.values()):
        if i % 10:  # every tenth hub: never heard from
            liven(live, hub, now, agents=4 if i % 7 else 3)
    store = SqliteStore(tmp / "db.sqlite3")
    settings = Settings(sqlite_path=tmp / "db.sqlite3", tokens_path=tmp / "tokens.json", config_paths=[fleet_dir],
                        http_host="127.0.0.1", http_port=free_port(), production=True)
    with Collector.build(settings, store, hubs=fleet, live=live, mqtt=False).serving(timeout=60) as collector:
        collector.summaries.warm(datetime.now(UTC))  # as the server's own thread does within a second of start
        yield {"url": collector.url, "operator": operator, "scoped": scoped, "hubs": fleet}
    store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch_chromium(pw)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def test_network_renders_1000_hubs_in_under_2_s(page, network: dict) -> None:
    """Measured by the page itself: the 'network-rendered' mark (set right after the table of 1,000
    rows is in the DOM) is relative to the start of the navigation.  The wall clock of the test
    process adds Playwright's own round trips and is only printed."""
    rows = page.locator("#net tbody tr")
    started = time.monotonic()
    page.goto(f"{network['url']}/network?token={network['operator']}")
    expect(rows).to_have_count(1000, timeout=30_000)
    elapsed = time.monotonic() - started
    marks = page.evaluate("() => Object.fromEntries(performance.getEntriesByType('mark').map(m => [m.name, "
                          "m.startTime]))")
    rendered = marks["network-rendered"] / 1000
    print(f"/network: 1,000 hubs rendered {rendered:.2f} s after navigation (data {marks['network-data']:.0f} ms; "
          f"{elapsed:.2f} s by the test's clock)")
    assert rendered < RENDER_LIMIT_S, f"/network took {rendered:.2f} s for 1,000 hubs"
    expect(page.locator("#net-count")).to_have_text("1000 av 1000 hubbar")
    ids = list(network["hubs"])
    expect(rows.nth(0)).to_have_attribute("data-hub", ids[0])  # config order until sorted
    # every tenth hub has no agent online: its zones are unknown, never free, and it counts as a problem
    silent = page.locator(f'#net tbody tr[data-hub="{ids[10]}"]')
    expect(silent).to_have_class("problem")
    expect(silent.locator("td").nth(2)).to_have_text("0")  # free
    expect(silent.locator("td").nth(4)).to_have_text("12")  # unknown
    expect(page.locator(f'#net tbody tr[data-hub="{ids[1]}"] td').nth(4)).to_have_text("0")


def test_network_sorts_filters_and_links(page, network: dict) -> None:
    page.goto(f"{network['url']}/network?token={network['operator']}")
    rows = page.locator("#net tbody tr")
    expect(rows).to_have_count(1000, timeout=30_000)
    page.fill("#net-search", "orebro")  # without the diacritic
    expect(page.locator("#net-count")).to_have_text(f"{len([h for h in network['hubs'] if h.startswith('orebro')])} "
                                                    "av 1000 hubbar")
    expect(rows.nth(0)).to_contain_text("Örebro")
    page.fill("#net-search", "")
    page.select_option("#net-region", "Norrbotten")
    norrbotten = sum(1 for h in network["hubs"].values() if h.region == "Norrbotten")
    expect(rows).to_have_count(norrbotten)
    page.select_option("#net-region", "")
    page.click('button[data-sort="unknown"]')  # largest first
    expect(page.locator('th[aria-sort="descending"]')).to_have_count(1)
    top = int(rows.nth(0).locator("td").nth(4).inner_text())
    assert top == 12  # a hub never heard from: all 12 zones unknown
    page.check("#net-problems")
    problems = rows.count()
    assert 0 < problems < 1000
    link = rows.nth(0).locator('a[href^="/manager?hub="]')
    hub = link.get_attribute("href").split("=", 1)[1]
    link.click()
    expect(page).to_have_url(f"{network['url']}/manager?hub={hub}")


def test_hub_picker_searches_and_groups_1000_hubs(page, network: dict) -> None:
    page.goto(f"{network['url']}/?hub=lulea-2")
    picker = page.locator("input#hub[role=combobox]")
    expect(picker).to_have_value("Hubsense Luleå 2")
    picker.click()
    expect(page.locator("#hub-options")).to_be_visible()
    expect(page.locator("#hub-options [role=option]")).to_have_count(1000)
    expect(page.locator("#hub-options .hub-group").first).to_contain_text("Blekinge")
    picker.fill("visby")
    options = page.locator("#hub-options [role=option]")
    expect(options.first).to_contain_text("Visby")
    assert all("Visby" in t for t in options.all_inner_texts())
    expect(options.first.locator(".hub-option-state")).not_to_be_empty()
    picker.press("ArrowDown")
    picker.press("Enter")
    expect(page).to_have_url(f"{network['url']}/?hub=visby-1")
    expect(page.locator("#hub-name")).to_have_text("Hubsense Visby 1")


def test_a_hub_scoped_token_sees_only_its_hubs(page, network: dict) -> None:
    page.goto(f"{network['url']}/network?token={network['scoped']}")
    expect(page.locator("#net tbody tr")).to_have_count(2, timeout=30_000)
    assert sorted(page.locator("#net tbody tr").evaluate_all("rows => rows.map(r => r.dataset.hub)")) == list(SCOPED)
    page.goto(f"{network['url']}/manager?token={network['scoped']}")
    select = page.locator("select#hub")  # two hubs: the plain select
    expect(select.locator("option")).to_have_count(2)
    assert sorted(select.locator("option").evaluate_all("o => o.map(x => x.value)")) == list(SCOPED)


def test_the_member_view_hides_hubs_the_token_cannot_see(page, network: dict) -> None:
    """The live view is public here, yet a browser that opened it with a hub-scoped token lists only
    that token's hubs (the cookie set by ?token= carries it on later visits too)."""
    page.goto(f"{network['url']}/?token={network['scoped']}")
    select = page.locator("select#hub")
    expect(select.locator("option")).to_have_count(2)
    page.goto(f"{network['url']}/")  # no token in the URL: the kiosk cookie
    expect(page.locator("select#hub option")).to_have_count(2)
    page.context.clear_cookies()
    page.goto(f"{network['url']}/")  # anonymous: every hub, in the search box
    expect(page.locator("input#hub[role=combobox]")).to_be_visible()
