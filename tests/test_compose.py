"""docker-compose.yml, Dockerfile and deploy/ checked without a Docker engine.

The compose file is validated against the compose-spec schema (offline, vendored by
check-jsonschema); its HUBSENSE_* variables must be real Settings fields with valid
values; the Mosquitto config and auth script run for real on the local mosquitto.
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
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import yaml

from collector.settings import Settings
from hubsense.cli import build_parser
from hubsense.services import free_port, tcp_open

REPO = Path(__file__).resolve().parent.parent
COMPOSE = REPO / "docker-compose.yml"
DEPLOY = REPO / "deploy"
_VAR = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def env_of(service: str) -> dict[str, str]:
    return {k: str(v) for k, v in compose()["services"][service]["environment"].items()}


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose-style ${VAR}, ${VAR:-default}, ${VAR:?error} against ``env`` (test values)."""

    def sub(m: re.Match) -> str:
        name, spec = m.group(1), m.group(0)
        if name in env:
            return env[name]
        if ":-" in spec:
            return spec.split(":-", 1)[1][:-1]
        raise KeyError(f"{name} is required")

    return _VAR.sub(sub, value)


def test_compose_file_matches_the_compose_spec() -> None:
    exe = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(exe), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_hubsense_variable_is_a_valid_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    env = env_of("collector")
    hubsense_vars = {k: v for k, v in env.items() if k.startswith("HUBSENSE_")}
    fields = set(Settings.model_fields)
    unknown = {k for k in hubsense_vars if k.removeprefix("HUBSENSE_").lower() not in fields}
    assert not unknown, f"not collector.settings.Settings fields: {unknown}"
    secrets = {"HUBSENSE_MQTT_PASSWORD": "pw", "INFLUXDB_TOKEN": "tok"}
    for key in [k for k in os.environ if k.startswith("HUBSENSE_")]:
        monkeypatch.delenv(key)
    for key, value in hubsense_vars.items():
        monkeypatch.setenv(key, interpolate(value, secrets))
    settings = Settings()
    assert settings.store == "influxdb"
    assert settings.influx_token == "tok"
    assert settings.config_paths == [Path("/etc/hubsense")]
    assert settings.influx_create is False


def test_secrets_come_from_the_environment_only() -> None:
    for name, service in compose()["services"].items():
        for key, value in service.get("environment", {}).items():
            if re.search(r"PASSWORD|TOKEN|SECRET", key):
                assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", str(value)), f"{name}.{key} is hard-coded"
    example = (DEPLOY / "env.example").read_text()
    values = [str(v) for svc in compose()["services"].values() for v in svc.get("environment", {}).values()]
    required = {m.group(1) for v in values for m in re.finditer(r"\$\{(\w+):\?", v)}
    assert required
    assert required <= set(re.findall(r"^(\w+)=", example, re.M)), "env.example lacks a required variable"


def test_every_service_restarts_and_long_running_ones_have_health_checks() -> None:
    services = compose()["services"]
    for name in ("mosquitto", "influxdb", "collector"):
        assert services[name]["restart"] == "unless-stopped"
        assert services[name]["healthcheck"]["test"]
    assert services["collector"]["depends_on"]["influxdb"]["condition"] == "service_healthy"
    for volume in ("mosquitto-data", "influxdb-data", "collector-data"):
        assert volume in compose()["volumes"]


def test_dockerfile_installs_the_collector_and_runs_a_real_command() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    assert 'pip install ".[collector]"' in text
    cmd = re.search(r"^CMD (\[.*\])$", text, re.M)
    assert cmd
    argv = yaml.safe_load(cmd.group(1))
    assert argv[0] == "hubsense"
    args = build_parser().parse_args(argv[1:])
    assert args.command == "collector"
    for path in re.findall(r"^COPY (\S+) ", text, re.M):
        assert (REPO / path).exists(), path


