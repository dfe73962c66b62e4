"""Tokens: hashed storage, verification cache, the ``hubsense token`` command, production refusal."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest

from collector import auth
from collector.auth import Role, TokenStore, create_token, production_problems, read_records
from collector.settings import Settings
from hubsense.cli import main


@pytest.fixture(scope="module")
def minted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    path = tmp_path_factory.mktemp("auth") / "tokens.json"
    manager, _ = create_token(path, Role.MANAGER, "m")
    kiosk, _ = create_token(path, Role.KIOSK, "k")
    return path, manager, kiosk


def test_token_file_holds_only_salted_hashes(minted: tuple[Path, str, str]) -> None:
    path, manager, kiosk = minted
    text = path.read_text()
    assert manager not in text and kiosk not in text
    assert manager.split("_", 2)[2] not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    records = list(read_records(path).values())
    assert len({r.salt for r in records}) == len(records) == 2


def test_verify_roles_and_rejects_forgeries(minted: tuple[Path, str, str]) -> None:
    path, manager, kiosk = minted
    store = TokenStore(path)
    assert store.verify(manager) is Role.MANAGER
    assert store.verify(kiosk) is Role.KIOSK
    token_id = manager.split("_")[1]
    forged = manager[:-1] + ("A" if manager[-1] != "A" else "B")
    for bad in [forged, f"hs_{token_id}_" + "x" * 43, "", "Bearer", "hs__x", manager + "x", kiosk.upper()]:
        assert store.verify(bad) is None, bad
    assert store.verify(forged) is None  # again, now from the negative cache


def test_verified_tokens_are_cached_so_requests_skip_scrypt(
    minted: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, manager, _ = minted
    store = TokenStore(path)
    calls = []
    real = hashlib.scrypt

    def counting_scrypt(*args, **kwargs):  # the real scrypt, counted
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(auth.hashlib, "scrypt", counting_scrypt)
    assert store.verify(manager) is Role.MANAGER
    assert len(calls) == 1
    for _ in range(200):
        assert store.verify(manager) is Role.MANAGER
    assert len(calls) == 1, "a verified token must not run scrypt again"


def test_token_command_create_list_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.json"
    assert main(["token", "--tokens", str(path), "create", "--role", "kiosk", "--name", "Entré-skärm"]) == 0
    out = capsys.readouterr()
    token = out.out.strip()
    assert token.startswith("hs_") and "shown only now" in out.err
    assert TokenStore(path).verify(token) is Role.KIOSK
    assert main(["token", "--tokens", str(path), "list"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(t["role"], t["name"]) for t in listed] == [("kiosk", "Entré-skärm")]
    assert token not in json.dumps(listed) and "hash" not in listed[0]
    assert main(["token", "--tokens", str(path), "revoke", listed[0]["id"]]) == 0
    assert TokenStore(path).verify(token) is None
    assert main(["token", "--tokens", str(path), "revoke", listed[0]["id"]]) == 2


def test_hub_scoped_tokens_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.json"
    assert main(["token", "--tokens", str(path), "create", "--role", "manager", "--hub", "Ostersund",
                 "--hub", "stockholm"]) == 0
    out = capsys.readouterr()
    grant = TokenStore(path).grant(out.out.strip())
    assert grant is not None and grant.hubs == {"ostersund", "stockholm"} and not grant.operator
    assert "hubs ostersund, stockholm" in out.err
    assert main(["token", "--tokens", str(path), "list"]) == 0
    assert json.loads(capsys.readouterr().out)["hubs"] == ["ostersund", "stockholm"]
    # an unknown hub is a configuration error naming the known hubs; no token is made
    assert main(["token", "--tokens", str(path), "create", "--role", "kiosk", "--hub", "uppsala"]) == 2
    err = capsys.readouterr().err
    assert "--hub: unknown hub(s) 'uppsala'" in err and "ostersund, stockholm" in err
    assert len(json.loads(path.read_text())["tokens"]) == 1


def test_a_version_1_token_file_keeps_working_and_migrates(tmp_path: Path) -> None:
    """A token file written before hub scopes: its tokens are unscoped, and a change rewrites it as v2."""
    path = tmp_path / "t.json"
    old, _ = create_token(path, Role.MANAGER, "from before")
    raw = json.loads(path.read_text())
    v1 = {"version": 1, "tokens": [{k: v for k, v in t.items() if k != "hubs"} for t in raw["tokens"]]}
    path.write_text(json.dumps(v1))
    grant = TokenStore(path).grant(old)
    assert grant is not None and grant.operator and grant.hubs is None
    kiosk, _ = create_token(path, Role.KIOSK, "new", ("stockholm",))
    migrated = json.loads(path.read_text())
    assert migrated["version"] == 2 and [t["hubs"] for t in migrated["tokens"]] == [[], ["stockholm"]]
    store = TokenStore(path)
    assert store.verify(old) is Role.MANAGER and store.grant(kiosk).hubs == {"stockholm"}
    path.write_text(json.dumps({**migrated, "version": 3}))
    with pytest.raises(ValueError, match="newer"):
        TokenStore(path)


def _prod(tmp_path: Path, **kw) -> Settings:
    values = {"production": True, "tokens_path": tmp_path / "tokens.json", "sqlite_path": tmp_path / "db.sqlite3",
              "mqtt_username": "hubsense-collector", "mqtt_password": "Zq7-pVt1vX9kLm2nB4cD6fG8hJ0"}
    return Settings(**{**values, **kw})


def test_production_problems(tmp_path: Path) -> None:
    assert any("no manager token" in p for p in production_problems(_prod(tmp_path)))
    create_token(tmp_path / "tokens.json", Role.MANAGER)
    assert production_problems(_prod(tmp_path)) == []
    assert any("without credentials" in p for p in production_problems(_prod(tmp_path, mqtt_username=None)))
    for weak in ["changeme", "hubsense", "short", "", "change-me-mqtt-password-please"]:
        assert any("MQTT password" in p for p in production_problems(_prod(tmp_path, mqtt_password=weak))), weak
    influx = _prod(tmp_path, store="influxdb")
    assert any("InfluxDB" in p for p in production_problems(influx))
    assert any("InfluxDB token" in p for p in production_problems(influx.model_copy(update={"influx_token": "x" * 40})))
    assert production_problems(influx.model_copy(update={"influx_token": "k3J9-vQ2xLw8pZr5nT0yHc7b_Mf4dSa6"})) == []
    placeholder = influx.model_copy(update={"influx_token": "change-me-influx-token"})  # deploy/env.example
    assert any("InfluxDB token" in p for p in production_problems(placeholder))


def test_collector_refuses_to_start_in_production_with_default_secrets(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HUBSENSE_PRODUCTION", "true")
    monkeypatch.setenv("HUBSENSE_TOKENS_PATH", str(tmp_path / "tokens.json"))
    rc = main(["collector", "--db", str(tmp_path / "db.sqlite3"), "--port", "1"])  # never gets to bind
    err = capsys.readouterr().err
    assert rc == 2
    assert "production mode: no manager token" in err
    assert "production mode: MQTT without credentials" in err


@pytest.mark.parametrize("weak", [" " * 16, "a" * 16, "passwordpassword", "1234567890123456", "Password123456789!",
                                  "qwertyuiopasdfghjkl", "abcdefghijklmnopqrstuvwxyz", "Sommar2026Stockholm!"])
def test_long_but_predictable_secrets_are_refused(tmp_path: Path, weak: str, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 19, defect 10: sixteen spaces, 'aaaaaaaaaaaaaaaa', 'passwordpassword' and '1234567890123456'
    passed the length check.  The strength estimate refuses them; generated secrets pass."""
    create_token(tmp_path / "tokens.json", Role.MANAGER)
    assert any("too predictable" in p for p in production_problems(_prod(tmp_path, mqtt_password=weak)))
    for env, value in {"HUBSENSE_PRODUCTION": "true", "HUBSENSE_TOKENS_PATH": str(tmp_path / "tokens.json"),
                       "HUBSENSE_MQTT_USERNAME": "hubsense-collector", "HUBSENSE_MQTT_PASSWORD": weak}.items():
        monkeypatch.setenv(env, value)
    assert main(["collector", "--db", str(tmp_path / "db.sqlite3"), "--port", "1"]) == 2  # never gets to bind
    assert "production mode: MQTT password is" in capsys.readouterr().err


def test_generated_secrets_are_strong_enough() -> None:
    import secrets

    from collector.auth import MIN_SECRET_BITS, secret_bits

    for _ in range(200):
        assert secret_bits(secrets.token_urlsafe(32)) > 2 * MIN_SECRET_BITS
        assert secret_bits(secrets.token_hex(24)) > 2 * MIN_SECRET_BITS
