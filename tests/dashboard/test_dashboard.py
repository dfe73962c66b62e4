"""The dashboard in Debian's Chromium against a real collector fed through Mosquitto."""

from __future__ import annotations

import csv
import io
import math
import re
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from hubsense.protocol import AgentState
from tests.dashboard.conftest import CLOSED_HUB
from tests.dashboard.proxy import CuttableProxy

pytestmark = pytest.mark.browser

LIVE_TIMEOUT_MS = 2000  # a change on the wire must be on screen within 2 s


def open_member(page, server, hub: str = "stockholm", extra: str = ""):
    page.goto(f"{server.url}/?hub={hub}{extra}")
    expect(page.locator("#status")).to_have_attribute("data-state", "live")
    return page


CARDS_JS = """() => [...document.querySelectorAll('.card[data-zone]')].map((c) => ({
  zone: c.dataset.zone, state: c.dataset.state, show: c.dataset.show, name: c.querySelector('h3').textContent,
  text: c.querySelector('.state-text').textContent,
  icons: [...c.querySelectorAll('.state svg')].map((s) => s.getAttribute('class')),
  desks: c.querySelectorAll('.desk').length, forecast: c.querySelectorAll('.fc-bars li').length }))"""


def test_member_view_shows_every_zone_of_the_hub(page, server, hubs):
    open_member(page, server)
    stockholm = hubs["stockholm"]
    expect(page.locator(".card[data-zone]")).to_have_count(len(stockholm.zones))
    expect(page.locator(".card .fc-bars").first).to_be_visible()  # the forecast arrives after the zones
    cards = {c["zone"]: c for c in page.evaluate(CARDS_JS)}
    assert list(cards) == [z.id for z in stockholm.zones]
    for zone in stockholm.zones:
        card = cards[zone.id]
        assert card["name"] == zone.name
        assert card["state"] in {"free", "occupied", "unknown"}
        # every state has text and a shape of its own, never colour alone
        assert card["text"] and card["icons"] == [f"icon icon-{card['show']}"]
        assert card["desks"] == len(zone.desks)
        assert card["forecast"] == 6  # the usual busyness of the coming hours


def test_switching_hub_is_remembered_in_the_url(page, server, hubs):
    open_member(page, server)
    page.select_option("#hub", "ostersund")
    expect(page).to_have_url(re.compile(r"[?&]hub=ostersund"))
    expect(page.locator(".card[data-zone]")).to_have_count(len(hubs["ostersund"].zones))
    expect(page.locator("#hub-name")).to_have_text(hubs["ostersund"].name)
    page.reload()
    expect(page.locator("#hub")).to_have_value("ostersund")


def test_event_turns_zone_occupied_live_without_reload(page, server, publisher):
    open_member(page, server)
    card = page.locator('.card[data-zone="lagerelden"]')
    expect(card).not_to_have_attribute("data-state", "occupied")
    page.evaluate("window.__sameDocument = true")
    publisher.status("stockholm", "sthlm-pi-entre", AgentState.ONLINE)
    publisher.event("stockholm", "sthlm-pi-entre", "lagerelden-pir", "pir", "motion")
    expect(card).to_have_attribute("data-state", "occupied", timeout=LIVE_TIMEOUT_MS)
    expect(card.locator(".state-text")).to_have_text(re.compile(r"^(Troligen u|U)pptagen$"))  # a first burst: maybe
    expect(card.locator(".confirmed")).to_contain_text("senast bekräftad")
    expect(card.locator(".since")).to_contain_text("sedan")
    assert page.evaluate("window.__sameDocument") is True  # no reload happened


def test_agent_going_offline_turns_its_zones_unknown(page, server, publisher, hubs):
    open_member(page, server)
    publisher.status("stockholm", "sthlm-pi-entre", AgentState.ONLINE)
    publisher.event("stockholm", "sthlm-pi-entre", "rastplatsen-pir", "pir", "motion")
    expect(page.locator('.card[data-zone="rastplatsen"]')).to_have_attribute("data-state", "occupied",
                                                                            timeout=LIVE_TIMEOUT_MS)
    publisher.status("stockholm", "sthlm-pi-entre", AgentState.OFFLINE)
    zones = sorted({s.zone for s in hubs["stockholm"].agent("sthlm-pi-entre").sensors})
    for zone in zones:
        card = page.locator(f'.card[data-zone="{zone}"]')
        expect(card).to_have_attribute("data-state", "unknown", timeout=LIVE_TIMEOUT_MS)
        expect(card.locator(".state-text")).to_have_text("Okänd")
        expect(card.locator(".state svg.icon-unknown")).to_have_count(1)
    expect(page.locator("#summary")).to_contain_text("okänt läge")
    health = httpx.get(f"{server.url}/api/hubs/stockholm/agents").json()
    entre = next(a for a in health["agents"] if a["agent"] == "sthlm-pi-entre")
    assert entre["status"] == "offline" and entre["online"] is False


