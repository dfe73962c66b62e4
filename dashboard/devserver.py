"""A real collector (Mosquitto ingest, SQLite, API, dashboard) in-process, for browser tests
and screenshots: uvicorn runs in a thread on a free loopback port.

Not used in production (``hubsense collector`` / ``hubsense demo`` serve the app there).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from collector.service import Collector
from collector.settings import Settings
from hubsense.config import DEFAULT_CONFIG_DIR
from hubsense.services import free_port


@dataclass
class RunningCollector:
    collector: Collector
    url: str


def collector_settings(workdir: Path, mqtt_port: int, **overrides) -> Settings:
    """Settings with every file under ``workdir`` and the given broker."""
    values = dict(
        config_paths=[DEFAULT_CONFIG_DIR], mqtt_host="127.0.0.1", mqtt_port=mqtt_port,
        mqtt_client_id=f"hubsense-dash-{free_port()}", sqlite_path=workdir / "hubsense.sqlite3",
        spool_path=workdir / "spool.sqlite3", tokens_path=workdir / "tokens.json",
        http_host="127.0.0.1", http_port=free_port(),
    )
    values.update(overrides)
    return Settings(**values)


def add_history(collector: Collector, days: int) -> bool:
    """Simulated history (if the simulator is available); True if any was added."""
    if days <= 0:
        return False
    try:
        from collector.simulate import simulate_history
    except ImportError:
        return False
    simulate_history(collector.hubs, collector.store, days=days)
    return True


@contextmanager
def serve_in_thread(settings: Settings, history_days: int = 0, timeout: float = 20.0) -> Iterator[RunningCollector]:
    """Build the collector, add history, serve it; stop everything on exit."""
    collector = Collector.build(settings)
    add_history(collector, history_days)
    config = uvicorn.Config(collector.app, host=settings.http_host, port=settings.http_port,
                            log_level="warning", access_log=False, timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="dashboard-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the collector did not start")
        time.sleep(0.02)
    if not collector.ingest.wait_ready(timeout):
        raise RuntimeError("the collector did not subscribe to the broker")
    try:
        yield RunningCollector(collector, f"http://{settings.http_host}:{settings.http_port}")
    finally:
        server.should_exit = True
        thread.join(10)
