"""The Grafana provisioning: valid files, and every dashboard query runs on a real influxd
against data written by the real InfluxStore (so measurement, field and tag names match)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from collector.model import AgentHealth, OccupancyState, ReceivedEvent, StateChange
from collector.store.influx import InfluxStore
from hubsense.protocol import SensorKind, SensorState
from hubsense.services import Influxd

REPO = Path(__file__).resolve().parents[2]
GRAFANA = REPO / "deploy" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "hubsense.json"
RANGE_S = 6 * 3600
# Grafana's macros and this dashboard's variables, as Grafana would expand them.
MACROS = {"$timeFilter": f"time >= now() - {RANGE_S}s AND time <= now()", "$__interval": "1m",
          "$__range_s": str(RANGE_S), "$hub": "stockholm", "$zone": ".*", "$raw_rp": "hubsense_raw"}


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def queries() -> list[tuple[str, str]]:
    """(panel title, raw InfluxQL) of every panel target."""
    return [(p["title"], t["query"]) for p in dashboard()["panels"] for t in p["targets"]]


def expand(query: str) -> str:
    for macro in sorted(MACROS, key=len, reverse=True):
        query = query.replace(macro, MACROS[macro])
    return query


# -- files ------------------------------------------------------------------------


def test_provisioning_files_are_consistent() -> None:
    [ds] = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "influxdb.yaml").read_text())["datasources"]
    assert ds["type"] == "influxdb" and ds["jsonData"]["version"] == "InfluxQL"
    assert ds["jsonData"]["dbName"] == "hubsense"
    # v1 compatibility API as a read-only user (deploy/influxdb/hubsense-init.sh), never the admin token
    assert ds["user"] == "${GRAFANA_INFLUX_USERNAME}"
    assert ds["secureJsonData"] == {"password": "${GRAFANA_INFLUX_PASSWORD}"}
    [provider] = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "hubsense.yaml").read_text())["providers"]
    assert provider["type"] == "file" and provider["options"]["path"].startswith("/var/lib/grafana/dashboards")
    dash = dashboard()
    assert dash["uid"] and dash["panels"]
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    for p in dash["panels"]:
        assert p["targets"], p["title"]
        for t in [p, *p["targets"]]:
            assert t["datasource"]["uid"] == ds["uid"], p["title"]
        assert all(t["rawQuery"] and t["query"].startswith("SELECT") for t in p["targets"])
    kinds = {p["type"] for p in dash["panels"]}
    assert {"bargauge", "heatmap", "state-timeline"} <= kinds


def test_compose_runs_grafana_with_these_files() -> None:
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    grafana = services["grafana"]
    mounts = {target: source for source, target, *_ in (v.split(":") for v in grafana["volumes"])}
    assert mounts["/etc/grafana/provisioning"] == "./deploy/grafana/provisioning"
    [provider] = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "hubsense.yaml").read_text())["providers"]
    assert mounts[provider["options"]["path"]] == "./deploy/grafana/dashboards"
    datasource = "\n".join(line for line in (GRAFANA / "provisioning" / "datasources" / "influxdb.yaml")
                           .read_text().splitlines() if not line.lstrip().startswith("#"))
    needed = set(re.findall(r"\$\{(\w+)\}", datasource))
    assert needed <= set(grafana["environment"]), needed - set(grafana["environment"])
    url = grafana["environment"]["HUBSENSE_INFLUX_URL"]
    assert url == services["collector"]["environment"]["HUBSENSE_INFLUX_URL"]  # the same InfluxDB
    assert grafana["depends_on"]["influxdb-init"]["condition"] == "service_completed_successfully"
    assert grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD"] == "${GRAFANA_ADMIN_PASSWORD:-}"


def test_every_panel_uses_defined_variables_only() -> None:
    defined = {v["name"] for v in dashboard()["templating"]["list"]}
    builtin = {"timeFilter", "__interval", "__range_s", "tag_zone", "tag_agent", "tag_sensor", "col"}
    for p in dashboard()["panels"]:
        for t in p["targets"]:
            used = set(re.findall(r"\$(\w+)", t["query"] + t.get("alias", "")))
            assert used <= defined | builtin, (p["title"], used - defined - builtin)


# -- against a real influxd ----------------------------------------------------------


@pytest.fixture(scope="module")
def written(influxd: Influxd) -> Iterator[tuple[Influxd, str, datetime]]:
    """A database filled by the real InfluxStore, as the collector fills it."""
    db = f"grafana_{uuid.uuid4().hex[:8]}"
    store = InfluxStore(influxd.url, db, raw_rp="hubsense_raw")
    t0 = (datetime.now(UTC) - timedelta(hours=5)).replace(second=0, microsecond=0)

    def m(minutes: float) -> datetime:
        return t0 + timedelta(minutes=minutes)

    occ, free, unknown = OccupancyState.OCCUPIED, OccupancyState.FREE, OccupancyState.UNKNOWN
    store.add_changes([
        StateChange("stockholm", "lagerelden", None, free, m(0)),
        StateChange("stockholm", "lagerelden", None, occ, m(30)),
        StateChange("stockholm", "lagerelden", None, free, m(120)),
        StateChange("stockholm", "oasen", None, occ, m(0)),
        StateChange("stockholm", "oasen", None, unknown, m(45)),
        StateChange("stockholm", "skrivbordet", "desk-01", occ, m(0)),  # desks are not zones
        StateChange("ostersund", "lagerelden", None, occ, m(0)),  # another hub
    ])
    store.add_health([AgentHealth("stockholm", "sthlm-pi-entre", True, m(1), "b1", 0.25, 3, 0, 60.0),
                      AgentHealth("stockholm", "sthlm-pi-entre", False, m(100), "b1", 0.25, 0, 0, 0.0)])
    store.add_events([ReceivedEvent("stockholm", "sthlm-pi-entre", "lagerelden-pir", SensorKind.PIR,
                                    SensorState.MOTION, m(30), 1, "b1", m(30))])
    yield influxd, db, t0
    store.drop_database()
    store.close()


def influxql(server: Influxd, db: str, query: str) -> list[dict]:
    r = httpx.post(f"{server.url}/query", data={"db": db, "q": query}, timeout=10)
    r.raise_for_status()
    [result] = r.json()["results"]
    assert "error" not in result, (query, result["error"])
    return result.get("series", [])


def test_every_query_runs_and_returns_data(written: tuple[Influxd, str, datetime]) -> None:
    server, db, _ = written
    for title, query in queries():
        series = influxql(server, db, expand(query))
        assert series and any(any(v is not None for row in s["values"] for v in row[1:]) for s in series), title
    for var in dashboard()["templating"]["list"]:
        if var["type"] == "query":
            assert influxql(server, db, expand(var["query"])), var["name"]


def test_measurements_fields_and_tags_are_the_ones_the_store_writes(written: tuple[Influxd, str, datetime]) -> None:
    server, db, _ = written
    schema: dict[str, set[str]] = {}
    for rp, measurement in (("autogen", "zone_state"), ("hubsense_raw", "agent_health"),
                            ("hubsense_raw", "sensor_event")):
        src = f'"{rp}"."{measurement}"'
        fields = {row[0] for s in influxql(server, db, f"SHOW FIELD KEYS FROM {src}") for row in s["values"]}
        tags = {row[0] for s in influxql(server, db, f"SHOW TAG KEYS FROM {src}") for row in s["values"]}
        schema[measurement] = fields | tags
    for title, query in queries():
        sources = re.findall(r'FROM\s+(?:"[^"]+"\.)?"(\w+)"', query)
        measurements = [s for s in sources if s in schema]
        assert measurements, (title, sources)
        names = set(re.findall(r'"(\w+)"', re.sub(r'FROM\s+(?:"[^"]+"\.)?"\w+"', "", query)))
        aliases = set(re.findall(r'AS\s+"(\w+)"', query))
        known = set().union(*(schema[m] for m in measurements))
        assert names - aliases <= known, (title, names - aliases - known)


def test_utilisation_panel_matches_a_hand_computed_share(written: tuple[Influxd, str, datetime]) -> None:
    server, db, _ = written
    [query] = [q for title, q in queries() if title == "Utilisation per zone"]
    got = {s["tags"]["zone"]: s["values"][0][1] for s in influxql(server, db, expand(query))}
    # lagerelden occupied 90 min, oasen 45 min, of a 6 h range; desks and the other hub not counted
    assert got == pytest.approx({"lagerelden": 90 / 360 * 100, "oasen": 45 / 360 * 100})
