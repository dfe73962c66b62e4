"""``hubsense provision`` against a real Mosquitto: password file, ACL, per-agent credentials."""

from __future__ import annotations

import json
import signal
import stat
import time
import tomllib
from pathlib import Path

import pytest

from edge.settings import AgentSettings
from hubsense.cli import main
from hubsense.config import Hub
from hubsense.provision import MONITOR_USER, ProvisionError, agent_user, mosquitto_hash, provision
from hubsense.services import Mosquitto
from tests.security.conftest import secured_broker
from tests.security.mqtt import connect
from tests.support import collector_settings, running_collector

NOT_AUTHORIZED = 135


def passwords(creds: Path) -> dict[str, str]:
    users = json.loads((creds / "credentials.json").read_text())["users"]
    return {name: u["password"] for name, u in users.items()}


def agent_login(creds: Path, hub: str, agent: str) -> tuple[str, str]:
    data = tomllib.loads((creds / "agents" / hub / f"{agent}.toml").read_text())
    return data["username"], data["password"]


def collector_login(creds: Path) -> tuple[str, str]:
    env = dict(line.split("=", 1) for line in (creds / "collector.env").read_text().splitlines()
               if line and not line.startswith("#"))
    return env["HUBSENSE_MQTT_USERNAME"], env["HUBSENSE_MQTT_PASSWORD"]


def test_anonymous_client_is_refused(secure_broker: Mosquitto) -> None:
    probe = connect(secure_broker.port)
    assert probe.connack is not None and probe.connack.is_failure


def test_wrong_password_is_refused(secure_broker: Mosquitto, creds: Path) -> None:
    user, password = agent_login(creds, "stockholm", "sthlm-pi-entre")
    probe = connect(secure_broker.port, user, password[:-1] + ("A" if password[-1] != "A" else "B"))
    assert probe.connack is not None and probe.connack.is_failure
    stranger = connect(secure_broker.port, "nobody", password)
    assert stranger.connack is not None and stranger.connack.is_failure


def test_agent_cannot_publish_as_another_agent(secure_broker: Mosquitto, creds: Path) -> None:
    collector = connect(secure_broker.port, *collector_login(creds))
    assert not collector.connack.is_failure
    collector.subscribe("hubsense/stockholm/#")
    entre = connect(secure_broker.port, *agent_login(creds, "stockholm", "sthlm-pi-entre"))
    assert not entre.connack.is_failure
    try:
        forged = entre.publish("hubsense/stockholm/sthlm-pi-skog/event")
        other_hub = entre.publish("hubsense/ostersund/ost-pi-entre/event")
        own = entre.publish("hubsense/stockholm/sthlm-pi-entre/event")
        assert forged.value == NOT_AUTHORIZED
        assert other_hub.value == NOT_AUTHORIZED
        assert not own.is_failure
        collector.wait_for("hubsense/stockholm/sthlm-pi-entre/event")  # same publisher: in order
        assert collector.topics() == ["hubsense/stockholm/sthlm-pi-entre/event"]
    finally:
        entre.close()
        collector.close()


def test_agents_read_nothing_and_collector_writes_no_agent_topic(secure_broker: Mosquitto, creds: Path) -> None:
    spy = connect(secure_broker.port, *agent_login(creds, "stockholm", "sthlm-pi-rum"))
    spy.subscribe("hubsense/#")
    collector = connect(secure_broker.port, *collector_login(creds))
    collector.subscribe("hubsense/stockholm/#")
    desk = connect(secure_broker.port, *agent_login(creds, "stockholm", "sthlm-pi-desk"))
    try:
        assert collector.publish("hubsense/stockholm/sthlm-pi-desk/event").value == NOT_AUTHORIZED
        assert not collector.publish("hubsense/stockholm/_collector/state").is_failure
        assert not collector.publish("homeassistant/binary_sensor/hubsense/config").is_failure
        assert desk.publish("homeassistant/binary_sensor/hubsense/config").value == NOT_AUTHORIZED
        assert not desk.publish("hubsense/stockholm/sthlm-pi-desk/heartbeat").is_failure
        collector.wait_for("hubsense/stockholm/sthlm-pi-desk/heartbeat")
        time.sleep(0.1)  # the broker delivers to both subscribers in the same pass; give the spy a moment
        assert spy.topics() == []
        assert "hubsense/stockholm/sthlm-pi-desk/event" not in collector.topics()
    finally:
        for p in (spy, collector, desk):
            p.close()


