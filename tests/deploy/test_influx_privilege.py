"""The collector's InfluxDB user may read and write its data and nothing else.

1.x, for real: the statements docs/storage.md gives are run on an influxd with authentication on;
then the real InfluxStore works as that user, and everything beyond its database is refused.
2.x (no server here): deploy/influxdb/hubsense-init.sh is parsed: what each user is granted, that
no call grants more, and that every variable it needs comes from the compose service.
"""

from __future__ import annotations

import re
import secrets
import shlex
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from collector.deploy.layout import INFLUX_COLLECTOR_USER, INFLUX_GRAFANA_USER
from collector.model import AgentHealth, OccupancyState, ReceivedEvent, StateChange
from collector.store.influx import InfluxStore
from collector.store.influx_http import InfluxError, InfluxStatus
from hubsense.protocol import SensorKind, SensorState
from hubsense.services import Influxd
from tests.deploy.influx_users import ADMIN, documented_statements, influxql, start_secured

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "influxdb" / "hubsense-init.sh"
PASSWORDS = {"COLLECTOR-PASSWORD": secrets.token_urlsafe(24), "GRAFANA-PASSWORD": secrets.token_urlsafe(24)}


def refused(resp: httpx.Response) -> bool:
    """1.x says no with 401/403, or with 200 and an 'error' naming authorization."""
    if resp.status_code in (401, 403):
        return True
    body = resp.json()
    errors = [body.get("error", "")] + [r.get("error", "") for r in body.get("results", [])]
    return any("authoriz" in e or "privilege" in e for e in errors if e)


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Influxd]:
    server = start_secured(tmp_path_factory.mktemp("influxd-auth"), *PASSWORDS.values())
    try:
        resp = influxql(server, 'CREATE DATABASE "other"', ADMIN)
        assert resp.status_code == 200 and '"error"' not in resp.text, resp.text
        yield server
    finally:
        server.stop()


def as_collector(server: Influxd, database: str = "hubsense") -> InfluxStore:
    return InfluxStore(server.url, database, username=INFLUX_COLLECTOR_USER,
                       password=PASSWORDS["COLLECTOR-PASSWORD"], raw_rp="hubsense_raw", create=False)


def test_documented_statements_create_the_users_compose_names() -> None:
    text = "\n".join(documented_statements(*PASSWORDS.values()))
    assert f'CREATE USER "{INFLUX_COLLECTOR_USER}"' in text and f'CREATE USER "{INFLUX_GRAFANA_USER}"' in text
    assert "ALL PRIVILEGES" not in text  # no admin
    assert re.findall(r"GRANT (\w+) ON (\S+)", text) == [("ALL", '"hubsense"'), ("READ", '"hubsense"')]


def test_collector_user_writes_and_reads_its_data(secured: Influxd) -> None:
    store = as_collector(secured)
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    event = ReceivedEvent("stockholm", "sthlm-pi-entre", "lagerelden-pir", SensorKind.PIR, SensorState.MOTION,
                          t0, 1, "b1", t0)
    try:
        assert store.add_events([event]) == 1
        store.add_changes([StateChange("stockholm", "lagerelden", None, OccupancyState.OCCUPIED, t0)])
        store.add_health([AgentHealth("stockholm", "sthlm-pi-entre", True, t0, "b1", 0.1, 0, 0, 30.0)])
        end = t0 + timedelta(minutes=5)
        assert [e.seq for e in store.events("stockholm", t0 - timedelta(minutes=1), end)] == [1]
        assert [c.state for c in store.changes("stockholm", t0 - timedelta(minutes=1), end)] == [
            OccupancyState.OCCUPIED]
        assert store.add_events([event]) == 0  # the duplicate check (a read) works too
    finally:
        store.close()


def test_collector_user_cannot_touch_anything_else(secured: Influxd) -> None:
    auth = (INFLUX_COLLECTOR_USER, PASSWORDS["COLLECTOR-PASSWORD"])
    other = as_collector(secured, "other")
    try:
        with pytest.raises((InfluxError, InfluxStatus), match=r"403.*not authorized"):
            other.add_changes([StateChange("stockholm", "x", None, OccupancyState.FREE, datetime.now(UTC))])
    finally:
        other.close()
    for statement, db in [('SELECT * FROM "zone_state"', "other"), ('CREATE DATABASE "mine"', None),
                          ('DROP DATABASE "hubsense"', None), ('DROP DATABASE "other"', None),
                          ("SHOW USERS", None), ("CREATE USER x WITH PASSWORD 'y' WITH ALL PRIVILEGES", None),
                          (f'GRANT ALL ON "other" TO "{INFLUX_COLLECTOR_USER}"', None),
                          ('CREATE RETENTION POLICY "x" ON "other" DURATION 1d REPLICATION 1', None)]:
        assert refused(influxql(secured, statement, auth, db)), statement
    assert influxql(secured, 'SHOW DATABASES', ADMIN).status_code == 200
    assert refused(influxql(secured, "SHOW DATABASES", (INFLUX_COLLECTOR_USER, "wrong-password")))


