from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient

from collector.api.models import ZoneOut
from collector.handler import MessageHandler, Outcome
from collector.live import LiveState
from collector.settings import Settings
from collector.store.sqlite import SqliteStore
from hubsense import protocol as p
from hubsense.config import DEFAULT_CONFIG_DIR, ConfigError, Hub
from hubsense.services import Mosquitto
from tests.support import api_app, collector_settings, running_collector


@pytest.fixture
def client(stockholm: Hub, tmp_path: Path) -> TestClient:
    live = LiveState({"stockholm": stockholm})
    now = datetime.now(UTC)
    handler, out = MessageHandler(live), Outcome()
    status = p.AgentStatus(hub="stockholm", agent="sthlm-pi-desk", boot="b", state=p.AgentState.ONLINE, ts=now)
    handler.handle(p.topic("stockholm", "sthlm-pi-desk", p.MessageKind.STATUS), p.encode(status), now, out)
    ev = p.SensorEvent(hub="stockholm", agent="sthlm-pi-desk", boot="b", sensor="desk-03-pir", kind=p.SensorKind.PIR,
                       state=p.SensorState.MOTION, ts=now, seq=1)
    handler.handle(p.topic("stockholm", "sthlm-pi-desk", p.MessageKind.EVENT), p.encode(ev), now, out)
    settings = Settings(sqlite_path=tmp_path / "db.sqlite3", config_paths=[DEFAULT_CONFIG_DIR])
    return TestClient(api_app(settings, SqliteStore(settings.sqlite_path), live=live, hubs={"stockholm": stockholm}))


def test_zones_list_every_zone_and_validates_against_the_documented_model(client: TestClient, stockholm: Hub) -> None:
    zones = client.get("/api/hubs/stockholm/zones").json()
    assert [z["id"] for z in zones] == [z.id for z in stockholm.zones]
    for zone in zones:
        ZoneOut.model_validate(zone)
    by_id = {z["id"]: z for z in zones}
    desks = by_id["skrivbordet"]
    assert desks["state"] == "occupied" and desks["free_desks"] == len(desks["desks"]) - 1
    assert desks["last_confirmed"].endswith("Z")
    assert by_id["lagerelden"]["state"] == "unknown", "no word from its agent yet: unknown, never free"


def test_the_plain_zones_get_answers_what_the_full_route_answers(client: TestClient) -> None:
    """Without a query string the zones route answers from collector.api.live._zones_plain (no FastAPI
    parameter resolution, bench/api.py); with one it takes the normal path: the same answer."""
    plain, full = client.get("/api/hubs/Stockholm/zones"), client.get("/api/hubs/Stockholm/zones?format=json")
    assert plain.status_code == full.status_code == 200
    assert plain.json() == full.json()
    assert {k: v for k, v in plain.headers.items() if k != "date"} == {k: v for k, v in full.headers.items()
                                                                         if k != "date"}
    head = client.head("/api/hubs/stockholm/zones")
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == \
        plain.headers["content-length"]
    missing, missing_full = client.get("/api/hubs/uppsala/zones"), client.get("/api/hubs/uppsala/zones?format=json")
    assert missing.status_code == missing_full.status_code == 404 and missing.json() == missing_full.json()


def test_one_zone_hubs_and_errors(client: TestClient) -> None:
    assert client.get("/api/hubs/stockholm/zones/oasen").json()["name"] == "Oasen"
    hubs = client.get("/api/hubs").json()
    assert hubs[0]["id"] == "stockholm" and hubs[0]["occupied"] == 1
    assert hubs[0]["free"] + hubs[0]["occupied"] + hubs[0]["unknown"] == hubs[0]["zones"]
    missing = client.get("/api/hubs/uppsala/zones")
    assert missing.status_code == 404 and "uppsala" in missing.json()["detail"]
    assert client.get("/api/hubs/stockholm/zones/kontoret").status_code == 404
    assert client.get("/api/stream?hub=uppsala").status_code == 404


