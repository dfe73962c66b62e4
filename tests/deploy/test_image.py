"""The collector image, built from the project's Dockerfile and run for real (podman + runc).

The container gets what docker-compose.yml gives the collector service (its environment
interpolated with a .env made by ``hubsense deploy init``, its user, its mounts), except that the
broker and InfluxDB are the test's own on loopback: a Mosquitto with the provisioned users and
ACL, and an influxd 1.x with authentication and the collector's least-privilege user.  If podman
cannot run here, the tests fail and say why: they are never skipped.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from collector.deploy.envfile import read_env_file
from collector.deploy.init import init_deployment
from collector.deploy.layout import COLLECTOR_UID
from hubsense.services import Influxd, Mosquitto, free_port
from tests.collector.deploy.conftest import make_checkout
from tests.deploy import podman as pm
from tests.deploy.influx_users import ADMIN, influxql, start_secured
from tests.test_compose import interpolate

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
TAG = "localhost/hubsense-collector:test"
DOCS = REPO / "docs" / "protocol.md"


def compose_collector() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["collector"]


def seconds(duration: str) -> float:
    """A compose duration such as '20s' or '1m30s'."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration))


@pytest.fixture(scope="module")
def image() -> str:
    try:
        image_id, times = pm.ensure_image(REPO, TAG)
    except pm.PodmanUnavailable as exc:
        pytest.fail(f"the image test cannot run: {exc}", pytrace=False)
    print(f"image: base {times['base_s']:.1f} s, build {times['build_s']:.1f} s")
    return image_id


@dataclass
class Deployment:
    root: Path
    env: dict[str, str]
    token: str
    broker: Mosquitto
    influx: Influxd


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """A folder made by deploy init, with a broker and an InfluxDB that use its credentials."""
    root = make_checkout(tmp_path_factory.mktemp("deployment") / "hubsense")
    result = init_deployment(root, server="127.0.0.1", mqtt_bind="127.0.0.1")
    env = read_env_file(root / ".env")
    secrets = root / "secrets" / "mosquitto"
    broker = Mosquitto(tmp_path_factory.mktemp("broker"), extra_config=[
        "allow_anonymous false", f"password_file {secrets / 'passwd'}", f"acl_file {secrets / 'acl'}"]).start()
    influx = start_secured(tmp_path_factory.mktemp("influxd"), env["HUBSENSE_INFLUX_PASSWORD"],
                           env["GRAFANA_INFLUX_PASSWORD"])
    assert result.manager_token
    yield Deployment(root, env, result.manager_token, broker, influx)
    broker.stop()
    influx.stop()


@dataclass
class Container:
    name: str
    url: str
    grace_s: float


def run_args(d: Deployment, name: str, port: int) -> list[str]:
    """``podman run`` arguments for the compose collector service, on this test's loopback services."""
    service = compose_collector()
    env = {k: interpolate(str(v), d.env) for k, v in service["environment"].items()}
    env |= {"HUBSENSE_MQTT_HOST": "127.0.0.1", "HUBSENSE_MQTT_PORT": str(d.broker.port),
            "HUBSENSE_INFLUX_URL": d.influx.url, "HUBSENSE_HTTP_HOST": "127.0.0.1", "HUBSENSE_HTTP_PORT": str(port)}
    mounts = {"./firmware_config": f"{d.root / 'firmware_config'}:/etc/hubsense:ro",
              "./secrets/collector": f"{d.root / 'secrets' / 'collector'}:/run/hubsense",
              "collector-data": f"{name}-data:/var/lib/hubsense"}
    for volume in service["volumes"]:  # every mount of the service, nothing else
        source = volume["source"] if isinstance(volume, dict) else volume.split(":")[0]
        assert source in mounts, f"the test does not know how to mount {source}"
    return ["--name", name, *pm.limits(), "--network", "host", "--user", interpolate(service["user"], d.env),
            *(a for g in service["group_add"] for a in ("--group-add", str(g))),
            *(a for k, v in env.items() for a in ("-e", f"{k}={v}")),
            *(a for m in mounts.values() for a in ("-v", m))]


