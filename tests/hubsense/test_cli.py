"""The ``hubsense`` entry point reports configuration errors once for every command: exit status 2,
one 'error: file or setting: field: reason' line per problem, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubsense.cli import main
from hubsense.services import free_port

BAD_HUB = 'id = "h"\nname = "H"\nopening_hours = []\nzones = []\nnot_a_field = 1\n'


@pytest.fixture
def bad_config(tmp_path: Path) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(BAD_HUB, encoding="utf-8")
    return path


@pytest.mark.parametrize("argv", [
    ["collector", "--port", "{port}", "--db", "{tmp}/db.sqlite3"],
    ["agent", "--agent", "pi-1"],
    ["simulate", "--days", "1", "--db", "{tmp}/db.sqlite3"],
    ["replay", "{tmp}/none.jsonl"],
    ["bookings", "show", "--hub", "h"],
    ["provision", "h", "--out", "{tmp}/creds"],
])
def test_a_bad_hub_config_is_one_line_per_problem_and_exit_2(
        argv: list[str], bad_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    argv = [a.format(port=free_port(), tmp=tmp_path) for a in argv] + ["--config", str(bad_config)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert f"error: {bad_config}:5: not_a_field: unknown field" in lines  # with its line in the file
    assert any("opening_hours" in line for line in lines)
    assert "Traceback" not in err


def test_a_bad_setting_names_its_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                          capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("HUBSENSE_MQTT_PORT", "not-a-port")
    assert main(["collector", "--port", str(free_port()), "--db", str(tmp_path / "db.sqlite3")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Settings: mqtt_port (HUBSENSE_MQTT_PORT): ") and len(err.splitlines()) == 1
    assert "Traceback" not in err
