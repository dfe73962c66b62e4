from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from collector.model import OccupancyState, StateChange
from collector.settings import Settings
from collector.store.sqlite import SqliteStore
from tests.support import api_app

HUB = "stockholm"
EKORREN, RAVEN, ALGEN = "motesrum-ekorren", "motesrum-raven", "konferens-algen"
FREE, OCC = OccupancyState.FREE, OccupancyState.OCCUPIED
YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def ics(*events: tuple[datetime, datetime, str]) -> str:
    def fmt(t: datetime) -> str:
        return t.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    body = "".join(f"BEGIN:VEVENT\r\nUID:{i}@test\r\nSUMMARY:{s}\r\nDTSTART:{fmt(a)}\r\nDTEND:{fmt(b)}\r\n"
                   "END:VEVENT\r\n" for i, (a, b, s) in enumerate(events))
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{body}END:VCALENDAR\r\n"


def at(hours: float, base: datetime = YESTERDAY) -> datetime:
    return base + timedelta(hours=hours)


@pytest.fixture
def calendar_server(tmp_path: Path) -> Iterator[tuple[str, Path, ThreadingHTTPServer]]:
    """A real HTTP server on loopback serving tmp_path/www."""
    root = tmp_path / "www"
    root.mkdir()
    handler = partial(SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root, server
    server.shutdown()
    server.server_close()


def make_client(tmp_path: Path, bookings: dict[str, str], changes: list[StateChange], **settings) -> TestClient:
    store = SqliteStore(tmp_path / "db.sqlite3")
    store.add_changes(changes)
    return TestClient(api_app(Settings(sqlite_path=tmp_path / "db.sqlite3", bookings=bookings, **settings),
                                 store))


def ch(zone: str, hours: float, state: OccupancyState, base: datetime = YESTERDAY) -> StateChange:
    return StateChange(HUB, zone, None, state, at(hours, base), "test")


DAY_CHANGES = [ch(EKORREN, 8, FREE), ch(EKORREN, 9 + 5 / 60, OCC), ch(EKORREN, 9 + 40 / 60, FREE),
               ch(EKORREN, 16, OCC), ch(EKORREN, 16.5, FREE)]
PERIOD = {"start": YESTERDAY.isoformat(), "end": at(24).isoformat()}


def test_report_from_a_calendar_file(tmp_path: Path) -> None:
    (tmp_path / "ekorren.ics").write_text(ics((at(9), at(10), "Styrgrupp"), (at(13), at(14), "Kundmöte")))
    client = make_client(tmp_path, {f"{HUB}/{EKORREN}": str(tmp_path / "ekorren.ics")}, DAY_CHANGES)
    r = client.get(f"/api/hubs/{HUB}/bookings", params=PERIOD)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["grace_minutes"] == 15
    [room] = body["rooms"]
    assert room["zone"] == EKORREN and room["room"] == "Mötesrum Ekorren"
    hours = {k: room[k] for k in ("booked_hours", "used_hours", "booked_used_hours", "booked_unused_hours",
                                  "unbooked_used_hours", "unknown_hours")}
    assert hours == pytest.approx({"booked_hours": 2, "used_hours": 65 / 60, "booked_used_hours": 35 / 60,
                                   "booked_unused_hours": 85 / 60, "unbooked_used_hours": 0.5,
                                   "unknown_hours": 8}, abs=1e-3)
    assert (room["bookings"], room["no_shows"]) == (2, 1)
    assert [(b["start"][11:16], b["status"], b["no_show"]) for b in room["items"]] == [
        ("09:00", "used", False), ("13:00", "no_show", True)]
    assert "summary" not in room["items"][0]  # event titles can name people: never shown
    assert datetime.fromisoformat(room["items"][0]["first_occupied"]) == at(9 + 5 / 60)

    r = client.get(f"/api/hubs/{HUB}/bookings", params={**PERIOD, "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(r.text)))
    assert row["zone"] == EKORREN and row["no_shows"] == "1" and float(row["booked_hours"]) == 2


def test_bad_parameters_are_4xx(tmp_path: Path) -> None:
    (tmp_path / "e.ics").write_text(ics())
    client = make_client(tmp_path, {EKORREN: str(tmp_path / "e.ics")}, [])
    url = f"/api/hubs/{HUB}/bookings"
    assert client.get(url, params={"start": PERIOD["end"], "end": PERIOD["start"]}).status_code == 400
    assert client.get(url, params={"start": "2026-03-01T00:00:00", "end": PERIOD["end"]}).status_code == 400
    assert client.get(url, params={"start": "yesterday", "end": PERIOD["end"]}).status_code == 400
    assert client.get(url, params={"start": PERIOD["start"]}).status_code == 422
    assert client.get(url, params={**PERIOD, "format": "xml"}).status_code == 422
    assert client.get(url, params={**PERIOD, "zone": RAVEN}).status_code == 404  # no calendar for it
    assert client.get("/api/hubs/nohub/bookings", params=PERIOD).status_code == 404
    # a bare zone id applies to every hub that has the zone; this hub's room has an empty calendar
    assert client.get(url, params={**PERIOD, "zone": EKORREN}).json()["rooms"][0]["bookings"] == 0


def test_calendar_over_http_with_a_stale_copy_when_the_server_goes_away(
        tmp_path: Path, calendar_server: tuple[str, Path, ThreadingHTTPServer]) -> None:
    base, root, server = calendar_server
    (root / "raven.ics").write_text(ics((at(13), at(14), "Workshop")))
    client = make_client(tmp_path, {f"{HUB}/{RAVEN}": f"{base}/raven.ics", f"{HUB}/{ALGEN}": f"{base}/missing.ics"},
                         [ch(RAVEN, 12, FREE), ch(RAVEN, 13.1, OCC)], bookings_refresh_s=0)
    r = client.get(f"/api/hubs/{HUB}/bookings", params={**PERIOD, "zone": RAVEN})
    assert r.status_code == 200
    assert [b["status"] for b in r.json()["rooms"][0]["items"]] == ["used"]
    assert client.get(f"/api/hubs/{HUB}/bookings", params=PERIOD).status_code == 502  # 404 for missing.ics
    server.shutdown()
    server.server_close()
    # refresh_s=0 reads the calendar again on every request: the refresh fails, the last good copy is used
    assert client.get(f"/api/hubs/{HUB}/bookings", params={**PERIOD, "zone": RAVEN}).status_code == 200


def test_live_bookings_flag_no_shows_after_the_grace_period(tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    for name, start in (("ekorren", -30), ("raven", -20), ("algen", -5)):
        (tmp_path / f"{name}.ics").write_text(
            ics((now + timedelta(minutes=start), now + timedelta(minutes=start + 60), name.title()),
                (now + timedelta(hours=3), now + timedelta(hours=4), "Later")))
    rooms = {f"{HUB}/{EKORREN}": "ekorren.ics", f"{HUB}/{RAVEN}": "raven.ics", f"{HUB}/{ALGEN}": "algen.ics"}
    changes = [ch(EKORREN, -1, FREE, now), ch(EKORREN, -25 / 60, OCC, now),
               ch(RAVEN, -1, FREE, now), ch(ALGEN, -1, FREE, now)]
    client = make_client(tmp_path, {k: str(tmp_path / v) for k, v in rooms.items()}, changes)
    r = client.get(f"/api/hubs/{HUB}/bookings/live")
    assert r.status_code == 200, r.text
    got = {b["zone"]: (b["status"], b["no_show"]) for b in r.json()["bookings"]}
    assert got == {EKORREN: ("used", False), RAVEN: ("no_show", True), ALGEN: ("pending", False)}


def test_unknown_zone_in_the_bookings_setting_fails_at_startup(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3")
    try:
        with pytest.raises(ValueError, match="stockholm/no-such-room"):
            api_app(Settings(sqlite_path=tmp_path / "db.sqlite3", bookings={"stockholm/no-such-room": "x.ics"}),
                       store)
    finally:
        store.close()
