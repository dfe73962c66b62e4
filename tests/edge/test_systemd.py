from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.systemd import Notifier
from hubsense.config import DEFAULT_CONFIG_DIR
from hubsense.services import Mosquitto


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    """A real AF_UNIX datagram socket standing in for systemd's."""
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(2.0)
    yield path, sock
    sock.close()


def _recv(sock: socket.socket) -> list[str]:
    return sock.recv(4096).decode().split("\n")


def test_ready_watchdog_stopping_reach_the_socket(notify_socket: tuple[str, socket.socket]) -> None:
    path, sock = notify_socket
    n = Notifier(path, "60000000")
    assert n.enabled and n.watchdog_s == 60.0
    assert n.ready("sensors open")
    assert _recv(sock) == ["READY=1", "STATUS=sensors open"]
    assert n.watchdog(now=100.0)
    assert _recv(sock) == ["WATCHDOG=1"]
    assert n.stopping()
    assert _recv(sock) == ["STOPPING=1"]


def test_watchdog_is_rate_limited_to_a_quarter_of_the_timeout(notify_socket: tuple[str, socket.socket]) -> None:
    path, sock = notify_socket
    n = Notifier(path, "8000000")  # WatchdogSec=8 -> at most every 2 s
    sent = [n.watchdog(now=t) for t in (10.0, 10.5, 11.9, 12.0, 13.0, 14.1)]
    assert sent == [True, False, False, True, False, True]
    sock.setblocking(False)
    assert [_recv(sock) for _ in range(3)] == [["WATCHDOG=1"]] * 3
    with pytest.raises(BlockingIOError):
        sock.recv(4096)


def test_abstract_namespace_address() -> None:
    name = f"hubsense-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2.0)
    try:
        assert Notifier("@" + name, "").notify("READY=1")
        assert _recv(sock) == ["READY=1"]
    finally:
        sock.close()


def test_outside_systemd_everything_is_a_no_op(tmp_path: Path) -> None:
    n = Notifier("", "")
    assert not n.enabled and n.watchdog_s is None
    assert not n.ready() and not n.watchdog() and not n.stopping()
    # A socket that vanished (systemd restarted) is a failed send, never an exception.
    assert not Notifier(str(tmp_path / "gone.sock"), "").notify("READY=1")


def test_environment_is_read_by_default(notify_socket: tuple[str, socket.socket],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path, sock = notify_socket
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    n = Notifier()
    assert n.watchdog_s == 30.0
    assert n.watchdog(now=0.0)
    assert _recv(sock) == ["WATCHDOG=1"]


def test_the_agent_command_notifies_systemd(notify_socket: tuple[str, socket.socket], broker: Mosquitto,
                                            tmp_path: Path) -> None:
    """The real ``hubsense agent`` process, as systemd runs it: READY=1 once its sensors are open,
    WATCHDOG=1 while it runs, STOPPING=1 when it stops."""
    path, sock = notify_socket
    sock.settimeout(20)
    env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hubsense.cli", "agent", "--config", str(DEFAULT_CONFIG_DIR / "stockholm.toml"),
         "--agent", "sthlm-pi-entre", "--broker", f"127.0.0.1:{broker.port}", "--pin-factory", "mock",
         "--queue", str(tmp_path / "queue.sqlite3"), "--log-json", "--duration", "0.5"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        messages = []
        while "STOPPING=1" not in messages:
            messages += _recv(sock)
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert messages.index("READY=1") < messages.index("STOPPING=1")
    assert "WATCHDOG=1" in messages  # fed from the agent's network loop
    assert any(m.startswith("STATUS=") for m in messages)
    records = [json.loads(line) for line in err.splitlines()]  # --log-json: one JSON object a line
    assert records and all({"ts", "level", "logger", "message"} <= set(r) for r in records)
    assert any("started" in r["message"] for r in records)
