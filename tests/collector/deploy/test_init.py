"""``hubsense deploy init``: a complete folder on the first run, nothing changed on the second,
existing secrets kept, placeholders replaced, --rotate, owners and modes (as root and as a user)."""

from __future__ import annotations

import json
import os
import pickle
import stat
import tempfile
import tomllib
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.auth import Role, TokenStore, create_token, read_records
from collector.deploy.check import check_deployment
from collector.deploy.envfile import read_env_file
from collector.deploy.init import DeployError, InitResult, init_deployment
from collector.deploy.layout import COLLECTOR_UID, TLS_COMPOSE_FILE, Layout
from collector.deploy.spec import VARS
from hubsense.cli import main
from hubsense.config import load_hubs
from hubsense.provision import COLLECTOR_USER, agent_user, read_passwd, verify_mosquitto_hash
from tests.collector.deploy.conftest import make_checkout
from tests.security.pki import make_test_pki

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give files away (CI runs as root)")


def snapshot(root: Path) -> dict[str, tuple]:
    """Content, mode, owner and mtime of everything under ``root``."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        body = path.read_bytes() if path.is_file() else b""
        out[str(path.relative_to(root))] = (body, st.st_mode, st.st_uid, st.st_gid, st.st_mtime_ns)
    return out


def test_first_run_makes_a_complete_folder(deployed: tuple[Path, InitResult]) -> None:
    root, result = deployed
    layout = Layout(root)
    env = read_env_file(layout.env)
    assert {v.name for v in VARS} <= set(env) and all(env[v.name] for v in VARS)
    assert env["HUBSENSE_SERVER"] == "hub-server.lan" and env["MQTT_BIND"] == "192.168.1.10"
    assert env["COMPOSE_FILE"] == "docker-compose.yml"
    secrets = [env[v.name] for v in VARS if v.generated]
    assert len(set(secrets)) == len(secrets) and all(len(s) >= 43 for s in secrets)
    # broker users for every agent of every hub, and the .env password is the collector's
    hashes = read_passwd(layout.passwd)
    for hub in load_hubs([root / "firmware_config"]).values():
        assert all(agent_user(hub.id, a.id) in hashes for a in hub.agents)
    assert verify_mosquitto_hash(env["HUBSENSE_MQTT_PASSWORD"], hashes[COLLECTOR_USER])
    agent = tomllib.loads((layout.secrets / "agents" / "stockholm" / "sthlm-pi-entre.toml").read_text())
    assert (agent["broker_host"], agent["broker_port"]) == ("hub-server.lan", 1883)
    # the manager token printed once is a working manager token
    assert result.manager_token and TokenStore(layout.tokens).verify(result.manager_token) is Role.MANAGER
    assert stat.S_IMODE(layout.env.stat().st_mode) == 0o600
    assert stat.S_IMODE(layout.secrets.stat().st_mode) == 0o700
    assert stat.S_IMODE(layout.tokens.stat().st_mode) == 0o600
    assert check_deployment(root).errors == []


@as_root
def test_owners_as_root(deployed: tuple[Path, InitResult]) -> None:
    """As root (e.g. from the image): secrets/collector goes to the image's user, the rest stays the folder's."""
    root, _ = deployed
    layout = Layout(root)
    env = read_env_file(layout.env)
    assert (env["HUBSENSE_UID"], env["HUBSENSE_GID"]) == (str(COLLECTOR_UID), str(COLLECTOR_UID))
    for path in (layout.collector_dir, layout.tokens):
        assert (path.stat().st_uid, path.stat().st_gid) == (COLLECTOR_UID, COLLECTOR_UID)
    assert layout.passwd.stat().st_uid == root.stat().st_uid


def test_second_run_changes_nothing(deployed: tuple[Path, InitResult]) -> None:
    root, _ = deployed
    before = snapshot(root)
    again = init_deployment(root)
    assert again.manager_token is None  # printed once only
    assert snapshot(root) == before


def test_existing_values_are_kept_and_placeholders_replaced(checkout: Path) -> None:
    strong = "kept-Fq8vZ2-mW7tLr4xK9pQe3yHb"  # an operator's own strong secret (collector.auth.weak_secret)
    (checkout / ".env").write_text(
        "# written by hand\nHUBSENSE_SERVER=hub.example.org\nMQTT_PORT=1884\n"
        f"HUBSENSE_INFLUX_PASSWORD={strong}\nGRAFANA_ADMIN_PASSWORD=change-me-grafana\n"
        "INFLUXDB_ADMIN_TOKEN=short\nMY_OWN_SETTING='kept as is'\n")
    result = init_deployment(checkout)
    env = read_env_file(checkout / ".env")
    assert env["HUBSENSE_SERVER"] == "hub.example.org" and env["MQTT_PORT"] == "1884"
    assert env["HUBSENSE_INFLUX_PASSWORD"] == strong
    assert "change-me" not in env["GRAFANA_ADMIN_PASSWORD"] and len(env["INFLUXDB_ADMIN_TOKEN"]) >= 43
    assert env["MY_OWN_SETTING"] == "kept as is"
    assert any("2 replaced" in line for line in result.lines)
    agent = tomllib.loads((checkout / "secrets" / "agents" / "ostersund" / "ost-pi-rum.toml").read_text())
    assert agent["broker_port"] == 1884


def test_rotate(deployed: tuple[Path, InitResult]) -> None:
    root, first = deployed
    layout = Layout(root)
    other, _ = create_token(layout.tokens, Role.MANAGER, "Facility manager Stockholm")
    env = read_env_file(layout.env)
    creds = json.loads(layout.credentials.read_text())["users"]
    result = init_deployment(root, rotate=True)
    new_env = read_env_file(layout.env)
    new_creds = json.loads(layout.credentials.read_text())["users"]
    assert all(new_creds[u]["password"] != creds[u]["password"] for u in creds)
    for var in VARS:
        if var.kind == "secret" or var.name == "HUBSENSE_MQTT_PASSWORD":
            assert new_env[var.name] != env[var.name], var.name
        elif var.kind == "first-start":  # InfluxDB and Grafana read these only once
            assert new_env[var.name] == env[var.name], var.name
    store = TokenStore(layout.tokens)
    assert result.manager_token and store.verify(result.manager_token) is Role.MANAGER
    assert store.verify(first.manager_token or "") is None  # the old first-manager token is revoked
    assert store.verify(other) is Role.MANAGER  # tokens made by people are theirs to revoke
    assert check_deployment(root).errors == []


def test_tls_certificates_switch_agents_and_compose_to_8883(deployed: tuple[Path, InitResult]) -> None:
    root, _ = deployed
    layout = Layout(root)
    make_test_pki(layout.certs)
    init_deployment(root)
    env = read_env_file(layout.env)
    assert env["COMPOSE_FILE"] == f"docker-compose.yml:{TLS_COMPOSE_FILE}"
    agent = tomllib.loads((layout.secrets / "agents" / "stockholm" / "sthlm-pi-rum.toml").read_text())
    assert agent["broker_port"] == 8883 and agent["ca_file"] == "/etc/hubsense/ca.crt"
    assert check_deployment(root).errors == []
    (layout.certs / "server.key").unlink()
    with pytest.raises(DeployError, match=r"TLS needs ca\.crt, server\.crt and server\.key"):
        init_deployment(root)


def test_only_some_hubs_warns_about_the_others(checkout: Path) -> None:
    result = init_deployment(checkout, hubs=["stockholm"], server="hub", mqtt_bind="10.0.0.2")
    assert any("ostersund" in w and "unknown" in w for w in result.warnings)
    check = check_deployment(checkout)
    assert check.errors == [] and any("hub ostersund is configured but has no broker users" in w
                                      for w in check.warnings)


def test_bad_input_is_refused_before_anything_is_written(checkout: Path) -> None:
    with pytest.raises(DeployError, match="--server is needed on the first run"):
        init_deployment(checkout)
    with pytest.raises(DeployError, match="--mqtt-bind 'eth0': not an IPv4 address"):
        init_deployment(checkout, server="hub", mqtt_bind="eth0")
    with pytest.raises(DeployError, match="unknown hub"):
        init_deployment(checkout, server="hub", hubs=["uppsala"])
    assert not (checkout / ".env").exists() and not (checkout / "secrets").exists()
    (checkout / ".env").write_text("HUBSENSE_SERVER=hub\nMQTT_PORT=eighteen\n")
    with pytest.raises(DeployError, match="MQTT_PORT='eighteen': not a port number"):
        init_deployment(checkout)
    assert not (checkout / "secrets").exists()


def test_refuses_a_checkout_whose_gitignore_lost_the_secrets(checkout: Path) -> None:
    (checkout / ".git").mkdir()
    (checkout / ".gitignore").write_text(".venv/\n")
    with pytest.raises(DeployError, match=r"does not ignore \.env, secrets/"):
        init_deployment(checkout, server="hub")


def test_cli_prints_the_token_once(checkout: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy", "init", "--out", str(checkout)]) == 2
    assert "--server is needed" in capsys.readouterr().err
    assert main(["deploy", "init", "--out", str(checkout), "--server", "hub", "--mqtt-bind", "10.1.2.3"]) == 0
    out = capsys.readouterr()
    [token] = out.out.split()
    assert token.startswith("hs_") and "shown only now" in out.err
    assert main(["deploy", "init", "--out", str(checkout)]) == 0
    assert capsys.readouterr().out == ""
    assert main(["deploy", "init", "--check", "--out", str(checkout)]) == 0
    assert "is ready for docker compose up" in capsys.readouterr().err


def _as_user(uid: int, fn) -> object:
    """Run ``fn()`` in a forked child as ``uid`` (the code is already imported); its result or exception."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            try:
                outcome: object = fn()
            except Exception as exc:
                outcome = RuntimeError("".join(traceback.format_exception(exc)))
            os.write(write, pickle.dumps(outcome))
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    return pickle.loads(data)


