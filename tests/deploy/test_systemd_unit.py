"""deploy/systemd/hubsense-agent.service: systemd accepts it, it has the watchdog and hardening
the agent relies on, and its command line is one the real ``hubsense agent`` parser accepts."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from hubsense.cli import build_parser

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "systemd" / "hubsense-agent.service"


def parse_unit(text: str) -> dict[str, list[tuple[str, str]]]:
    """Sections -> (key, value) in order; continuation lines joined, comments dropped."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.strip()
        pending = ""
        if not line or line.startswith(("#", ";")):
            continue
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        key, _, value = line.partition("=")
        current.append((key.strip(), value.strip()))
    return sections


def service() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in parse_unit(UNIT.read_text())["Service"]:
        out.setdefault(key, []).append(value)
    return out


def test_watchdog_restart_and_hardening() -> None:
    s = service()
    one = {k: v[-1] for k, v in s.items()}
    assert (one["Type"], one["NotifyAccess"], one["WatchdogSec"], one["Restart"]) == ("notify", "main", "60", "always")
    assert one["ProtectSystem"] == "strict" and one["DynamicUser"] == "yes" and one["NoNewPrivileges"] == "yes"
    assert one["StateDirectory"] == "hubsense" and one["WorkingDirectory"] == "/var/lib/hubsense"
    assert "AF_UNIX" in one["RestrictAddressFamilies"].split()  # $NOTIFY_SOCKET is an AF_UNIX socket
    env = dict(kv.split("=", 1) for value in s["Environment"] for kv in shlex.split(value))
    assert env["GPIOZERO_PIN_FACTORY"] == "lgpio"
    assert env["LG_WD"] == one["WorkingDirectory"]  # lgpio's pipe must be writable under ProtectSystem=strict
    assert "gpio" in one["SupplementaryGroups"].split()
    assert parse_unit(UNIT.read_text())["Install"] == [("WantedBy", "multi-user.target")]


def test_exec_start_is_accepted_by_the_agent_command() -> None:
    [exec_start] = service()["ExecStart"]
    env = {"${HUBSENSE_AGENT}": "sthlm-pi-entre", "${HUBSENSE_BROKER}": "hub.lan:1883",
           "${HUBSENSE_MQTT_USERNAME}": "stockholm.sthlm-pi-entre"}
    for name, value in env.items():
        exec_start = exec_start.replace(name, value)
    argv = shlex.split(exec_start)
    assert argv[0].endswith("/bin/hubsense")
    args = build_parser(only="agent").parse_args(argv[1:])
    assert args.command == "agent" and args.agent == "sthlm-pi-entre" and args.log_json
    assert str(args.queue).startswith("/var/lib/hubsense/")  # the StateDirectory: survives restarts
    assert not args.check and not args.simulate


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verify_is_clean(tmp_path: Path) -> None:
    # verify checks that ExecStart exists: point it at a binary that does
    unit = tmp_path / "hubsense-agent.service"
    unit.write_text(UNIT.read_text().replace("/opt/hubsense/venv/bin/hubsense", "/bin/true"))
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    problems = [line for line in (result.stdout + result.stderr).splitlines() if str(unit) in line or
                "Unknown" in line or "Invalid" in line or "Failed" in line]
    assert result.returncode == 0 and not problems, problems
