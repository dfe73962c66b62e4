"""docker-compose.yml, Dockerfile and deploy/ checked without a Docker engine.

The compose files are validated against the compose-spec schema (offline, vendored by
check-jsonschema); they must reference only what ``hubsense deploy init`` makes (files, .env
variables, one user name per service account); their HUBSENSE_* variables must be real Settings
fields; the broker set-up runs for real on the local mosquitto with a folder made by deploy init.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import yaml
from packaging.requirements import Requirement

from collector.deploy.envfile import read_env_file
from collector.deploy.init import init_deployment
from collector.deploy.layout import COLLECTOR_UID, INFLUX_COLLECTOR_USER, INFLUX_GRAFANA_USER, TLS_COMPOSE_FILE
from collector.deploy.spec import BY_NAME, SECRET_NAMES
from collector.settings import Settings
from hubsense.cli import build_parser
from hubsense.provision import COLLECTOR_USER
from hubsense.services import free_port, tcp_open
from tests.collector.deploy.conftest import make_checkout

REPO = Path(__file__).resolve().parent.parent
COMPOSE = REPO / "docker-compose.yml"
TLS_COMPOSE = REPO / TLS_COMPOSE_FILE
DEPLOY = REPO / "deploy"
_VAR = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")
OPTIONAL_VARS = {"MQTTS_BIND"}  # compose defaults them; deploy init does not write them


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def services() -> dict[str, dict]:
    return compose()["services"]


def env_of(service: str) -> dict[str, str]:
    return {k: str(v) for k, v in services()[service].get("environment", {}).items()}


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose-style ${VAR}, ${VAR:-default} against ``env`` (a .env)."""

    def sub(m: re.Match) -> str:
        name, spec = m.group(1), m.group(0)
        if env.get(name):
            return env[name]
        if ":-" in spec:
            return spec.split(":-", 1)[1][:-1]
        raise KeyError(f"{name} is required")

    return _VAR.sub(sub, value)