@pytest.fixture
def public_tmp() -> Iterator[Path]:
    """A temporary folder other users can reach (pytest's tmp_path lies under a root-only 0700 folder)."""
    with tempfile.TemporaryDirectory(prefix="hubsense-deploy-") as d:
        os.chmod(d, 0o755)
        yield Path(d)


@as_root
def test_without_root_the_collector_runs_as_the_invoking_user(public_tmp: Path) -> None:
    """Only root can give files away, so as a plain user the collector's user is that user."""
    uid = 4242
    root = make_checkout(public_tmp / "hubsense")
    for path in [root, *root.rglob("*")]:
        os.lchown(path, uid, uid)
    result = _as_user(uid, lambda: init_deployment(root, server="hub", mqtt_bind="10.0.0.2"))
    assert isinstance(result, InitResult), result
    env = read_env_file(root / ".env")
    assert (env["HUBSENSE_UID"], env["HUBSENSE_GID"]) == (str(uid), str(uid))
    assert {p.stat().st_uid for p in [root / ".env", *(root / "secrets").rglob("*")]} == {uid}
    assert _as_user(uid, lambda: check_deployment(root).errors) == []


@as_root
def test_as_root_for_someone_elses_folder(tmp_path: Path) -> None:
    """The 'docker compose run --rm deploy init' case: root in the container, the folder belongs to
    the operator, who must be able to read .env (compose does) and everything but secrets/collector."""
    operator = 4243
    root = make_checkout(tmp_path / "hubsense")
    os.chown(root, operator, operator)
    init_deployment(root, server="hub", mqtt_bind="10.0.0.2")
    layout = Layout(root)
    mine = [layout.env, *(p for p in layout.secrets.rglob("*") if layout.collector_dir not in (p, *p.parents))]
    assert {p.stat().st_uid for p in [layout.secrets, *mine]} == {operator}
    assert {p.stat().st_uid for p in (layout.collector_dir, layout.tokens)} == {COLLECTOR_UID}
    assert read_records(layout.tokens)
