"""Statistics API over a real SqliteStore, through FastAPI's TestClient."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from collector.api import models
from collector.api.formats import install_error_bodies
from collector.api.stats import router
from collector.model import ReceivedEvent
from collector.settings import Settings
from collector.store.sqlite import SqliteStore
from hubsense.protocol import SensorKind, SensorState
from tests.collector.stats._hubs import FREE, OCC, UNK, change, local, make_hub

HUB = make_hub(desks=2, rooms=1)
DAY = (2026, 6, 2)  # a Tuesday


@pytest.fixture
def store(tmp_path):
    s = SqliteStore(tmp_path / "stats.sqlite3")
    s.add_changes([
        change(FREE, local(*DAY, 0)), change(OCC, local(*DAY, 9)), change(FREE, local(*DAY, 10, 30)),
        change(FREE, local(*DAY, 0), "d", "k0"), change(OCC, local(*DAY, 8), "d", "k1"),
        change(FREE, local(*DAY, 0), "r0"), change(OCC, local(*DAY, 9, 30), "r0"), change(UNK, local(*DAY, 11), "r0"),
    ])
    yield s
    s.close()


@pytest.fixture
def client(store):
    app = FastAPI()
    app.state.settings = Settings(max_range_days=40)
    app.state.store = store
    app.state.hubs = {HUB.id: HUB}
    app.include_router(router)
    install_error_bodies(app)
    with TestClient(app) as c:
        yield c


def rows_of(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_utilisation_json_by_day_with_date_only_bounds(client):
    r = client.get("/api/hubs/h/utilisation", params={"start": "2026-06-02", "end": "2026-06-04", "bucket": "day"})
    assert r.status_code == 200, r.text
    report = models.UtilisationReport.model_validate(r.json())
    assert report.start == local(*DAY)  # date-only = local midnight
    by = {(row.zone, row.start): row for row in report.rows}
    z = by[("z", local(*DAY))]
    assert round(z.utilisation, 3) == 0.167 and z.data_quality == 1
    assert z.local_start.utcoffset() == timedelta(hours=2)
    desks = by[("d", local(*DAY))]
    assert desks.utilisation == pytest.approx(0.5) and desks.peak_desks_in_use == 1 and desks.desks == 2
    room = by[("r0", local(*DAY))]
    assert room.data_quality == pytest.approx(3 / 9) and room.utilisation == pytest.approx(1.5 / 3)
    assert by[("z", local(2026, 6, 3))].utilisation == 0  # free carries into the next day
    assert by[("r0", local(2026, 6, 3))].utilisation is None  # unknown all day: null, not 0
    hub_rows = [row for row in report.rows if row.zone is None]
    assert len(hub_rows) == 2 and hub_rows[0].open_s == 3 * 9 * 3600


def test_utilisation_csv_has_header_and_iso_times(client):
    r = client.get("/api/hubs/h/utilisation",
                   params={"start": "2026-06-02T00:00:00+02:00", "end": "2026-06-03T00:00:00Z", "bucket": "hour",
                           "zone": "z", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = rows_of(r.text)
    assert list(rows[0])[:4] == ["start", "end", "local_start", "zone"]
    assert len(rows) == 2 * 26  # zone z + hub total, 26 hours
    nine = next(row for row in rows if row["local_start"] == "2026-06-02T09:00:00+02:00" and row["zone"] == "z")
    assert datetime.fromisoformat(nine["start"]) == local(*DAY, 9)
    assert float(nine["utilisation"]) == 1.0
    assert next(row for row in rows if row["zone"] == "z")["utilisation"] == ""  # closed hour: null


@pytest.mark.parametrize(("params", "status", "reason"), [
    ({"start": "2026-06-03", "end": "2026-06-02"}, 400, "must be after start"),
    ({"start": "2026-01-01", "end": "2026-06-02"}, 400, "max_range_days"),
    ({"start": "2026-06-01T00:00:00", "end": "2026-06-02"}, 400, "no UTC offset"),
    ({"start": "2026-06-02T00:00:00 02:00", "end": "2026-06-01"}, 400, "must be after start"),  # '+' unencoded
    ({"start": "yesterday", "end": "2026-06-02"}, 400, "not an ISO 8601"),
    ({"start": "2026-06-01", "end": "2026-06-02", "zone": "nope"}, 404,
     "unknown zone 'nope' in hub 'h' (zones: z, d, r0)"),
    ({"start": "2026-06-01", "end": "2026-06-02", "zone": "r1"}, 404, "did you mean 'r0'?"),
    ({"start": "2026-06-01", "end": "2026-06-02", "bucket": "fortnight"}, 422,
     """{"detail":"bucket: 'fortnight' is not one of 'hour', 'day', 'week' or 'month'"}"""),
    ({"start": "2026-06-03", "end": "2026-06-03"}, 400,
     "end (2026-06-03) must be after start (2026-06-03); end is exclusive"),
])
def test_bad_requests_get_a_reason(client, params, status, reason):
    r = client.get("/api/hubs/h/utilisation", params=params)
    assert r.status_code == status
    assert reason in r.text


def test_unknown_hub_is_404(client):
    assert client.get("/api/hubs/nope/heatmap", params={"start": "2026-06-01", "end": "2026-06-02"}).status_code == 404


def test_heatmap_json_and_csv(client):
    params = {"start": "2026-06-01", "end": "2026-06-08"}
    report = models.HeatmapReport.model_validate(client.get("/api/hubs/h/heatmap", params=params).json())
    z = next(m for m in report.zones if m.zone == "z")
    assert z.share[1][9] == 1.0 and z.share[1][10] == 0.5 and z.share[1][8] == 0.0
    assert z.share[1][7] is None and z.share[0][9] is None  # closed hour; Monday before the first change
    assert z.data_quality[0][9] == 0 and z.open_hours[1][9] == 1
    rows = rows_of(client.get("/api/hubs/h/heatmap", params={**params, "zone": "z", "format": "csv"}).text)
    assert len(rows) == 168 and rows[24 + 10]["share"] == "0.5"


def test_forecast_from_recent_weeks(client, store):
    now = datetime.now(UTC)
    store.add_changes([change(OCC, now - timedelta(days=29)), change(FREE, now - timedelta(days=29), "r0")])
    r = client.get("/api/hubs/h/forecast", params={"weeks": 4})
    report = models.ForecastReport.model_validate(r.json())
    assert report.weeks == 4 and [f.zone for f in report.zones] == ["z", "d", "r0"]
    z = next(f for f in report.zones if f.zone == "z")
    r0 = next(f for f in report.zones if f.zone == "r0")
    assert z.data_quality == 1.0
    monday9 = z.cells[9]
    assert (monday9.weekday, monday9.hour) == (0, 9)
    assert monday9.probability == 1.0 and 4 <= monday9.weeks <= 5 and monday9.label == "usually busy"
    assert r0.cells[9].label == "usually free" and z.cells[3].label == "no data"  # 03:00: closed
    rows = rows_of(client.get("/api/hubs/h/forecast", params={"zone": "z", "format": "csv", "weeks": 4}).text)
    assert len(rows) == 168 and rows[9]["label"] == "usually busy"
    assert client.get("/api/hubs/h/forecast", params={"weeks": 0}).status_code == 422


def test_sessions_peaks_and_doors(client, store):
    events = [ReceivedEvent("h", "a", "r0-door", SensorKind.DOOR, SensorState.OPEN, local(*DAY, 9, m), m, "b",
                            local(*DAY, 9, m)) for m in (25, 40)]
    store.add_events(events)
    params = {"start": "2026-06-02", "end": "2026-06-03"}
    report = models.SessionsReport.model_validate(client.get("/api/hubs/h/sessions", params=params).json())
    assert [(p.date, p.peak_zones, p.peak_desks) for p in report.peaks] == [("2026-06-02", 2, 1)]
    z = next(s for s in report.sessions if s.zone == "z" and s.desk is None)
    assert (z.count, z.median_s) == (1, 5400)
    door = report.doors[0]
    assert (door.zone, door.openings, door.by_hour_of_day[9]) == ("r0", 2, 2)
    assert door.per_open_hour == pytest.approx(2 / 9)
    sessions_csv = client.get("/api/hubs/h/sessions", params={**params, "format": "csv"})
    assert sessions_csv.headers["content-disposition"] == 'attachment; filename="h-sessions.csv"'
    rows = rows_of(sessions_csv.text)  # the sessions route's CSV is the sessions table
    assert list(rows[0]) == ["zone", "desk", "count", "median_s", "p90_s", "data_quality"]
    assert (rows[0]["zone"], rows[0]["count"], rows[0]["median_s"]) == ("z", "1", "5400.0")
    peaks_csv = rows_of(client.get("/api/hubs/h/sessions", params={**params, "format": "csv", "table": "peaks"}).text)
    assert peaks_csv[0]["date"] == "2026-06-02" and peaks_csv[0]["peak_zones"] == "2"
    doors_csv = rows_of(client.get("/api/hubs/h/sessions", params={**params, "format": "csv", "table": "doors"}).text)
    assert doors_csv[0]["zone"] == "r0" and doors_csv[0]["by_hour_of_day"].split()[9] == "2"


def test_every_response_field_is_described(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    names = ["UtilisationReport", "UtilisationRow", "HeatmapReport", "HeatmapZone", "ForecastReport",
             "ForecastZone", "ForecastCell", "SessionsReport", "DailyPeak", "SessionRow", "DoorRow"]
    for name in names:
        for field, spec in schemas[name]["properties"].items():
            assert spec.get("description"), f"{name}.{field}"


def test_time_after_now_is_null_in_every_report(client, store):
    """The real clock: yesterday occupied until now; today's figures stop at now, tomorrow has none."""
    hub = HUB
    now = datetime.now(hub.tz)
    today = now.date()
    store.add_changes([change(OCC, datetime(today.year, today.month, today.day, tzinfo=hub.tz) - timedelta(days=1))])
    start, end = (today - timedelta(days=1)).isoformat(), (today + timedelta(days=2)).isoformat()
    r = client.get("/api/hubs/h/utilisation", params={"start": start, "end": end, "zone": "z"})
    report = models.UtilisationReport.model_validate(r.json())
    assert report.measured_until <= datetime.now(UTC)
    tomorrow = [row for row in report.rows if row.local_start.date() == today + timedelta(days=1)]
    assert tomorrow and all(row.open_s == 0 and row.utilisation is None and row.data_quality is None
                            for row in tomorrow)
    today_rows = [row for row in report.rows if row.local_start.date() == today and row.zone == "z"]
    opened = max(0.0, min(now.hour + now.minute / 60, 17) - 8) * 3600
    assert today_rows[0].open_s <= opened + 120  # never the whole day's 9 h before it has passed
    sess = client.get("/api/hubs/h/sessions", params={"start": start, "end": end, "zone": "z"}).json()
    assert sess["peaks"][-1]["peak_zones"] is None  # tomorrow
    heat = client.get("/api/hubs/h/heatmap", params={"start": end, "end": (today + timedelta(days=9)).isoformat()})
    assert heat.status_code == 200
    assert all(v is None for zone in heat.json()["zones"] for row in zone["share"] for v in row)
