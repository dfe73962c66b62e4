"""?format=csv on every route (served, or 400 where a route has no CSV form), the Swedish Excel
dialect, and ids that help: case-insensitive, with the valid ones named on a 404."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from collector.api.access import api_routes
from collector.model import StateChange
from collector.settings import Settings
from collector.store.sqlite import SqliteStore
from hubsense.config import Hub
from tests.collector.stats._hubs import FREE, OCC, local
from tests.support import api_app

PERIOD = {"start": "2026-06-01", "end": "2026-06-03", "month": "2026-06"}
SAMPLE = {"{hub}": "stockholm", "{zone}": "lagerelden"}


@pytest.fixture
def client(hubs: dict[str, Hub], tmp_path: Path) -> TestClient:
    store = SqliteStore(tmp_path / "db.sqlite3")
    store.add_changes([StateChange("stockholm", "lagerelden", None, state, at) for state, at in (
        (FREE, local(2026, 6, 1, 0)), (OCC, local(2026, 6, 1, 9)), (FREE, local(2026, 6, 1, 10, 30)))])
    settings = Settings(sqlite_path=tmp_path / "db.sqlite3")
    with TestClient(api_app(settings, store, hubs=hubs)) as c:
        yield c
    store.close()


def _path(template: str) -> str:
    for k, v in SAMPLE.items():
        template = template.replace(k, v)
    return template


def _csv_routes(client: TestClient) -> tuple[list[str], list[str]]:
    serves, refuses = [], []
    for route in api_routes(client.app.routes):
        if "GET" not in route.methods:
            continue
        takes = any(p.name == "format" for p in route.dependant.query_params)
        (serves if takes else refuses).append(route.path)
    return serves, refuses


def test_every_route_serves_csv_or_refuses_it(client: TestClient) -> None:
    serves, refuses = _csv_routes(client)
    assert {"/api/hubs", "/api/hubs/{hub}/zones", "/api/hubs/{hub}/zones/{zone}", "/api/hubs/{hub}/agents",
            "/api/hubs/{hub}/bookings/live", "/api/hubs/{hub}/utilisation", "/api/hubs/{hub}/sessions"} <= set(serves)
    for path in serves:
        r = client.get(_path(path), params={**PERIOD, "format": "csv"})
        assert r.status_code == 200, (path, r.text)
        assert r.headers["content-type"].startswith("text/csv"), path
        assert r.text.splitlines()[0].count(",") >= 1, path  # a header row
    assert "/api/stream" in refuses and "/healthz" in refuses
    for path in refuses:
        r = client.get(_path(path), params={"format": "csv"})
        assert r.status_code == 400, (path, r.status_code)
        assert "has no CSV" in r.json()["detail"]


def test_openapi_documents_format_and_dialect_where_they_exist(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    serves, _ = _csv_routes(client)
    for path in serves:
        params = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        assert params["format"]["schema"]["enum"] == ["json", "csv"], path
        assert "excel-sv" in params["dialect"]["schema"]["enum"], path
        assert params["format"]["description"] and params["dialect"]["description"]
    util = {p["name"]: p for p in spec["paths"]["/api/hubs/{hub}/utilisation"]["get"]["parameters"]}
    assert "EXCLUSIVE" in util["end"]["description"]


def test_zones_agents_and_hubs_as_csv(client: TestClient, hubs: dict[str, Hub]) -> None:
    zones = list(csv.DictReader(io.StringIO(client.get("/api/hubs/stockholm/zones?format=csv").text)))
    assert [z["id"] for z in zones] == [z.id for z in hubs["stockholm"].zones]
    desks = next(z for z in zones if z["id"] == "skrivbordet")
    assert desks["desks"].startswith("desk-01=unknown desk-02=unknown")
    agents = list(csv.DictReader(io.StringIO(client.get("/api/hubs/stockholm/agents?format=csv").text)))
    assert [a["agent"] for a in agents] == [a.id for a in hubs["stockholm"].agents]
    listed = list(csv.DictReader(io.StringIO(client.get("/api/hubs?format=csv").text)))
    assert {h["id"] for h in listed} == set(hubs)


def test_swedish_excel_dialect(client: TestClient) -> None:
    r = client.get("/api/hubs/stockholm/utilisation",
                   params={**PERIOD, "zone": "lagerelden", "format": "csv", "dialect": "excel-sv"})
    assert r.status_code == 200
    assert r.content.startswith("\ufeff".encode())  # BOM: Excel reads UTF-8 (å, ä, ö)
    lines = r.content.decode("utf-8-sig").split("\r\n")
    header = lines[0].split(";")
    assert header[:4] == ["start", "end", "local_start", "zone"]
    rows = [dict(zip(header, line.split(";"), strict=True)) for line in lines[1:] if line]
    monday = next(r for r in rows if r["zone"] == "lagerelden" and r["local_start"] == "2026-06-01 00:00:00")
    assert monday["start"] == "2026-06-01 00:00:00"  # the hub's local time, as Excel reads it
    assert monday["utilisation"] == "0,125"  # 1.5 h of 12 open hours, decimal comma, rounded
    assert monday["open_s"] == "43200"
    assert any(r["zone"] == "Hela hubben" for r in rows)  # the whole-hub row is named
    heat = client.get("/api/hubs/stockholm/heatmap",
                      params={**PERIOD, "zone": "lagerelden", "format": "csv", "dialect": "excel-sv"})
    heat_rows = heat.content.decode("utf-8-sig").split("\r\n")[1:]
    assert [line.split(";")[1] for line in heat_rows[:48:24]] == ["mån", "tis"]


def test_ids_are_case_insensitive_and_404s_name_the_valid_ones(client: TestClient) -> None:
    assert client.get("/api/hubs/Stockholm/zones").status_code == 200
    assert client.get("/api/hubs/stockholm/zones/Lagerelden").json()["id"] == "lagerelden"
    r = client.get("/api/hubs/stockholm/utilisation", params={**PERIOD, "zone": "LAGERELDEN"})
    assert r.status_code == 200 and {row["zone"] for row in r.json()["rows"]} == {"lagerelden", None}
    r = client.get("/api/hubs/stokholm/zones")
    assert r.status_code == 404
    assert r.json()["detail"] == "unknown hub 'stokholm'; did you mean 'stockholm'? (hubs: ostersund, stockholm)"
    r = client.get("/api/hubs/stockholm/zones/lagereld")
    assert "did you mean 'lagerelden'?" in r.json()["detail"] and "skogsglantan" in r.json()["detail"]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_docs_load_nothing_from_elsewhere(client: TestClient, page: str) -> None:
    import re

    html = client.get(page)
    assert html.status_code == 200
    urls = re.findall(r'(?:src|href)="([^"]+)"', html.text) + re.findall(r"url: '([^']+)'", html.text)
    assert urls and all(u.startswith("/") for u in urls), urls  # no CDN, no fonts from elsewhere
    for url in urls:
        assert client.get(url).status_code == 200, url
