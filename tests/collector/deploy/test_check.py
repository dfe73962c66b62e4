"""``hubsense deploy init --check``: each way a deployment folder goes wrong is named, with the file
and the fix, and the check changes nothing."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from collector.deploy.check import check_deployment
from collector.deploy.init import InitResult
from collector.deploy.layout import TLS_COMPOSE_FILE, Layout
from hubsense.cli import main
from tests.collector.deploy.test_init import snapshot
from tests.security.pki import make_test_pki


def set_env(root: Path, key: str, value: str) -> None:
    env = root / ".env"
    text = re.sub(rf"^{key}=.*$", f"{key}={value}", env.read_text(), flags=re.M)
    env.write_text(text)


def add_agent(root: Path) -> None:
    config = root / "firmware_config" / "stockholm.toml"
    config.write_text(config.read_text() + '\n[[agents]]\nid = "sthlm-pi-ny"\n[[agents.sensors]]\nid = "ny-pir"\n'
                      'kind = "pir"\npin = 22\nzone = "rastplatsen"\n')


BREAKAGES: dict[str, tuple[Callable[[Path], object], str]] = {
    "no .env": (lambda r: (r / ".env").unlink(), ".env is missing: run 'hubsense deploy init'"),
    "readable .env": (lambda r: (r / ".env").chmod(0o644), "chmod 600 .env"),
    "bad line": (lambda r: (r / ".env").write_text((r / ".env").read_text() + "oops\n"),
                 "not a KEY=VALUE line"),
    "placeholder": (lambda r: set_env(r, "HUBSENSE_INFLUX_PASSWORD", "change-me-influx"),
                    "HUBSENSE_INFLUX_PASSWORD: a placeholder or weak secret"),
    "empty secret": (lambda r: set_env(r, "INFLUXDB_ADMIN_TOKEN", ""), "INFLUXDB_ADMIN_TOKEN missing or empty"),
    "mqtt password": (lambda r: set_env(r, "HUBSENSE_MQTT_PASSWORD", "x" * 43),
                      "HUBSENSE_MQTT_PASSWORD is not the password of hubsense-collector in secrets/mosquitto/passwd"),
    "root collector": (lambda r: set_env(r, "HUBSENSE_UID", "0"), "must run as a non-root numeric id"),
    "bind": (lambda r: set_env(r, "MQTT_BIND", "eth0"), "MQTT_BIND='eth0' is not an IPv4 address"),
    "no tokens": (lambda r: (r / "secrets/collector/tokens.json").unlink(), "tokens.json is missing"),
    "token owner": (lambda r: os.chown(r / "secrets/collector/tokens.json", 0, 0), "owned by uid 0, but the "
                    "collector runs as uid"),
    "no manager": (lambda r: (r / "secrets/collector/tokens.json").write_text('{"tokens": []}'),
                   "no manager token"),
    "no passwd": (lambda r: (r / "secrets/mosquitto/passwd").unlink(), "secrets/mosquitto/passwd or "
                  "secrets/mosquitto/acl is missing"),
    "new agent": (add_agent, "agent(s) sthlm-pi-ny of hub stockholm have no broker user"),
    "config error": (lambda r: (r / "firmware_config" / "stockholm.toml").write_text("id = 'stockholm'\n"),
                     "stockholm.toml"),
    "half TLS": (lambda r: make_test_pki(r / "secrets/certs").ca_cert.unlink(),
                 "has server.crt, server.key but not ca.crt"),
    "TLS not published": (lambda r: make_test_pki(r / "secrets/certs"), f"COMPOSE_FILE lacks {TLS_COMPOSE_FILE}"),
    "TLS without certs": (lambda r: set_env(r, "COMPOSE_FILE", f"docker-compose.yml:{TLS_COMPOSE_FILE}"),
                          "published without a TLS listener"),
    "umask 077 clone": (lambda r: (r / "deploy" / "mosquitto" / "mosquitto.conf").chmod(0o600),
                        "deploy/mosquitto/mosquitto.conf: not readable by other users (mode 600)"),
    "private configs": (lambda r: (r / "firmware_config").chmod(0o700), "chmod -R a+rX firmware_config"),
    "not a checkout": (lambda r: shutil.rmtree(r / "deploy"), "mounts ./deploy/mosquitto, which does not exist"),
}


@pytest.mark.parametrize("name", BREAKAGES)
def test_each_problem_is_named(deployed: tuple[Path, InitResult], name: str,
                               capsys: pytest.CaptureFixture[str]) -> None:
    root, _ = deployed
    if name == "token owner" and os.geteuid() != 0:
        pytest.skip("needs root to chown")
    breakage, expected = BREAKAGES[name]
    breakage(root)
    before = snapshot(root)
    result = check_deployment(root)
    assert any(expected in e for e in result.errors), result.errors
    assert main(["deploy", "init", "--check", "--out", str(root)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "nothing was changed" in err
    assert snapshot(root) == before


def test_a_made_folder_passes_and_plain_mqtt_on_loopback_is_a_warning(deployed: tuple[Path, InitResult]) -> None:
    root, _ = deployed
    result = check_deployment(root)
    assert result.ok and result.warnings == []
    set_env(root, "MQTT_BIND", "127.0.0.1")
    result = check_deployment(root)
    assert result.ok and any("Raspberry Pis cannot reach the broker" in w for w in result.warnings)
    Layout(root)  # the layout names nothing outside the folder