def test_language_switch_and_kiosk_with_token(page, server):
    seen: list = []
    every: list[str] = []
    page.on("request", lambda req: seen.append(req) if "/api/" in req.url else None)
    page.on("request", lambda req: every.append(req.url))
    page.goto(f"{server.url}/kiosk?hub=stockholm&token=kiosk-secret")
    expect(page.locator("body")).to_have_class("kiosk")
    expect(page.locator("#status")).to_have_attribute("data-state", "live")
    expect(page.locator("#clock")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    expect(page.locator("h1")).to_contain_text("Lediga just nu")
    assert seen and all("token=kiosk-secret" in r.url for r in seen)
    fetched = [r for r in seen if r.resource_type == "fetch"]
    assert fetched and all(r.headers.get("authorization") == "Bearer kiosk-secret" for r in fetched)
    assert any("/api/stream" in r.url for r in seen)
    assert all(url.startswith(server.url) for url in every), "nothing may come from elsewhere"

    page.goto(f"{server.url}/?kiosk=1&hub=ostersund")
    expect(page.locator("body")).to_have_class("kiosk")
    expect(page.locator("#hub-name")).to_have_text("Hubsense Östersund")

    open_member(page, server)
    for _ in range(12):  # keyboard only: Tab to the language switch, press Enter
        if page.evaluate("document.activeElement.id") == "lang":
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_contain_text("Free spaces")
    expect(page).to_have_url(re.compile(r"[?&]lang=en"))
    states = page.locator(".card .state-text").all_inner_texts()
    assert states and not {"Ledig", "Upptagen", "Okänd"} & set(states)


HEATMAP_JS = """() => {
  const grid = Array.from({length: 7}, () => Array(24).fill('missing'));
  for (const g of document.querySelectorAll('#heatmap g.cell')) {
    const text = g.querySelector('text');
    grid[g.dataset.day][g.dataset.hour] = g.querySelector('rect.nocell') ? null : text && text.textContent;
  }
  return grid;
}"""


def test_manager_draws_the_heatmap_from_the_api(page, server):
    page.goto(f"{server.url}/manager?hub=stockholm")
    cells = page.locator("#heatmap g.cell")
    expect(cells).to_have_count(7 * 24)
    page.select_option("#heat-zone", "lagerelden")
    start, end = page.evaluate("[document.getElementById('from').value, document.getElementById('to').value]")
    api = httpx.get(f"{server.url}/api/hubs/stockholm/heatmap",
                    params={"start": start, "end": _next_day(end), "zone": "lagerelden"}).json()
    share = api["zones"][0]["share"]
    assert any(v is not None for row in share for v in row), "the history should give the heatmap some data"
    expected = [[None if v is None else str(math.floor(v * 100 + 0.5)) for v in row] for row in share]  # JS rounding
    assert page.evaluate(HEATMAP_JS) == expected


def test_manager_utilisation_bars(page, server, hubs):
    page.goto(f"{server.url}/manager?hub=stockholm")
    expect(page.locator("#util tr")).to_have_count(len(hubs["stockholm"].zones) + 1)  # zones + the hub
    expect(page.locator("#util tr.hub-row .value")).to_have_text(re.compile(r"^\d+ %$"))


def test_manager_csv_download(page, server):
    page.goto(f"{server.url}/manager?hub=stockholm")
    link = page.locator("#csv a", has_text="Beläggning (CSV)")
    expect(link).to_have_count(1)
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "stockholm-utilisation.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows and {"start", "zone", "utilisation", "data_quality"} <= set(rows[0])
    assert any(r["utilisation"] not in ("", None) for r in rows)


def test_manager_health_list(page, server, hubs):
    page.goto(f"{server.url}/manager?hub=stockholm")
    rows = page.locator("#health tbody tr")
    expect(rows).to_have_count(len(hubs["stockholm"].agents))
    for agent in hubs["stockholm"].agents:
        expect(page.locator(f'#health tr[data-agent="{agent.id}"] .badge')).not_to_be_empty()


def _next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def test_kiosk_recovers_after_losing_the_connection(page, server, publisher):
    proxy = CuttableProxy(int(server.url.rsplit(":", 1)[1]))
    try:
        page.goto(f"http://127.0.0.1:{proxy.port}/kiosk?hub=stockholm")
        status = page.locator("#status")
        expect(status).to_have_attribute("data-state", "live")
        card = page.locator('.card[data-zone="utsiktsplatsen"]')
        publisher.status("stockholm", "sthlm-pi-entre", AgentState.ONLINE)
        publisher.event("stockholm", "sthlm-pi-entre", "utsiktsplatsen-pir", "pir", "no_motion")
        expect(card).not_to_have_attribute("data-state", "unknown", timeout=LIVE_TIMEOUT_MS)
        expect(card).not_to_have_attribute("data-state", "occupied", timeout=LIVE_TIMEOUT_MS)
        page.evaluate("window.__sameDocument = true")
        proxy.cut()
        expect(status).to_have_attribute("data-state", "reconnecting", timeout=5000)
        publisher.event("stockholm", "sthlm-pi-entre", "utsiktsplatsen-pir", "pir", "motion")
        page.wait_for_timeout(500)
        expect(card).not_to_have_attribute("data-state", "occupied")  # the page cannot know yet
        proxy.restore()
        # the change happened while disconnected: the snapshot taken after reconnecting shows it
        expect(status).to_have_attribute("data-state", "live", timeout=10000)
        expect(card).to_have_attribute("data-state", "occupied", timeout=LIVE_TIMEOUT_MS)
        assert page.evaluate("window.__sameDocument") is True
    finally:
        proxy.close()


# ---- kiosk at every screen size, hub choice, closed hubs, lost server, demo marker -----------

SIZES = {"portrait": (1080, 1920), "tablet": (768, 1024), "phone": (390, 844), "landscape": (1920, 1080)}
OVERFLOW_JS = """() => {
  const doc = document.documentElement;
  const out = [];
  for (const card of document.querySelectorAll('.card[data-zone]')) {
    const box = card.getBoundingClientRect();
    for (const part of card.querySelectorAll('h3, .state-text, .times span, .desk, .note')) {
      const r = part.getBoundingClientRect();
      if (r.width && (r.right > box.right + 0.5 || r.left < box.left - 0.5 || part.scrollWidth > part.clientWidth + 1))
        out.push(`${card.dataset.zone}: ${part.textContent}`);
    }
  }
  return {scroll: doc.scrollWidth, client: doc.clientWidth, spill: out};
}"""


@pytest.mark.parametrize("size", list(SIZES))
def test_kiosk_fits_every_screen_without_horizontal_overflow(chromium, server, publisher, size):
    width, height = SIZES[size]
    context = chromium.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        publisher.status("stockholm", "sthlm-pi-entre", AgentState.ONLINE)
        publisher.event("stockholm", "sthlm-pi-entre", "lagerelden-pir", "pir", "motion")  # "Upptagen" is the widest
        page.goto(f"{server.url}/kiosk?hub=stockholm")
        expect(page.locator("#status")).to_have_attribute("data-state", "live")
        expect(page.locator('.card[data-zone="lagerelden"]')).to_have_attribute("data-state", "occupied")
        expect(page.locator(".card[data-zone]").first).to_be_visible()
        layout = page.evaluate(OVERFLOW_JS)
        assert layout["scroll"] <= layout["client"], f"{size}: page {layout['scroll']} px wide in {width} px"
        assert layout["spill"] == [], f"{size}: text spills out of its card"
        names = page.locator(".card h3").all_inner_texts()
        assert "Lägerelden" in names and "Nationalparken" in names  # whole names, not cut
    finally:
        context.close()


def test_member_view_fits_a_phone(chromium, server):
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(f"{server.url}/?hub=stockholm")
        expect(page.locator(".card[data-zone]").first).to_be_visible()
        layout = page.evaluate(OVERFLOW_JS)
        assert layout["scroll"] <= layout["client"] and layout["spill"] == []
    finally:
        context.close()


def test_hub_choice_default_then_remembered_on_the_device(chromium, server, hubs):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{server.url}/")  # the API lists Östersund first; the configured default is Stockholm
        expect(page.locator("#hub-name")).to_have_text(hubs["stockholm"].name)
        page.select_option("#hub", "ostersund")
        expect(page.locator("#hub-name")).to_have_text(hubs["ostersund"].name)
        page.goto(f"{server.url}/kiosk")  # no ?hub=: this device's last choice
        expect(page.locator("#hub-name")).to_have_text(hubs["ostersund"].name)
        page.goto(f"{server.url}/kiosk?hub=stockholm")  # an entrance kiosk set up with ?hub= keeps it
        expect(page.locator("#hub-name")).to_have_text(hubs["stockholm"].name)
        page.goto(f"{server.url}/")
        expect(page.locator("#hub-name")).to_have_text(hubs["stockholm"].name)
    finally:
        context.close()


def test_closed_hub_says_so_and_when_it_opens(page, server):
    page.goto(f"{server.url}/kiosk?hub={CLOSED_HUB}")
    closed = page.locator("#closed")
    expect(closed).to_be_visible()
    expect(closed).to_contain_text("stängt just nu")
    expect(page.locator("#closed-opens")).to_have_text(re.compile(r"^Öppnar på \w+ 07:00\.$"))
    expect(page.locator("#sec-path")).to_be_hidden()  # no board of free or occupied zones
    expect(page.locator("#summary")).to_be_hidden()
    page.goto(f"{server.url}/?hub={CLOSED_HUB}&lang=en")
    expect(page.locator("#closed-opens")).to_have_text(re.compile(r"^Opens on \w+ at 07:00\.$"))
    page.click("#closed-show")  # a member may still look at the last known state
    expect(page.locator("#sec-path")).to_be_visible()
    page.goto(f"{server.url}/?hub=stockholm")
    expect(page.locator(".card[data-zone]").first).to_be_visible()
    expect(page.locator("#closed")).to_be_hidden()


def test_forecast_legend_room_billing_and_demo_marker(page, server):
    open_member(page, server)
    expect(page.locator("#fc-legend")).to_be_visible()
    nodata = page.locator('#fc-legend [data-level="nodata"]')
    expect(nodata).to_contain_text("stängt / ingen data")
    expect(nodata.locator(".fc-bar")).to_be_visible()
    meta = '.card[data-zone="{}"] .meta'
    expect(page.locator(meta.format("projektrum-myran"))).to_have_text("8 platser · bokas per timme eller dag")
    expect(page.locator(meta.format("motesrum-ekorren"))).to_have_text("6 platser · bokas per timme")
    expect(page.locator("#demo")).to_be_visible()  # the test server runs with demo=true
    expect(page.locator("#demo")).to_contain_text("simulerade sensorer")
    page.goto(f"{server.url}/kiosk?hub=stockholm")
    expect(page.locator("#demo")).to_be_visible()


def test_unknown_desks_are_not_counted_as_taken(page, server, publisher):
    open_member(page, server)
    publisher.status("stockholm", "sthlm-pi-desk", AgentState.OFFLINE)
    card = page.locator('.card[data-zone="skrivbordet"]')
    expect(card).to_have_attribute("data-show", "unknown", timeout=LIVE_TIMEOUT_MS)
    expect(card.locator(".state-text")).to_have_text("Skrivbordens läge är okänt (10 skrivbord)")
    expect(page.locator("#summary")).not_to_contain_text("0 av 10 skrivbord lediga")
    expect(page.locator("#summary")).to_contain_text("Skrivbordens läge är okänt")
    publisher.status("stockholm", "sthlm-pi-desk", AgentState.ONLINE)
    expect(card).to_have_attribute("data-show", "free", timeout=LIVE_TIMEOUT_MS)
    expect(card.locator(".state-text")).to_have_text("10 av 10 skrivbord lediga")


def test_lost_server_shows_the_no_contact_banner(page, server):
    proxy = CuttableProxy(int(server.url.rsplit(":", 1)[1]))
    try:
        page.goto(f"http://127.0.0.1:{proxy.port}/kiosk?hub=stockholm")
        expect(page.locator("#status")).to_have_attribute("data-state", "live")
        banner = page.locator("#offline")
        expect(banner).to_be_hidden()
        proxy.cut()
        expect(banner).to_be_visible(timeout=20_000)
        expect(banner).to_contain_text("Ingen kontakt med servern")
        proxy.restore()
        expect(page.locator("#status")).to_have_attribute("data-state", "live", timeout=15_000)
        expect(banner).to_be_hidden()
    finally:
        proxy.close()


def test_api_docs_render_without_internet(page, server):
    outside: list[str] = []
    page.route(re.compile(r"^(?!http://127\.0\.0\.1)"),
               lambda route: (outside.append(route.request.url), route.abort()))
    page.goto(f"{server.url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("hubsense", timeout=15_000)
    expect(page.locator(".opblock").first).to_be_visible()
    assert outside == []


def test_member_says_probably_when_the_engine_is_not_sure(page, server, publisher):
    """The first short burst in a free zone may be someone passing: occupied, but not surely
    (p_occupied < 0.9), and the card says so in words; a second burst soon after is someone there
    (no state change: the page's periodic snapshot brings the new wording)."""
    page.clock.install()
    open_member(page, server)
    card = page.locator('.card[data-zone="hinderbanan"]')
    publisher.status("stockholm", "sthlm-pi-skog", AgentState.ONLINE)
    publisher.event("stockholm", "sthlm-pi-skog", "hinderbanan-pir", "pir", "motion")
    expect(card).to_have_attribute("data-state", "occupied", timeout=LIVE_TIMEOUT_MS)
    expect(card.locator(".state-text")).to_have_text("Troligen upptagen")
    expect(card).to_have_attribute("data-sure", "false")
    zone = httpx.get(f"{server.url}/api/hubs/stockholm/zones/hinderbanan").json()
    assert zone["state"] == "occupied" and 0.1 < zone["p_occupied"] < 0.9
    expect(card.locator(".state")).to_have_attribute("title", f"{round(zone['p_occupied'] * 100)} % sannolikhet "
                                                              "att någon är där")
    page.click("#lang")
    expect(card.locator(".state-text")).to_have_text("Probably occupied")
    page.click("#lang")
    publisher.event("stockholm", "sthlm-pi-skog", "hinderbanan-pir", "pir", "no_motion")
    publisher.event("stockholm", "sthlm-pi-skog", "hinderbanan-pir", "pir", "motion")
    deadline = time.monotonic() + 10
    while httpx.get(f"{server.url}/api/hubs/stockholm/zones/hinderbanan").json()["p_occupied"] < 0.9:
        assert time.monotonic() < deadline, "the second burst did not make the engine sure"
        time.sleep(0.05)
    page.clock.run_for(31_000)
    expect(card.locator(".state-text")).to_have_text("Upptagen")
    expect(card).to_have_attribute("data-sure", "true")


def test_manager_shows_each_zones_parameters_and_their_source(page, server, publisher, hubs):
    publisher.status("stockholm", "sthlm-pi-skog", AgentState.ONLINE)
    for state in ("motion", "no_motion", "motion", "no_motion"):  # one quiet gap to learn from
        publisher.event("stockholm", "sthlm-pi-skog", "nationalparken-pir", "pir", state)

    def learned() -> bool:
        zones = httpx.get(f"{server.url}/api/hubs/stockholm/profiles").json()["zones"]
        return next(z for z in zones if z["zone"] == "nationalparken")["gaps_seen"] > 0

    deadline = time.monotonic() + 10
    while not learned():
        assert time.monotonic() < deadline, "the collector did not learn from the gap"
        time.sleep(0.05)
    page.goto(f"{server.url}/manager?hub=stockholm")
    rows = page.locator("#profiles tbody tr")
    expect(rows).to_have_count(len(hubs["stockholm"].zones))
    national = page.locator('#profiles tr[data-zone="nationalparken"]')
    expect(national.locator("td").first).to_have_attribute("data-source", "learned")
    expect(national.locator("td").first.locator(".badge")).to_have_text("inlärd")
    expect(national.locator("td").last).to_contain_text("pauser")
    oasen = page.locator('#profiles tr[data-zone="oasen"]')
    expect(oasen.locator("td").first.locator(".badge")).to_have_text("standard")
    expect(oasen.locator("td").nth(4)).to_contain_text("s")  # a room's door window
    expect(page.locator('#profiles tr[data-zone="lagerelden"] td').nth(4)).to_have_text("–")  # no door
    expect(page.locator("#csv a", has_text="Zonernas inställningar (CSV)")).to_have_count(1)
    page.click("#lang")
    expect(national.locator("td").first.locator(".badge")).to_have_text("learned")
