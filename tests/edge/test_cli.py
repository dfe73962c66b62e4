from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hubsense.cli import main
from hubsense.config import Hub
from hubsense.protocol import MessageKind
from hubsense.services import free_port
from tests.conftest import REPO
from tests.edge.conftest import hub_toml


def _run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str]:
    code = main(["agent", *args])
    return code, capsys.readouterr().err


def test_unknown_agent_exits_2(capsys) -> None:
    code, err = _run(capsys, "--agent", "no-such-pi")
    assert code == 2
    assert "unknown agent 'no-such-pi'" in err and "stockholm/sthlm-pi-entre" in err


def test_missing_agent_exits_2(capsys) -> None:
    code, err = _run(capsys)
    assert code == 2 and "--agent is required" in err


def test_bad_config_exits_2(capsys, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "x"\nname = 1\n')
    code, err = _run(capsys, "--config", str(bad), "--agent", "a")
    assert code == 2 and f"error: {bad}" in err


def test_bad_broker_and_settings_exit_2(capsys) -> None:
    assert _run(capsys, "--agent", "sthlm-pi-entre", "--broker", "localhost")[0] == 2
    code, err = _run(capsys, "--agent", "sthlm-pi-entre", "--certfile", "c.pem", "--keyfile", "k.pem")
    assert code == 2 and "ca_file" in err


def test_unusable_pin_factory_exits_2(capsys) -> None:
    code, err = _run(capsys, "--check", "--agent", "sthlm-pi-entre", "--pin-factory", "rpigpio")
    assert code == 2 and "not usable" in err


def test_simulate_with_refused_broker_exits_2(capsys) -> None:
    port = free_port()
    code, err = _run(capsys, "--simulate", "--broker", f"127.0.0.1:{port}")
    assert code == 2
    assert f"127.0.0.1:{port} is not reachable" in err and "Mosquitto" in err


def _spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "hubsense.cli", "agent", *args], env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_walk_test_command_lists_sensors_until_interrupted() -> None:
    proc = _spawn("--check", "--agent", "sthlm-pi-rum", "--pin-factory", "mock")
    try:
        lines = [proc.stdout.readline() for _ in range(9)]
    finally:
        proc.send_signal(signal.SIGINT)
        _out, _ = proc.communicate(timeout=10)
    assert "walk test of agent sthlm-pi-rum: 8 sensors" in lines[0]
    assert sum("now OPEN" in line for line in lines) == 4  # the 4 doors (pulled up, no magnet)
    assert proc.returncode == 0


def test_agent_command_warns_when_broker_refuses(tmp_path: Path) -> None:
    port = free_port()
    proc = _spawn("--agent", "sthlm-pi-entre", "--pin-factory", "mock", "--broker", f"127.0.0.1:{port}",
                  "--queue", str(tmp_path / "q.sqlite3"), "--duration", "0.2")
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0  # a Pi that boots before the hub server keeps going
    assert f"127.0.0.1:{port} is not reachable (Connection refused)" in err
    assert "keeps retrying" in err and str(tmp_path / "q.sqlite3") in err


def test_simulate_command(hub: Hub, broker, recorder_factory, tmp_path: Path) -> None:
    config = tmp_path / "hub.toml"
    config.write_text(hub_toml(hub))
    rec = recorder_factory(broker.port, f"hubsense/{hub.id}/+/+")
    t0 = time.monotonic()
    proc = _spawn("--simulate", "--config", str(config), "--agent", "sthlm-pi-rum", "--speed", "600",
                  "--seed", "3", "--broker", f"127.0.0.1:{broker.port}", "--duration", "1.5")
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert time.monotonic() - t0 < 20
    assert rec.wait_until(lambda r: len(r.events()) >= 4)  # at least the 4 doors closing at start
    assert {e.agent for e in rec.events()} == {"sthlm-pi-rum"}
    assert rec.of_kind(MessageKind.HEARTBEAT)


def test_walk_test_without_a_pi_gives_one_hint(monkeypatch, capsys) -> None:
    import warnings

    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, err = _run(capsys, "--check", "--agent", "sthlm-pi-entre", "--duration", "1")
    assert code == 2
    assert err.strip().splitlines() == [
        "error: no GPIO pin factory works here: on a Raspberry Pi install lgpio (pip install 'hubsense[pi]', "
        "docs/raspberry-pi.md); off a Pi, try the walk test on mock pins with --pin-factory mock"]
    assert not [w for w in caught if "PinFactoryFallback" in type(w.message).__name__]


def test_walk_test_honours_duration_and_aligns_its_columns() -> None:
    proc = subprocess.run([sys.executable, "-m", "hubsense.cli", "agent", "--check", "--agent", "sthlm-pi-rum",
                           "--pin-factory", "mock", "--duration", "1"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("  ")]
    assert len(rows) == 8
    assert len({line.index(" now ") for line in rows}) == 1, rows  # one column for "now", however long the zone
    assert len({line.index(" pin ") for line in rows}) == 1
