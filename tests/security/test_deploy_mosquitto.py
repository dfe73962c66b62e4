"""The compose deployment's broker set-up (deploy/mosquitto) with provisioned credentials and TLS,
run for real: make-passwd.sh with MOSQUITTO_ROOT pointing at a temporary tree, then Mosquitto with
deploy/mosquitto/mosquitto.conf (container paths and ports rewritten to the temporary tree)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubsense.config import Hub
from hubsense.provision import provision
from hubsense.services import _wait, free_port, tcp_open
from tests.security.mqtt import connect
from tests.security.pki import make_test_pki
from tests.security.test_provision import collector_login

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto"
pytestmark = pytest.mark.skipif(not (DEPLOY / "make-passwd.sh").exists(), reason="no deploy/mosquitto")


def run_make_passwd(root: Path, user: str, password: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MOSQUITTO_ROOT": str(root), "MQTT_COLLECTOR_USERNAME": user,
           "MQTT_COLLECTOR_PASSWORD": password}
    return subprocess.run(["sh", str(root / "config" / "make-passwd.sh")], env=env, capture_output=True,
                          text=True, timeout=30)


def deploy_tree(tmp_path: Path, hub: Hub, tls: bool) -> Path:
    root = tmp_path / "mosquitto"
    shutil.copytree(DEPLOY, root / "config")
    for d in ("auth", "data"):
        (root / d).mkdir()
    provision([hub], root / "provisioned")
    if tls:
        pki = make_test_pki(root / "provisioned" / "certs")
        assert pki.server_cert.name == "server.crt" and pki.ca_cert.name == "ca.crt"
    return root


def start_broker(root: Path, plain: int, secure: int) -> subprocess.Popen:
    conf = (root / "config" / "mosquitto.conf").read_text().replace("/mosquitto/", f"{root}/")
    conf = conf.replace("listener 1883", f"listener {plain} 127.0.0.1").replace("log_dest stdout", "")
    if os.geteuid() == 0:
        conf = "user root\n" + conf
    tls = root / "auth" / "conf.d" / "tls.conf"
    tls.write_text(tls.read_text().replace("listener 8883", f"listener {secure} 127.0.0.1"))
    (root / "test.conf").write_text(conf + f"\nlog_dest file {root / 'mosquitto.log'}\n")
    proc = subprocess.Popen(["mosquitto", "-c", str(root / "test.conf")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _wait(lambda: tcp_open(plain), 10, "mosquitto", proc, root / "mosquitto.log")
    return proc


@pytest.fixture
def tls_deploy(tmp_path: Path, stockholm: Hub) -> Iterator[tuple[Path, int, int]]:
    root = deploy_tree(tmp_path, stockholm, tls=True)
    user, password = collector_login(root / "provisioned")
    done = run_make_passwd(root, user, password)
    assert done.returncode == 0, done.stderr
    assert "TLS listener" in done.stdout
    plain, secure = free_port(), free_port()
    proc = start_broker(root, plain, secure)
    yield root, plain, secure
    proc.terminate()
    proc.wait(10)


def test_provisioned_users_and_tls_listener(tls_deploy: tuple[Path, int, int]) -> None:
    root, plain, secure = tls_deploy
    prov = root / "provisioned"
    collector = connect(plain, *collector_login(prov))
    assert not collector.connack.is_failure
    collector.subscribe("hubsense/stockholm/#")
    agent_conf = tomllib.loads((prov / "agents" / "stockholm" / "sthlm-pi-entre.toml").read_text())
    tls = {"ca_certs": str(prov / "certs" / "ca.crt")}
    agent = connect(secure, agent_conf["username"], agent_conf["password"], tls=tls)
    try:
        assert agent.connack is not None and not agent.connack.is_failure
        assert agent.publish("hubsense/stockholm/sthlm-pi-skog/event").value == 135
        assert not agent.publish("hubsense/stockholm/sthlm-pi-entre/event").is_failure
        collector.wait_for("hubsense/stockholm/sthlm-pi-entre/event")
        assert collector.topics() == ["hubsense/stockholm/sthlm-pi-entre/event"]
        wrong_ca = connect(secure, agent_conf["username"], agent_conf["password"],
                           tls={"ca_certs": str(prov / "certs" / "other-ca.crt")})
        assert wrong_ca.connack is None
        assert connect(plain).connack.is_failure  # anonymous
    finally:
        agent.close()
        collector.close()


def test_collector_user_must_match_the_provisioned_files(tmp_path: Path, stockholm: Hub) -> None:
    root = deploy_tree(tmp_path, stockholm, tls=False)
    done = run_make_passwd(root, "collector", "change-me-mqtt")
    assert done.returncode != 0
    assert "the collector's user collector is not in secrets/mosquitto/passwd" in done.stderr


def test_without_provisioned_files_it_says_to_run_deploy_init(tmp_path: Path) -> None:
    root = tmp_path / "mosquitto"
    shutil.copytree(DEPLOY, root / "config")
    (root / "auth").mkdir()
    done = run_make_passwd(root, "hubsense-collector", "a-long-random-password-123")
    assert done.returncode == 1 and "run 'hubsense deploy init'" in done.stderr
    assert not (root / "auth" / "passwd").exists()
