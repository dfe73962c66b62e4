"""'Tell me when it's free' in Debian's Chromium: a member watches an occupied zone; when the live
stream reports it free the page constructs a Notification (permission granted in the context,
construction captured); an unknown zone is not free; nothing is sent to the server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from collector.service import Collector
from hubsense.config import Profile
from hubsense.protocol import AgentState
from tests.dashboard.conftest import round_the_clock_configs
from tests.support import RunningCollector, collector_settings

pytestmark = pytest.mark.browser

CAPTURE = """
(() => {
  const Real = window.Notification;
  window.__notes = [];
  function Capturing(title, options = {}) {
    window.__notes.push({ title, body: options.body, tag: options.tag, lang: options.lang });
    return new Real(title, options);
  }
  Capturing.requestPermission = (...args) => Real.requestPermission(...args);
  Object.defineProperty(Capturing, "permission", { get: () => Real.permission });
  window.Notification = Capturing;
})();
"""


@pytest.fixture(scope="module")
def quick(broker, tmp_path_factory) -> Iterator[RunningCollector]:
    """A collector whose Lägerelden frees 2 s after the last motion."""
    work = tmp_path_factory.mktemp("notify")
    settings = collector_settings(broker, work, config_paths=[round_the_clock_configs(work / "config",
                                                                                      datetime.now(UTC))])
    profiles = {"stockholm": {"lagerelden": Profile(vacancy_timeout_s=2, learn=False)}}
    with Collector.build(settings, profiles=profiles).serving() as collector:
        yield RunningCollector(collector, collector.url)


@pytest.fixture
def member(chromium, quick: RunningCollector):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["notifications"], origin=quick.url)
    context.add_init_script(CAPTURE)
    requests: list[str] = []
    page = context.new_page()
    page.on("request", lambda r: requests.append(f"{r.method} {r.url}"))
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.requests = requests
    yield page
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def card(page, zone: str):
    return page.locator(f'.card[data-zone="{zone}"]')


def test_a_watched_zone_that_turns_free_shows_a_notification(member, quick, publisher) -> None:
    publisher.status("stockholm", "sthlm-pi-entre", AgentState.ONLINE)
    publisher.event("stockholm", "sthlm-pi-entre", "lagerelden-pir", "pir", "motion")
    member.goto(f"{quick.url}/?hub=stockholm&lang=en")
    expect(card(member, "lagerelden")).to_have_attribute("data-state", "occupied")
    bell = card(member, "lagerelden").locator("button.watch")
    expect(bell).to_have_text("Tell me when it's free")
    expect(bell).to_have_attribute("aria-label", "Tell me when Lägerelden is free")
    bell.click()
    expect(bell).to_have_attribute("aria-pressed", "true")
    expect(member.locator("#announcer")).to_contain_text("You will be told when Lägerelden is free")
    assert member.evaluate("window.__notes") == []

    publisher.event("stockholm", "sthlm-pi-entre", "lagerelden-pir", "pir", "no_motion")
    expect(card(member, "lagerelden")).to_have_attribute("data-state", "free", timeout=15_000)
    member.wait_for_function("window.__notes.length > 0", timeout=5_000)
    [note] = member.evaluate("window.__notes")
    assert note == {"title": "Lägerelden is free", "body": "Lägerelden in Hubsense Stockholm is free right now.",
                    "tag": "hubsense-stockholm-lagerelden", "lang": "en"}
    expect(card(member, "lagerelden").locator("button.watch")).to_have_count(0)  # once: the wish is spent
    publisher.event("stockholm", "sthlm-pi-entre", "lagerelden-pir", "pir", "motion")
    expect(card(member, "lagerelden")).to_have_attribute("data-state", "occupied")
    publisher.event("stockholm", "sthlm-pi-entre", "lagerelden-pir", "pir", "no_motion")
    expect(card(member, "lagerelden")).to_have_attribute("data-state", "free", timeout=15_000)
    assert len(member.evaluate("window.__notes")) == 1
    asked = [r for r in member.requests if not r.startswith("GET ")]
    assert asked == []  # the wish never left the browser


def test_unknown_is_not_free_and_the_wish_survives_a_reload(member, quick, publisher) -> None:
    publisher.status("stockholm", "sthlm-pi-entre", AgentState.ONLINE)
    publisher.event("stockholm", "sthlm-pi-entre", "utsiktsplatsen-pir", "pir", "motion")
    member.goto(f"{quick.url}/?hub=stockholm")
    expect(card(member, "utsiktsplatsen")).to_have_attribute("data-state", "occupied")
    card(member, "utsiktsplatsen").locator("button.watch").click()
    expect(card(member, "utsiktsplatsen").locator("button.watch")).to_have_text("Bevakas · tryck för att sluta")
    publisher.status("stockholm", "sthlm-pi-entre", AgentState.OFFLINE)
    expect(card(member, "utsiktsplatsen")).to_have_attribute("data-state", "unknown")
    member.reload()
    expect(card(member, "utsiktsplatsen").locator("button.watch")).to_have_attribute("aria-pressed", "true")
    member.wait_for_timeout(500)
    assert member.evaluate("window.__notes") == []
    card(member, "utsiktsplatsen").locator("button.watch").click()  # stop watching
    expect(card(member, "utsiktsplatsen").locator("button.watch")).to_have_attribute("aria-pressed", "false")
