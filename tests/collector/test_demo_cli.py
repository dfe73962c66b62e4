"""``hubsense demo`` and ``hubsense export`` as a user runs them: real processes, real Mosquitto."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from hubsense.services import free_port, tcp_open

pytestmark = pytest.mark.slow
HUBSENSE = [sys.executable, "-m", "hubsense.cli"]


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(0.2)


def _start_demo(tmp_path: Path, port: int, mqtt_port: int, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*HUBSENSE, "demo", "--history-days", "1", "--port", str(port), "--mqtt-port", str(mqtt_port),
         "--workdir", str(tmp_path / "demo"), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, cwd=tmp_path,
    )


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/hubs", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_demo_stops_everything_it_started(tmp_path: Path, sig: signal.Signals) -> None:
    port, mqtt_port = free_port(), free_port()
    demo = _start_demo(tmp_path, port, mqtt_port)
    try:
        _wait(lambda: _ready(port), 120, "the demo serves its dashboard")
        assert tcp_open(mqtt_port), "the broker listens on the fixed port asked for"
        hubs = httpx.get(f"http://127.0.0.1:{port}/api/hubs").json()
        assert all(h["simulated"] for h in hubs)
        # SIGTERM as kill/systemd/docker send it; SIGINT to the whole group as Ctrl-C in a terminal does
        os.killpg(demo.pid, sig) if sig == signal.SIGINT else demo.send_signal(sig)
        _, err = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
    assert demo.returncode in (0, 130), err
    assert not tcp_open(mqtt_port), "no broker left behind"
    assert "Traceback" not in err
    assert "lost the broker connection" not in err.lower(), err  # the broker stops last


def test_export_reads_only_and_says_what_is_wrong(tmp_path: Path) -> None:
    def export(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*HUBSENSE, "export", *args], capture_output=True, text=True, cwd=tmp_path,
                              timeout=60)

    missing = export("--db", str(tmp_path / "typo" / "db.sqlite3"))
    assert missing.returncode == 2 and missing.stderr.startswith("error: no database at ")
    assert not (tmp_path / "typo").exists(), "reading never creates a database"
    naive = export("--start", "2026-11-29T08:00")
    assert naive.returncode == 2 and "has no UTC offset" in naive.stderr and "Traceback" not in naive.stderr
    default = export()
    assert default.returncode == 2 and not (tmp_path / "var").exists()
    from collector.store.sqlite import SqliteStore

    SqliteStore(tmp_path / "db.sqlite3").close()
    unknown = export("--db", str(tmp_path / "db.sqlite3"), "--hub", "uppsala")
    assert unknown.returncode == 2 and "unknown hub 'uppsala'" in unknown.stderr
    out = tmp_path / "out.jsonl"
    ok = export("--db", str(tmp_path / "db.sqlite3"), "--start", "2026-11-29", "-o", str(out))
    assert ok.returncode == 0 and out.exists() and '{"exported": 0}' in ok.stderr


def test_a_second_demo_run_fills_the_time_since_the_first(tmp_path: Path, hubs) -> None:
    from datetime import UTC, datetime, timedelta
    from types import SimpleNamespace

    from collector.demo import _history
    from collector.simulate import simulate_history
    from collector.store.sqlite import SqliteStore

    store = SqliteStore(tmp_path / "db.sqlite3")
    try:
        now = datetime.now(UTC)
        first_run = now - timedelta(hours=12)
        simulate_history(hubs, store, days=1, end=first_run)
        demo = SimpleNamespace(store=store, hubs=hubs)
        _history(demo, 28, now)
        newest = max(h.at for hub in hubs for h in store.latest_health(hub))
        assert newest > now - timedelta(minutes=10), "history reaches the second run"
        gap = list(store.health("stockholm", first_run + timedelta(hours=1), now - timedelta(hours=1)))
        assert len(gap) > 100, "no hole between the two runs (heartbeats every 5 minutes, open or not)"
    finally:
        store.close()