def test_influx_init_script_is_valid_bash() -> None:
    script = DEPLOY / "influxdb" / "init" / "10-hubsense-buckets.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    influx_env = env_of("influxdb")
    assert influx_env["HUBSENSE_INFLUX_RAW_RP"] == env_of("collector")["HUBSENSE_INFLUX_RAW_RP"]
    assert influx_env["HUBSENSE_INFLUX_DATABASE"] == env_of("collector")["HUBSENSE_INFLUX_DATABASE"]


# --- the deploy Mosquitto config, run for real ------------------------------------------------


@pytest.fixture
def deployed_broker(tmp_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """deploy/mosquitto as the container sees it, rooted at tmp_path, on a free port."""
    root = tmp_path / "mosquitto"
    shutil.copytree(DEPLOY / "mosquitto", root / "config")
    (root / "auth").mkdir()
    (root / "data").mkdir()
    agent_hash = tmp_path / "agent.passwd"
    agent_hash.write_text("")
    subprocess.run(["mosquitto_passwd", "-b", str(agent_hash), "pi-1", "agent-secret"], check=True)
    (root / "config" / "agents.passwd").write_text("# provisioned agents\n" + agent_hash.read_text())
    env = {"MQTT_COLLECTOR_USERNAME": "collector", "MQTT_COLLECTOR_PASSWORD": "s3cret pass",
           "MQTT_HEALTH_USERNAME": "collector", "MQTT_HEALTH_PASSWORD": "s3cret pass"}
    subprocess.run(["sh", str(root / "config" / "make-passwd.sh")], check=True, capture_output=True,
                   env={**os.environ, **env, "MOSQUITTO_ROOT": str(root)})
    port = free_port()
    conf = (root / "config" / "mosquitto.conf").read_text().replace("/mosquitto/", f"{root}/")
    conf = conf.replace("listener 1883", f"listener {port} 127.0.0.1")
    if os.geteuid() == 0:
        conf = "user root\n" + conf
    (root / "run.conf").write_text(conf)
    proc = subprocess.Popen(["mosquitto", "-c", str(root / "run.conf")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while not tcp_open(port):
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "mosquitto did not start"
        time.sleep(0.05)
    yield port, env
    proc.terminate()
    proc.wait(5)


def test_compose_health_check_passes_against_the_deploy_config(deployed_broker) -> None:
    port, env = deployed_broker
    cmd = compose()["services"]["mosquitto"]["healthcheck"]["test"][1].replace("$$", "$")
    cmd = cmd.replace("-p 1883", f"-p {port}")
    assert subprocess.run(["sh", "-c", cmd], env={**os.environ, **env}, timeout=10).returncode == 0
    bad = {**env, "MQTT_HEALTH_PASSWORD": "wrong"}
    assert subprocess.run(["sh", "-c", cmd], env={**os.environ, **bad}, timeout=10).returncode != 0


def test_anonymous_clients_are_refused(deployed_broker) -> None:
    port, _ = deployed_broker
    result = subprocess.run(["mosquitto_pub", "-p", str(port), "-t", "hubsense/hq/pi-1/event", "-m", "x"],
                            capture_output=True, text=True, timeout=10)
    assert result.returncode != 0
    assert "not authori" in result.stderr.lower()


def test_agents_publish_only_under_their_own_id(deployed_broker) -> None:
    port, env = deployed_broker
    received: list[str] = []
    subscribed, done = threading.Event(), threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="compose-test")
    client.username_pw_set(env["MQTT_COLLECTOR_USERNAME"], env["MQTT_COLLECTOR_PASSWORD"])
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
        for topic, payload in [("hubsense/hq/pi-2/event", "spoofed"), ("hubsense/hq/pi-1/event", "last")]:
            cmd = f"mosquitto_pub -p {port} -u pi-1 -P agent-secret -q 1 -t {topic} -m {payload}"
            subprocess.run(shlex.split(cmd), check=True, timeout=10)
        assert done.wait(5)
    finally:
        client.disconnect()
        client.loop_stop()
    assert received == ["hubsense/hq/pi-1/event"]