def wait_healthy(name: str, url: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = pm.podman("inspect", "--format", "{{.State.Status}}", name).stdout.strip()
        if state != "running":
            logs = pm.podman("logs", name, check=False)
            pytest.fail(f"the collector container is {state}:\n{logs.stdout[-3000:]}{logs.stderr[-3000:]}")
        try:
            health = httpx.get(f"{url}/healthz", timeout=2).json()
            if health["mqtt_connected"]:
                return health
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    logs = pm.podman("logs", name, check=False)
    pytest.fail(f"no /healthz with the broker connected within {timeout} s:\n{logs.stderr[-3000:]}")


@contextmanager
def started(image: str, d: Deployment) -> Iterator[Container]:
    name = f"hubsense-image-test-{uuid.uuid4().hex[:8]}"
    port = free_port()
    pm.podman("run", "-d", *run_args(d, name, port), image)
    try:
        yield Container(name, f"http://127.0.0.1:{port}", seconds(compose_collector()["stop_grace_period"]))
    finally:
        pm.podman("rm", "-f", "-t", "0", name, check=False)
        pm.podman("volume", "rm", "-f", f"{name}-data", check=False)


@pytest.fixture(scope="module")
def container(image: str, deployment: Deployment) -> Iterator[Container]:
    with started(image, deployment) as c:
        yield c


def zone_state(url: str, hub: str, zone: str) -> str | None:
    resp = httpx.get(f"{url}/api/hubs/{hub}/zones/{zone}", timeout=5)
    return resp.json().get("state") if resp.status_code == 200 else None


def documented_commands() -> list[str]:
    return re.findall(r"```sh\n(.*?)\n```", DOCS.read_text(), re.S)


def test_serves_api_and_dashboard_in_production_mode(container: Container, deployment: Deployment) -> None:
    health = wait_healthy(container.name, container.url)
    assert health["mqtt_connected"] is True
    page = httpx.get(f"{container.url}/", timeout=5)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    stats = f"{container.url}/api/hubs/stockholm/agents"
    assert httpx.get(stats, timeout=5).status_code == 401  # production: manager routes are locked
    auth = {"Authorization": f"Bearer {deployment.token}"}
    assert httpx.get(stats, headers=auth, timeout=5).status_code == 200  # with the token deploy init printed
    assert pm.podman("healthcheck", "run", container.name, check=False).returncode == 0  # the Dockerfile's own


def test_documented_event_turns_a_zone_occupied(container: Container, deployment: Deployment) -> None:
    wait_healthy(container.name, container.url)
    agent = read_env_file(deployment.root / "secrets" / "agents" / "stockholm" / "sthlm-pi-entre.env")
    login = f"-u {agent['HUBSENSE_MQTT_USERNAME']} -P {agent['HUBSENSE_MQTT_PASSWORD']} "
    commands = documented_commands()
    status = next(c for c in commands if "sthlm-pi-entre/status" in c)
    event = next(c for c in commands if "lagerelden-pir" in c)
    for cmd in (status, event):
        cmd = cmd.replace("-p 1883", f"-p {deployment.broker.port}").replace("mosquitto_pub ", f"mosquitto_pub {login}")
        subprocess.run(["bash", "-c", cmd], check=True, timeout=10)
    deadline = time.monotonic() + 15
    while zone_state(container.url, "stockholm", "lagerelden") != "occupied":
        assert time.monotonic() < deadline, zone_state(container.url, "stockholm", "lagerelden")
        time.sleep(0.2)
    # stored through the collector's least-privilege InfluxDB user
    deadline = time.monotonic() + 15
    while True:
        rows = influxql(deployment.influx, 'SELECT count("seq") FROM "hubsense_raw"."sensor_event"', ADMIN,
                        "hubsense").json()["results"][0].get("series", [])
        if rows and rows[0]["values"][0][1] >= 1:
            break
        assert time.monotonic() < deadline, "the event never reached InfluxDB"
        time.sleep(0.2)


def test_runs_as_the_non_root_user_compose_gives_it(container: Container, deployment: Deployment) -> None:
    wait_healthy(container.name, container.url)
    assert deployment.env["HUBSENSE_UID"] == str(COLLECTOR_UID)  # deploy init ran as root here
    pid = pm.podman("inspect", "--format", "{{.State.Pid}}", container.name).stdout.strip()
    status = Path(f"/proc/{pid}/status").read_text()
    uids = re.search(r"^Uid:\s+(.*)$", status, re.M).group(1).split()
    gids = re.search(r"^Groups:\s*(.*)$", status, re.M).group(1).split()
    assert set(uids) == {str(COLLECTOR_UID)} and str(COLLECTOR_UID) in gids
    assert pm.podman("exec", container.name, "id", "-u").stdout.strip() == str(COLLECTOR_UID)


def test_stops_cleanly_on_sigterm_within_the_grace_period(image: str, deployment: Deployment) -> None:
    """As 'docker compose stop' does: SIGTERM, then SIGKILL after stop_grace_period (never needed)."""
    with started(image, deployment) as container:
        wait_healthy(container.name, container.url)
        begun = time.monotonic()
        pm.podman("kill", "--signal", "TERM", container.name)
        code = pm.podman("wait", container.name, timeout=container.grace_s + 30).stdout.strip()
        elapsed = time.monotonic() - begun
        logs = pm.podman("logs", container.name, check=False)
        assert code == "0", logs.stdout[-2000:] + logs.stderr[-2000:]
        assert elapsed < container.grace_s, f"took {elapsed:.1f} s (grace {container.grace_s} s)"
        print(f"SIGTERM: exit {code} after {elapsed:.1f} s (grace {container.grace_s:.0f} s)")


# --- 'hubsense deploy' from the image, as the compose deploy and preflight services run it -------


def tool_args(service: dict, folder: Path) -> list[str]:
    """``podman run`` arguments for a compose tool service: its user, capabilities, network, mounts."""
    args = ["--rm", *pm.limits(), "--user", service["user"], "--network", service["network_mode"], "--cap-drop", "ALL",
            *(a for cap in service.get("cap_add", []) for a in ("--cap-add", cap)),
            "--entrypoint", json.dumps(service["entrypoint"])]
    if service.get("read_only"):
        args.append("--read-only")
    if "working_dir" in service:
        args += ["--workdir", service["working_dir"]]
    for volume in service["volumes"]:
        source, target, *mode = volume.split(":")
        assert source == ".", volume
        args += ["-v", ":".join([str(folder), target, *mode])]
    return args


def test_deploy_init_and_preflight_run_from_the_image(image: str, tmp_path: Path) -> None:
    """docker compose run --rm deploy init, then the preflight check, with compose's own capabilities."""
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    operator = 4244
    root = make_checkout(tmp_path / "hubsense")
    for path in [root, *root.rglob("*")]:
        os.lchown(path, operator, operator)
    init = pm.podman("run", *tool_args(services["deploy"], root), image, "init", "--server", "hub-server.lan",
                     "--mqtt-bind", "192.168.1.10", check=False, timeout=120)
    assert init.returncode == 0, init.stderr
    assert init.stdout.strip().startswith("hs_")  # the manager token, printed once
    secrets = root / "secrets"
    assert {p.stat().st_uid for p in [root / ".env", secrets, *secrets.glob("mosquitto/*")]} == {operator}
    assert (secrets / "collector" / "tokens.json").stat().st_uid == COLLECTOR_UID
    preflight = services["preflight"]
    check = pm.podman("run", *tool_args(preflight, root), image, check=False, timeout=120)
    assert check.returncode == 0 and "is ready for docker compose up" in check.stderr, check.stderr
    (root / ".env").chmod(0o644)
    check = pm.podman("run", *tool_args(preflight, root), image, check=False, timeout=120)
    assert check.returncode == 2 and "chmod 600 .env" in check.stderr, check.stderr


def test_without_podman_the_image_tests_fail_and_say_why(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pm.PodmanUnavailable, match=r"podman, debootstrap not installed: apt-get install -y podman"):
        pm.require_podman()
