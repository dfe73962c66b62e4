"""Billing and room routes over a real SQLite store and a real Outlook calendar (collector/api/billing.py,
collector/api/rooms.py): March 2026 in Mötesrum Ekorren (tests/collector/bookings/scenario.py)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from collector.auth import Role, create_token
from collector.model import ReceivedEvent
from collector.settings import Settings
from collector.store.sqlite import SqliteStore
from hubsense.protocol import SensorKind, SensorState
from tests.collector.bookings.scenario import CALENDAR, DOOR_OPEN, ROOM, changes, lt
from tests.support import api_app

URL = "/api/hubs/stockholm/billing"
PERSONAL = re.compile(r"\banna\b|andersson|\blisa\b|karin|@|styrgrupp|intervju|070", re.IGNORECASE)


def door_events() -> list[ReceivedEvent]:
    out = []
    for i, (opened, closed) in enumerate(DOOR_OPEN):
        for j, (at, state) in enumerate(((lt(opened), SensorState.OPEN), (lt(closed), SensorState.CLOSED))):
            out.append(ReceivedEvent("stockholm", "sthlm-pi-rum", "motesrum-ekorren-door", SensorKind.DOOR, state,
                                     at, 2 * i + j + 1, "boot-1", at))
    return out


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    store = SqliteStore(tmp_path / "db.sqlite3")
    store.add_changes(changes())
    store.add_events(door_events())
    settings = Settings(sqlite_path=tmp_path / "db.sqlite3", tokens_path=tmp_path / "tokens.json",
                        bookings={f"stockholm/{ROOM}": str(CALENDAR)})
    yield TestClient(api_app(settings, store))
    store.close()


def test_the_month_per_organisation_as_json(client: TestClient) -> None:
    r = client.get(URL, params={"month": "2026-03"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["currency"], body["timezone"], body["unassigned"], body["upcoming"]) == (
        "SEK", "Europe/Stockholm", 1, 0)
    assert body["start"] == "2026-02-28T23:00:00Z" and body["end"] == "2026-03-31T22:00:00Z"
    orgs = {o["organisation"]: o for o in body["organisations"]}
    assert {k: o["amount"] for k, o in orgs.items()} == {  # hand-computed in tests/collector/billing
        "trafikverket": "2187.50", "region-stockholm": "962.50", "stockholms-stad": "787.50", "unassigned": "175.00"}
    assert body["amount"] == "4112.50"
    t = orgs["trafikverket"]
    assert (t["bookings"], t["booked_hours"], t["no_shows"], t["overrun_minutes"], t["sensors_unknown"]) == (
        6, 6.0, 0, 17.0, 1)
    assert t["used_hours"] == pytest.approx(262 / 60, abs=1e-4)
    assert orgs["region-stockholm"]["no_show_rate"] == pytest.approx(1 / 3, abs=1e-4)
    line = next(x for x in orgs["stockholms-stad"]["lines"] if x["no_show"])
    assert (line["released_at"], line["taken_minutes"], line["basis"], line["amount"]) == (
        "2026-03-26T09:15:00Z", 50.0, "no_show_waived", "0.00")
    line = next(x for x in orgs["region-stockholm"]["lines"] if x["start"] == "2026-03-27T12:00:00Z")
    assert (line["no_show"], line["released_at"], line["amount"]) == (True, "2026-03-27T12:15:00Z", "350.00")
    door = next(x for x in t["lines"] if x["start"] == "2026-03-27T14:00:00Z")
    assert (door["no_show"], door["sensed_minutes"], door["amount"]) == (False, 0.0, "350.00")  # door stood open
    unknown = next(x for x in t["lines"] if x["data_quality"] == "sensors_unknown")
    assert (unknown["start"], unknown["sensors_unknown_minutes"], unknown["basis"]) == (
        "2026-03-30T12:00:00Z", 20.0, "sensors_unknown")
    assert not PERSONAL.search(r.text)  # organisations, never persons


def test_one_organisation_and_the_csv_exports(client: TestClient) -> None:
    r = client.get(URL, params={"month": "2026-03", "organisation": "Region-Stockholm"})
    assert [o["organisation"] for o in r.json()["organisations"]] == ["region-stockholm"]
    assert r.json()["amount"] == "962.50"

    r = client.get(URL, params={"month": "2026-03", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="stockholm-billing-2026-03.csv"' in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 13 and sum(float(x["amount"]) for x in rows) == 4112.50
    assert rows[0]["organisation"] == "trafikverket" and rows[0]["start"] == "2026-03-03T08:00:00+00:00"

    r = client.get(URL, params={"month": "2026-03", "format": "csv", "dialect": "excel-sv",
                                "organisation": "stockholms-stad"})
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert [(x["start"], x["amount"], x["overrun_minutes"]) for x in rows] == [
        ("2026-03-05 13:00:00", "350,00", "0"),  # local time, decimal comma, money keeps its decimals
        ("2026-03-12 09:00:00", "437,50", "15"),
        ("2026-03-26 10:00:00", "0,00", "0"),
    ]


def test_the_printable_statement(client: TestClient) -> None:
    r = client.get(f"{URL}/statement", params={"month": "2026-03", "organisation": "trafikverket"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<link rel="stylesheet" href="/static/statement.css">' in html and "<script" not in html
    assert "Faktureringsunderlag" in html and "mars 2026" in html and "Mötesrum Ekorren" in html
    assert 'class="num total-amount">2\u00a0187,50\u00a0SEK<' in html  # the totals line
    assert html.count("<tr") == 1 + 6 + 1  # head, six bookings, totals
    assert '<tr class="marked">' in html and "⚠ sensorer okända 20 min: debiterat som bokat" in html
    assert "1 bokning(ar) debiterades som bokade" in html
    assert not PERSONAL.search(html)
    en = client.get(f"{URL}/statement", params={"month": "2026-03", "organisation": "stockholms-stad", "lang": "en"})
    assert "Billing statement" in en.text and "1,137.50" not in en.text and "787.50\u00a0SEK" in en.text
    assert "released 10:15, used by others 50 min: no charge" in en.text
    assert "started 10 min early (not billed)" in en.text and "overran into the next booking" in en.text


def test_bad_parameters(client: TestClient) -> None:
    r = client.get(URL, params={"month": "2026-13"})
    assert r.status_code == 400 and "write YYYY-MM" in r.json()["detail"]
    assert client.get(URL).status_code == 422
    r = client.get(URL, params={"month": "2026-03", "organisation": "trafikverke"})
    assert r.status_code == 404 and "did you mean 'trafikverket'" in r.json()["detail"]
    r = client.get(f"{URL}/statement", params={"month": "2026-03", "organisation": "unassigned", "format": "csv"})
    assert r.status_code == 400  # the page has no CSV form
    assert client.get("/api/hubs/nowhere/billing", params={"month": "2026-03"}).status_code == 404


def test_an_unreadable_calendar_is_502(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3")
    settings = Settings(sqlite_path=tmp_path / "db.sqlite3", tokens_path=tmp_path / "tokens.json",
                        bookings={f"stockholm/{ROOM}": str(tmp_path / "missing.ics")})
    client = TestClient(api_app(settings, store))
    assert client.get(URL, params={"month": "2026-03"}).status_code == 502
    assert client.get("/api/hubs/stockholm/rooms").status_code == 502
    store.close()


def test_billing_needs_a_manager_the_rooms_do_not(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3")
    settings = Settings(sqlite_path=tmp_path / "db.sqlite3", tokens_path=tmp_path / "tokens.json",
                        bookings={f"stockholm/{ROOM}": str(CALENDAR)})
    manager, _ = create_token(settings.tokens_path, Role.MANAGER, "test")
    client = TestClient(api_app(settings, store))
    for path in (URL, f"{URL}/statement", "/api/hubs/stockholm/rooms/events"):
        assert client.get(path, params={"month": "2026-03", "organisation": "trafikverket"}).status_code == 401
    ok = client.get(URL, params={"month": "2026-03"}, headers={"Authorization": f"Bearer {manager}"})
    assert ok.status_code == 200
    assert client.get("/api/hubs/stockholm/rooms").status_code == 200  # the member view's room cards
    store.close()


def test_rooms_now_show_times_only(client: TestClient) -> None:
    r = client.get("/api/hubs/stockholm/rooms")
    assert r.status_code == 200
    [room] = r.json()["rooms"]
    assert room["zone"] == ROOM and room["room"] == "Mötesrum Ekorren"
    assert set(room) == {"zone", "room", "status", "booking", "next", "free_until", "released_at"}
    # March 2026 is long over (the room's last state change is free): free, and nothing booked soon
    assert (room["status"], room["booking"], room["next"]) == ("free", None, None)
    live = client.get("/api/hubs/stockholm/bookings/live").json()
    assert live["rooms"][0]["live_status"] == "free" and live["rooms"][0]["overrun_minutes"] is None
    assert client.get("/api/hubs/stockholm/rooms/events").json() == {"hub": "stockholm", "events": []}
    assert datetime.fromisoformat(r.json()["now"]) <= datetime.now(UTC)
