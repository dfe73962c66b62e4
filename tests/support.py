"""Test helpers: run a real collector (MQTT ingest + API over uvicorn) in-process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from collector.service import Collector
from collector.settings import Settings
from hubsense.services import Mosquitto, free_port


@dataclass
class RunningCollector:
    collector: Collector
    url: str

    def get(self, path: str, **kw) -> httpx.Response:
        return httpx.get(self.url + path, timeout=5, **kw)


def collector_settings(broker: Mosquitto, tmp_path: Path, **overrides) -> Settings:
    values = dict(
        mqtt_host="127.0.0.1",
        mqtt_port=broker.port,
        mqtt_client_id=f"test-collector-{free_port()}",
        sqlite_path=tmp_path / "hubsense.sqlite3",
        http_port=free_port(),
    )
    values.update(overrides)
    return Settings(**values)


@contextmanager
def running_collector(settings: Settings, timeout: float = 10.0) -> Iterator[RunningCollector]:
    """Start Collector.build(settings) under uvicorn in a thread; wait until MQTT is subscribed."""
    collector = Collector.build(settings)
    server = uvicorn.Server(uvicorn.Config(collector.app, host="127.0.0.1", port=settings.http_port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not (server.started and collector.ingest.subscribed.is_set()):
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError("collector did not start")
        time.sleep(0.02)
    try:
        yield RunningCollector(collector, f"http://127.0.0.1:{settings.http_port}")
    finally:
        server.should_exit = True
        thread.join(15)


def wait_for(predicate, timeout: float = 5.0, interval: float = 0.02):
    """Poll ``predicate`` until it returns something truthy; return it, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