@pytest.mark.parametrize("path", [COMPOSE, TLS_COMPOSE], ids=lambda p: p.name)
def test_compose_files_match_the_compose_spec(path: Path) -> None:
    exe = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run([str(exe), "--builtin-schema", "vendor.compose-spec", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def deployment(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    root = make_checkout(tmp_path / "hubsense")
    init_deployment(root, server="hub-server.lan", mqtt_bind="192.168.1.10")
    return root, read_env_file(root / ".env")


def test_every_hubsense_variable_is_a_valid_setting(monkeypatch: pytest.MonkeyPatch,
                                                    deployment: tuple[Path, dict[str, str]]) -> None:
    _, dotenv = deployment
    env = env_of("collector")
    hubsense_vars = {k: v for k, v in env.items() if k.startswith("HUBSENSE_")}
    fields = set(Settings.model_fields)
    unknown = {k for k in hubsense_vars if k.removeprefix("HUBSENSE_").lower() not in fields}
    assert not unknown, f"not collector.settings.Settings fields: {unknown}"
    for key in [k for k in os.environ if k.startswith("HUBSENSE_")]:
        monkeypatch.delenv(key)
    for key, value in hubsense_vars.items():
        monkeypatch.setenv(key, interpolate(value, dotenv))
    settings = Settings()
    assert settings.store == "influxdb" and settings.influx_token is None
    assert settings.influx_username == INFLUX_COLLECTOR_USER and settings.influx_password == dotenv[
        "HUBSENSE_INFLUX_PASSWORD"]
    assert settings.config_paths == [Path("/etc/hubsense")]
    assert settings.influx_create is False and settings.production is True
    from collector.auth import production_problems

    problems = production_problems(settings)  # only the token file is missing here (it is mounted)
    assert len(problems) == 1 and "no manager token" in problems[0]


def test_secrets_come_from_dotenv_only() -> None:
    """No secret in the compose files: every password/token is a ${VAR:-} of a variable deploy init generates."""
    for name, service in services().items():
        for key, value in service.get("environment", {}).items():
            if re.search(r"PASSWORD|TOKEN|SECRET", key) and not key.endswith("_PATH"):
                m = re.fullmatch(r"\$\{(\w+):-\}", str(value))
                assert m and m.group(1) in SECRET_NAMES, f"{name}.{key}={value}"


def test_compose_uses_only_what_deploy_init_makes(deployment: tuple[Path, dict[str, str]]) -> None:
    root, dotenv = deployment
    files = dotenv["COMPOSE_FILE"].split(":")
    assert files == ["docker-compose.yml"]
    for path in (COMPOSE, TLS_COMPOSE):
        text = path.read_text()
        used = {m.group(1) for m in _VAR.finditer(text)}
        assert used - OPTIONAL_VARS <= set(BY_NAME), used - OPTIONAL_VARS - set(BY_NAME)
        assert used - OPTIONAL_VARS <= set(dotenv)
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source = volume["source"] if isinstance(volume, dict) else volume.split(":")[0]
            if source.startswith("."):
                assert (root / source).exists(), f"{name} mounts {source}, which deploy init did not make"
            if isinstance(volume, dict) and volume["source"].startswith("./secrets"):
                assert volume["bind"]["create_host_path"] is False  # never an empty root-owned ./secrets


def test_one_user_name_per_account_everywhere() -> None:
    svc = services()
    assert env_of("collector")["HUBSENSE_MQTT_USERNAME"] == COLLECTOR_USER
    assert env_of("mosquitto-auth")["MQTT_COLLECTOR_USERNAME"] == COLLECTOR_USER
    assert "MQTT_HEALTH_PASSWORD" not in env_of("mosquitto")  # the health check logs in as no one
    assert env_of("collector")["HUBSENSE_INFLUX_USERNAME"] == INFLUX_COLLECTOR_USER
    assert env_of("influxdb-init")["HUBSENSE_INFLUX_USERNAME"] == INFLUX_COLLECTOR_USER
    assert env_of("influxdb-init")["HUBSENSE_INFLUX_PASSWORD"] == env_of("collector")["HUBSENSE_INFLUX_PASSWORD"]
    assert env_of("influxdb-init")["GRAFANA_INFLUX_USERNAME"] == env_of("grafana")["GRAFANA_INFLUX_USERNAME"]
    assert env_of("grafana")["GRAFANA_INFLUX_USERNAME"] == INFLUX_GRAFANA_USER
    assert "HUBSENSE_INFLUX_TOKEN" not in env_of("collector")  # never the admin token
    assert "INFLUXDB_ADMIN_TOKEN" not in str(svc["collector"]) + str(svc["grafana"])
    for db in ("HUBSENSE_INFLUX_DATABASE", "HUBSENSE_INFLUX_RAW_RP"):
        assert env_of("influxdb-init")[db] == env_of("collector")[db]


def test_plain_mqtt_is_bound_to_one_address_and_tls_published_only_with_certificates() -> None:
    assert services()["mosquitto"]["ports"] == ["${MQTT_BIND:-127.0.0.1}:${MQTT_PORT:-1883}:1883"]
    assert not any("8883" in str(p) for svc in services().values() for p in svc.get("ports", []))
    tls = yaml.safe_load(TLS_COMPOSE.read_text())["services"]
    assert tls["mosquitto"]["ports"] == ["${MQTTS_BIND:-0.0.0.0}:${MQTTS_PORT:-8883}:8883"]
    [certs] = tls["mosquitto-auth"]["volumes"]
    assert certs["source"] == "./secrets/certs" and certs["target"] == "/mosquitto/provisioned/certs"
    for name in ("collector", "grafana"):
        assert all(p.startswith("${") for p in services()[name]["ports"])


def _after(name: str, svc: dict) -> set[str]:
    deps = set(svc[name].get("depends_on", {}))
    return deps.union(*(_after(d, svc) for d in deps))


def test_preflight_and_health_checks_gate_the_dependants() -> None:
    svc = services()
    for name, service in svc.items():
        if name in ("preflight", "deploy"):
            continue
        assert "preflight" in _after(name, svc), f"{name} may start before the preflight check"
        for dep, rule in service.get("depends_on", {}).items():
            if rule["condition"] == "service_healthy":
                assert svc[dep]["healthcheck"]["test"], dep
            else:
                assert rule["condition"] == "service_completed_successfully" and svc[dep]["restart"] == "no"
    assert svc["collector"]["depends_on"]["mosquitto"]["condition"] == "service_healthy"
    assert svc["influxdb-init"]["depends_on"]["influxdb"]["condition"] == "service_healthy"
    assert svc["collector"]["depends_on"]["influxdb-init"]["condition"] == "service_completed_successfully"
    for name in ("mosquitto", "influxdb", "collector", "grafana"):
        assert svc[name]["restart"] == "unless-stopped" and svc[name]["healthcheck"]["test"]
    for volume in ("mosquitto-data", "influxdb-data", "collector-data"):
        assert volume in compose()["volumes"]


def test_preflight_and_deploy_run_deploy_init_from_the_image() -> None:
    svc = services()
    pre = svc["preflight"]
    args = build_parser().parse_args(pre["entrypoint"][1:])
    assert (args.command, args.deploy_command, args.check, str(args.out)) == ("deploy", "init", True, "/deploy")
    assert pre["volumes"] == [".:/deploy:ro"] and pre["read_only"] and pre["network_mode"] == "none"
    assert pre["cap_drop"] == ["ALL"] and pre["cap_add"] == ["DAC_READ_SEARCH"]
    tool = svc["deploy"]
    args = build_parser().parse_args([*tool["entrypoint"][1:], "init", "--server", "hub"])
    assert args.deploy_command == "init" and tool["working_dir"] == "/deploy" and tool["profiles"] == ["tools"]
    assert tool["volumes"] == [".:/deploy"] and "depends_on" not in tool
    for name in ("preflight", "deploy", "collector"):
        assert svc[name]["image"] == svc["collector"]["image"] and svc[name]["build"] == "."


def test_collector_runs_as_the_deploy_init_user() -> None:
    collector = services()["collector"]
    assert collector["user"] == "${HUBSENSE_UID:-10001}:${HUBSENSE_GID:-10001}"
    assert collector["group_add"] == [str(COLLECTOR_UID)]
    mounts = {v["target"] if isinstance(v, dict) else v.split(":")[1]: v for v in collector["volumes"]}
    assert mounts["/run/hubsense"]["source"] == "./secrets/collector"
    assert env_of("collector")["HUBSENSE_TOKENS_PATH"] == "/run/hubsense/tokens.json"
    text = (REPO / "Dockerfile").read_text()
    assert f"--uid {COLLECTOR_UID} --gid {COLLECTOR_UID}" in text and f"--gid {COLLECTOR_UID} hubsense" in text


def test_images_are_pinned() -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    for path in (COMPOSE, TLS_COMPOSE):
        for image in re.findall(r"^\s*image:\s*(\S+)", path.read_text(), re.M):
            name, _, tag = image.rpartition(":")
            assert re.fullmatch(r"\d+\.\d+\.\d+", tag), f"{image}: not an exact version"
            if name == "hubsense-collector":
                assert tag == version
    [base] = re.findall(r"^FROM (\S+)$", (REPO / "Dockerfile").read_text(), re.M)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", base)


def test_dockerfile_installs_pinned_dependencies_and_runs_a_real_command() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert "COPY deploy/collector-constraints.txt ./" in text
    assert "pip install -r collector-constraints.txt" in text
    assert 'pip install -c collector-constraints.txt ".[collector]"' in text
    pins = {}
    for line in (DEPLOY / "collector-constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            req = Requirement(line)
            [spec] = req.specifier
            assert spec.operator == "==", line
            pins[req.name.lower().replace("_", "-")] = spec.version
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    for line in [*project["dependencies"], *project["optional-dependencies"]["collector"]]:
        req = Requirement(line)
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{name} not in deploy/collector-constraints.txt: run scripts/lock-collector-deps"
        assert req.specifier.contains(pins[name]), f"{name}=={pins[name]} does not satisfy {req}"
    health = re.search(r"^HEALTHCHECK .*\\\n\s+CMD (\[.*\])$", text, re.M)
    assert health and ["CMD", *yaml.safe_load(health.group(1))] == services()["collector"]["healthcheck"]["test"]
    cmd = re.search(r"^CMD (\[.*\])$", text, re.M)
    assert cmd
    argv = yaml.safe_load(cmd.group(1))
    assert argv[0] == "hubsense" and build_parser().parse_args(argv[1:]).command == "collector"
    for path in re.findall(r"^COPY (\S+) ", text, re.M):
        assert (REPO / path).exists(), path
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    assert ignored[ignored.index("*") if "*" in ignored else 0] == "*"  # secrets never reach the builder


# --- the deploy Mosquitto config with a folder made by deploy init, run for real -------------


@pytest.fixture
def deployed_broker(deployment: tuple[Path, dict[str, str]], tmp_path: Path) -> Iterator[tuple[int, dict]]:
    """deploy/mosquitto as the mosquitto containers see it (secrets/mosquitto mounted), on a free port."""
    root, dotenv = deployment
    tree = tmp_path / "mosquitto"
    shutil.copytree(DEPLOY / "mosquitto", tree / "config")
    (tree / "provisioned").mkdir(parents=True)
    (tree / "provisioned" / "mosquitto").symlink_to(root / "secrets" / "mosquitto")
    env = {k: interpolate(v, dotenv) for k, v in {**env_of("mosquitto-auth"), **env_of("mosquitto")}.items()}
    done = subprocess.run(["sh", str(tree / "config" / "make-passwd.sh")], capture_output=True, text=True,
                          env={**os.environ, **env, "MOSQUITTO_ROOT": str(tree)})
    assert done.returncode == 0, done.stderr
    (tree / "data").mkdir()
    port = free_port()
    conf = (tree / "config" / "mosquitto.conf").read_text().replace("/mosquitto/", f"{tree}/")
    conf = conf.replace("listener 1883", f"listener {port} 127.0.0.1")
    if os.geteuid() == 0:
        conf = "user root\n" + conf
    (tree / "run.conf").write_text(conf)
    proc = subprocess.Popen(["mosquitto", "-c", str(tree / "run.conf")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while not tcp_open(port):
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "mosquitto did not start"
        time.sleep(0.05)
    yield port, {**env, "root": root, "collector_password": dotenv["HUBSENSE_MQTT_PASSWORD"]}
    proc.terminate()
    proc.wait(5)


def test_compose_health_check_passes_against_the_deploy_config(deployed_broker) -> None:
    port, _env = deployed_broker
    cmd = services()["mosquitto"]["healthcheck"]["test"][1].replace("$$", "$")
    assert subprocess.run(["sh", "-c", cmd.replace("-p 1883", f"-p {port}")], timeout=10).returncode == 0
    down = free_port()  # nothing listens there
    assert subprocess.run(["sh", "-c", cmd.replace("-p 1883", f"-p {down}")], timeout=10).returncode != 0
    assert "-u " not in cmd and "-P " not in cmd  # logged in as the collector it would kick the collector


def test_deploy_broker_config_binds_client_ids_on_every_listener(deployed_broker, tmp_path: Path) -> None:
    """Every listener of the deploy config (1883, and the TLS listener make-passwd.sh writes) has
    use_username_as_clientid, and the packet size limit is set (issue 19)."""
    from hubsense.provision import broker_conf_problems

    tree = tmp_path / "mosquitto"
    text = (tree / "run.conf").read_text() + (tree / "auth" / "conf.d" / "tls.conf").read_text()
    assert broker_conf_problems(text) == []
    script = (DEPLOY / "mosquitto" / "make-passwd.sh").read_text()  # the TLS listener it writes
    assert 'echo "listener 8883"\n        echo "use_username_as_clientid true"' in script


def test_anonymous_clients_are_refused(deployed_broker) -> None:
    port, _ = deployed_broker
    result = subprocess.run(["mosquitto_pub", "-p", str(port), "-t", "hubsense/stockholm/x/event", "-m", "x"],
                            capture_output=True, text=True, timeout=10)
    assert result.returncode != 0
    assert "not authori" in result.stderr.lower()


def test_agents_publish_only_under_their_own_id(deployed_broker) -> None:
    port, env = deployed_broker
    agent = tomllib.loads((env["root"] / "secrets/agents/stockholm/sthlm-pi-entre.toml").read_text())
    received: list[str] = []
    subscribed, done = threading.Event(), threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=COLLECTOR_USER)
    client.username_pw_set(COLLECTOR_USER, env["collector_password"])
    client.on_subscribe = lambda *a: subscribed.set()

    def on_message(_c, _u, msg) -> None:
        received.append(msg.topic)
        if msg.payload == b"last":
            done.set()

    client.on_message = on_message
    client.on_connect = lambda c, *a: c.subscribe("hubsense/#", qos=1)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        assert subscribed.wait(5)
        for topic, payload in [("hubsense/stockholm/sthlm-pi-skog/event", "spoofed"),
                               ("hubsense/stockholm/sthlm-pi-entre/event", "last")]:
            cmd = (f"mosquitto_pub -p {port} -u {agent['username']} -P {agent['password']} -q 1 -t {topic} "
                   f"-m {payload}")
            subprocess.run(shlex.split(cmd), check=True, timeout=10)
        assert done.wait(5)
    finally:
        client.disconnect()
        client.loop_stop()
    assert received == ["hubsense/stockholm/sthlm-pi-entre/event"]


def test_broker_setup_without_deploy_init_says_so(tmp_path: Path) -> None:
    tree = tmp_path / "mosquitto"
    shutil.copytree(DEPLOY / "mosquitto", tree / "config")
    done = subprocess.run(["sh", str(tree / "config" / "make-passwd.sh")], capture_output=True, text=True,
                          env={**os.environ, "MOSQUITTO_ROOT": str(tree)})
    assert done.returncode == 1 and "run 'hubsense deploy init'" in done.stderr
