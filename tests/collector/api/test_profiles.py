"""Zone profiles for managers (learned / configured / default parameters) and p_occupied in the live
zone model, over a real engine (LiveState) and the real app."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from collector.api.access import Access, api_routes, route_access
from collector.api.models import PROFILE_CSV_COLUMNS, ProfilesReport, ZoneOut, ZoneProfileOut
from collector.live import LiveState
from collector.model import ReceivedEvent
from collector.settings import Settings
from collector.store.sqlite import SqliteStore
from hubsense.config import Hub, Profile
from hubsense.protocol import SensorKind, SensorState
from tests.support import api_app


def _teach(live: LiveState, hub: Hub, now: datetime) -> None:
    """A few hours of short visits to Lägerelden, ending with motion a minute ago."""
    agent = next(a.id for a in hub.agents for s in a.sensors if s.id == "lagerelden-pir")
    t, seq = now - timedelta(hours=6), 0
    with live.feeding(hub.id) as engine:
        while t < now - timedelta(seconds=60):
            for state, dt in ((SensorState.MOTION, 40), (SensorState.NO_MOTION, 20), (SensorState.MOTION, 30),
                              (SensorState.NO_MOTION, 1500)):
                seq += 1
                engine.event(ReceivedEvent(hub.id, agent, "lagerelden-pir", SensorKind.PIR, state, t, seq, "b", t))
                t += timedelta(seconds=dt)
                engine.advance(min(t, now))
        engine.heartbeat(agent, now, 60, {"lagerelden-pir": SensorState.NO_MOTION})


@pytest.fixture
def client(stockholm: Hub, tmp_path: Path) -> TestClient:
    live = LiveState({"stockholm": stockholm}, {"stockholm": {"rastplatsen": Profile(vacancy_timeout_s=90)}})
    _teach(live, stockholm, datetime.now(UTC))
    settings = Settings(sqlite_path=tmp_path / "db.sqlite3")
    store = SqliteStore(settings.sqlite_path)
    with TestClient(api_app(settings, store, live=live, hubs={"stockholm": stockholm})) as c:
        yield c
    store.close()


def test_every_zone_has_its_parameters_and_where_each_comes_from(client: TestClient, stockholm: Hub) -> None:
    report = ProfilesReport.model_validate(client.get("/api/hubs/stockholm/profiles").json())
    assert [z.zone for z in report.zones] == [z.id for z in stockholm.zones]
    by = {z.zone: z for z in report.zones}
    assert by["lagerelden"].gaps_seen > 0 and by["lagerelden"].vacancy_timeout_s.source == "learned"
    assert by["rastplatsen"].vacancy_timeout_s.model_dump() == {"value": 90.0, "source": "configured"}
    assert by["utsiktsplatsen"].vacancy_timeout_s.source == "default" and by["utsiktsplatsen"].gaps_seen == 0
    assert by["oasen"].p_empty_after_silent_door_cycle is not None  # a room
    assert by["lagerelden"].p_empty_after_silent_door_cycle is None
    one = ZoneProfileOut.model_validate(client.get("/api/hubs/stockholm/zones/Lagerelden/profile").json())
    assert one == by["lagerelden"]
    assert client.get("/api/hubs/stockholm/zones/kontoret/profile").status_code == 404


def test_profiles_as_csv_one_flat_row_per_zone(client: TestClient, stockholm: Hub) -> None:
    r = client.get("/api/hubs/stockholm/profiles", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0]) == PROFILE_CSV_COLUMNS and len(rows) == len(stockholm.zones)
    rast = next(row for row in rows if row["zone"] == "rastplatsen")
    assert (rast["vacancy_timeout_s"], rast["vacancy_timeout_s_source"]) == ("90.0", "configured")
    excel = client.get("/api/hubs/stockholm/zones/rastplatsen/profile", params={"format": "csv", "dialect": "excel-sv"})
    assert excel.text.startswith("\ufeffhub;zone;") and ";90;configured;" in excel.text


def test_profiles_are_for_managers(client: TestClient) -> None:
    paths = {r.path: route_access(r) for r in api_routes(client.app.routes) if "profile" in r.path}
    assert paths == {"/api/hubs/{hub}/profiles": Access.MANAGER, "/api/hubs/{hub}/zones/{zone}/profile": Access.MANAGER}


def test_zones_carry_p_occupied_and_unknown_stays_unknown(client: TestClient) -> None:
    zones = {z["id"]: z for z in client.get("/api/hubs/stockholm/zones").json()}
    for zone in zones.values():
        ZoneOut.model_validate(zone)
        if zone["state"] == "unknown":
            assert zone["p_occupied"] is None
    lager = zones["lagerelden"]
    assert lager["state"] in ("free", "occupied") and 0 < lager["p_occupied"] < 1
    assert zones["oasen"]["state"] == "unknown" and zones["oasen"]["p_occupied"] is None  # its agent never heard
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("ZoneProfileOut", "ParameterOut", "ProfilesReport"):
        assert all(p.get("description") for p in schemas[name]["properties"].values()), name