def test_grafana_user_reads_but_cannot_write(secured: Influxd) -> None:
    auth = (INFLUX_GRAFANA_USER, PASSWORDS["GRAFANA-PASSWORD"])
    resp = influxql(secured, 'SELECT count(*) FROM "zone_state"', auth, "hubsense")
    assert resp.status_code == 200 and not refused(resp), resp.text
    write = httpx.post(f"{secured.url}/write", params={"db": "hubsense"}, content=b"zone_state,hub=x state=1i",
                       auth=auth, timeout=10)
    assert write.status_code == 403


# --- InfluxDB 2.x: the init script, parsed ---------------------------------------------------


def script_commands() -> list[list[str]]:
    """Every command line of the script (continuations joined), split like the shell does."""
    text = re.sub(r"\\\n\s*", " ", SCRIPT.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    commands = []
    for line in lines:
        words = shlex.split(line, comments=True)
        commands.append(words[: words.index(">")] if ">" in words else words)  # without redirections
    return commands


def influx_calls() -> list[list[str]]:
    calls = []
    for words in script_commands():
        for i, word in enumerate(words):
            if word.lstrip("$(") == "influx":
                calls.append(words[i:])
    return calls


def ensure_user_calls() -> dict[str, list[str]]:
    """{user name variable: flags} of each ensure_user call."""
    return {words[1]: words[3:] for words in script_commands() if words[0] == "ensure_user"}


def test_script_is_valid_bash() -> None:
    assert subprocess.run(["bash", "-n", str(SCRIPT)]).returncode == 0


def test_script_grants_each_user_only_its_buckets() -> None:
    users = ensure_user_calls()
    assert users == {
        "$HUBSENSE_INFLUX_USERNAME": ["--read-bucket", "$long_id", "--write-bucket", "$long_id",
                                      "--read-bucket", "$raw_id", "--write-bucket", "$raw_id"],
        "$GRAFANA_INFLUX_USERNAME": ["--read-bucket", "$long_id", "--read-bucket", "$raw_id"],
    }
    [create] = [c for c in influx_calls() if c[1:4] == ["v1", "auth", "create"]]
    assert create[4:] == ["--username", "$name", "--password", "$password", "--description", "$name", "$@"]
    [set_pw] = [c for c in influx_calls() if c[1:4] == ["v1", "auth", "set-password"]]
    assert set_pw[4:8] == ["--username", "$name", "--password", "$password"]
    every_word = {w for c in influx_calls() for w in c}
    assert not every_word & {"--all-access", "--operator", "--read-buckets", "--write-buckets", "--write-orgs",
                             "--write-users", "--write-authorizations"}
    assert not [c for c in influx_calls() if c[1:3] == ["auth", "create"]]  # no v2 API token at all


def test_script_maps_the_collectors_database_and_retention_policies() -> None:
    dbrp = [c for c in influx_calls() if c[1:4] == ["v1", "dbrp", "create"]]
    assert dbrp == [["influx", "v1", "dbrp", "create", "--db", "$db", "--rp", "$1", "--bucket-id", "$2", "${@:3}"]]
    calls = {tuple(w[:3]) for w in script_commands() if w[0] == "ensure_dbrp"}
    assert calls == {("ensure_dbrp", "autogen", "$long_id"), ("ensure_dbrp", "$raw_rp", "$raw_id")}


def test_compose_runs_the_script_with_everything_it_needs() -> None:
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    init = services["influxdb-init"]
    assert init["entrypoint"] == ["/bin/bash", "/hubsense/hubsense-init.sh"]
    assert "./deploy/influxdb:/hubsense:ro" in init["volumes"]
    assert init["image"] == services["influxdb"]["image"]
    env = set(init["environment"])
    text = SCRIPT.read_text()
    defined = set(re.findall(r"^\s*(?:local\s+)?(\w+)=", text, re.M)) | {"name", "password"}
    defaulted = set(re.findall(r"\$\{(\w+):[-?]", text))
    used = set(re.findall(r"\$\{?([A-Za-z_]\w*)", text)) - defined - {"PATH"}
    assert used - defaulted <= env, used - defaulted - env
    assert {"INFLUX_HOST", "INFLUX_TOKEN", "INFLUX_ORG"} <= env
    assert "INFLUX_USERNAME" not in env and "INFLUX_PASSWORD" not in env  # the CLI would take them as flags
    collector = services["collector"]["environment"]
    assert init["environment"]["HUBSENSE_INFLUX_DATABASE"] == collector["HUBSENSE_INFLUX_DATABASE"]
    assert init["environment"]["HUBSENSE_INFLUX_RAW_RP"] == collector["HUBSENSE_INFLUX_RAW_RP"]