def test_files_are_private_and_agent_files_are_agent_settings(creds: Path) -> None:
    files = [p for p in creds.rglob("*") if p.is_file()]
    assert len(files) >= 12
    for path in [creds, *creds.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path
    data = tomllib.loads((creds / "agents" / "stockholm" / "sthlm-pi-entre.toml").read_text())
    settings = AgentSettings(**data)
    assert settings.username == agent_user("stockholm", "sthlm-pi-entre")
    assert len(set(passwords(creds).values())) == len(passwords(creds))


def test_hash_is_mosquittos_pbkdf2_format() -> None:
    fixed = mosquitto_hash("secret", salt=bytes(range(12)), iterations=101)
    assert fixed.startswith("$7$101$AAECAwQFBgcICQoL$")
    assert mosquitto_hash("secret") != mosquitto_hash("secret")  # fresh salt each time


def test_rerun_keeps_passwords_and_rotate_changes_only_the_named_user(
        tmp_path: Path, stockholm: Hub) -> None:
    out = tmp_path / "creds"
    first = provision([stockholm], out)
    assert set(first.values()) == {"new"}
    before = passwords(out)
    assert set(provision([stockholm], out).values()) == {"kept"}
    assert passwords(out) == before
    user = agent_user("stockholm", "sthlm-pi-skog")
    report = provision([stockholm], out, rotate=[user])
    after = passwords(out)
    assert report[user] == "rotated" and after[user] != before[user]
    assert {k: v for k, v in after.items() if k != user} == {k: v for k, v in before.items() if k != user}
    assert set(provision([stockholm], out, rotate=[]).values()) == {"rotated"}
    with pytest.raises(ProvisionError, match="unknown user"):
        provision([stockholm], out, rotate=["stockholm.nope"])


def test_rotated_password_takes_effect_on_broker_reload(tmp_path: Path, stockholm: Hub) -> None:
    out = tmp_path / "creds"
    provision([stockholm], out)
    broker = secured_broker(tmp_path / "mosquitto", out).start()
    try:
        old = agent_login(out, "stockholm", "sthlm-pi-entre")
        first = connect(broker.port, *old)
        assert not first.connack.is_failure
        first.close()
        provision([stockholm], out, rotate=[old[0]])
        new = agent_login(out, "stockholm", "sthlm-pi-entre")
        broker.proc.send_signal(signal.SIGHUP)  # Mosquitto re-reads password and ACL files
        deadline = time.monotonic() + 5
        while (p := connect(broker.port, *old)).connack is not None and not p.connack.is_failure:
            p.close()
            assert time.monotonic() < deadline, "old password still accepted after SIGHUP"
            time.sleep(0.05)
        accepted = connect(broker.port, *new)
        assert not accepted.connack.is_failure
        accepted.close()
    finally:
        broker.stop()


def test_removed_agent_loses_its_files(tmp_path: Path, stockholm: Hub) -> None:
    out = tmp_path / "creds"
    provision([stockholm], out)
    smaller = stockholm.model_copy(update={"agents": stockholm.agents[:1]})
    report = provision([smaller], out)
    gone = agent_user("stockholm", stockholm.agents[1].id)
    assert report[gone] == "removed"
    assert not (out / "agents" / "stockholm" / f"{stockholm.agents[1].id}.toml").exists()
    assert not (out / "agents" / "stockholm" / f"{stockholm.agents[1].id}.env").exists()
    assert (out / "agents" / "stockholm" / f"{stockholm.agents[0].id}.env").exists()
    assert gone not in (out / "mosquitto" / "passwd").read_text()


def test_refuses_output_inside_the_repository(tmp_path: Path, stockholm: Hub) -> None:
    repo_dir = Path(__file__).resolve().parents[2] / "var" / "provision-test"
    with pytest.raises(ProvisionError, match="git work tree"):
        provision([stockholm], repo_dir)
    assert not repo_dir.exists()


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    assert main(["provision", "stockholm", "ostersund", "--out", str(out), "--broker", "mqtt.hub:8883",
                 "--tls-ca", "/etc/hubsense/ca.crt"]) == 0
    assert "new      ostersund.ost-pi-desk" in capsys.readouterr().out
    data = tomllib.loads((out / "agents" / "ostersund" / "ost-pi-desk.toml").read_text())
    assert (data["broker_host"], data["broker_port"], data["ca_file"]) == ("mqtt.hub", 8883, "/etc/hubsense/ca.crt")
    env = (out / "agents" / "ostersund" / "ost-pi-desk.env").read_text()
    assert "HUBSENSE_BROKER=mqtt.hub:8883\n" in env and f"HUBSENSE_MQTT_PASSWORD={data['password']}\n" in env
    assert main(["provision", "atlantis", "--out", str(out)]) == 2
    assert "unknown hub" in capsys.readouterr().err
    assert main(["provision", "stockholm", "--out", str(out), "--broker", "mqtt.hub"]) == 2
    assert "HOST:PORT" in capsys.readouterr().err


def test_real_collector_publishes_home_assistant_discovery_within_its_acl(
        secure_broker: Mosquitto, creds: Path, tmp_path: Path) -> None:
    """Home Assistant reads with the read-only monitor user (the collector's own user would take over
    the collector's connection: a client id is its user name)."""
    user, password = collector_login(creds)
    watcher = connect(secure_broker.port, MONITOR_USER, passwords(creds)[MONITOR_USER])
    watcher.subscribe("homeassistant/#")
    settings = collector_settings(secure_broker, tmp_path, mqtt_username=user, mqtt_password=password,
                                  homeassistant_discovery=True, tokens_path=tmp_path / "tokens.json")
    try:
        with running_collector(settings) as running:
            assert running.collector.ingest.connected.is_set()
            watcher.wait_for("homeassistant/binary_sensor/hubsense_stockholm_lagerelden/config")
            watcher.wait_for("homeassistant/hubsense/status")
    finally:
        watcher.close()