def test_openapi_documents_every_field(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("ZoneOut", "DeskOut", "HubOut", "Health"):
        props = schemas[name]["properties"]
        assert all(prop.get("description") for prop in props.values()), name


def test_stream_pushes_zone_changes(broker: Mosquitto, tmp_path: Path) -> None:
    settings = collector_settings(broker, tmp_path)
    with running_collector(settings) as running, httpx.stream(
        "GET", running.url + "/api/stream?hub=stockholm", timeout=10
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next(lines).startswith("retry:")
        publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        publisher.connect("127.0.0.1", broker.port)
        publisher.loop_start()
        now = datetime.now(UTC)
        agent = "sthlm-pi-skog"
        status = p.AgentStatus(hub="stockholm", agent=agent, boot="sse", state=p.AgentState.ONLINE, ts=now)
        ev = p.SensorEvent(hub="stockholm", agent=agent, boot="sse", sensor="hinderbanan-pir",
                           kind=p.SensorKind.PIR, state=p.SensorState.MOTION, ts=now, seq=1)
        for kind, msg in ((p.MessageKind.STATUS, status), (p.MessageKind.EVENT, ev)):
            publisher.publish(p.topic("stockholm", agent, kind), p.encode(msg), qos=1).wait_for_publish(5)
        received: list[dict] = []
        timer = threading.Timer(5, response.close)
        timer.start()
        try:
            for line in lines:
                if line.startswith("data: "):
                    received.append(json.loads(line[6:]))
                    # the status may come in its own batch first (the zone turns free), then the motion
                    if received[-1]["id"] == "hinderbanan" and received[-1]["state"] == "occupied":
                        break
        finally:
            timer.cancel()
            publisher.loop_stop()
        assert received[-1]["id"] == "hinderbanan" and received[-1]["state"] == "occupied"


@pytest.mark.parametrize(("local_time", "open_now", "opens", "closes"), [
    ("2026-12-01T03:18", False, "2026-12-01T07:00", None),  # Tuesday night: opens at 07:00
    ("2026-12-01T12:00", True, None, "2026-12-01T19:00"),
    ("2026-12-04T19:30", False, "2026-12-05T10:00", None),  # Friday evening: Saturday 10:00
    ("2026-12-05T15:00", False, "2026-12-07T07:00", None),  # Saturday at closing: Monday
])
def test_hubs_say_whether_they_are_open_and_when_that_changes(stockholm: Hub, local_time, open_now, opens, closes):
    from collector.api.models import HubOut

    now = datetime.fromisoformat(local_time).replace(tzinfo=stockholm.tz)
    out = HubOut.build(stockholm, [], now)
    local = lambda t: t.astimezone(stockholm.tz).strftime("%Y-%m-%dT%H:%M") if t else None  # noqa: E731
    assert (out.open_now, local(out.opens_at), local(out.closes_at)) == (open_now, opens, closes)


def test_default_hub_and_demo_marker(hubs: dict[str, Hub], tmp_path: Path) -> None:
    hubs = {"ostersund": hubs["ostersund"], "stockholm": hubs["stockholm"]}
    store = SqliteStore(tmp_path / "db.sqlite3")
    plain = TestClient(api_app(Settings(sqlite_path=tmp_path / "db.sqlite3"), store, hubs=hubs))
    assert [(h["id"], h["default"], h["simulated"]) for h in plain.get("/api/hubs").json()] == [
        ("ostersund", True, False), ("stockholm", False, False)]  # no setting: the first hub
    settings = Settings(sqlite_path=tmp_path / "db.sqlite3", default_hub="stockholm", demo=True)
    configured = TestClient(api_app(settings, store, hubs=hubs))
    assert [(h["id"], h["default"], h["simulated"]) for h in configured.get("/api/hubs").json()] == [
        ("ostersund", False, True), ("stockholm", True, True)]
    with pytest.raises(ConfigError, match="default_hub: unknown hub 'uppsala'"):
        api_app(Settings(sqlite_path=tmp_path / "db.sqlite3", default_hub="uppsala"), store, hubs=hubs)


def test_rooms_say_how_they_are_booked(client: TestClient) -> None:
    by_id = {z["id"]: z for z in client.get("/api/hubs/stockholm/zones").json()}
    assert by_id["motesrum-ekorren"]["booked_per"] == ["hour"]
    assert by_id["projektrum-myran"]["booked_per"] == ["hour", "day"]
    assert by_id["lagerelden"]["booked_per"] == []
