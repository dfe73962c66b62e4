"""Test helpers: run a real collector (MQTT ingest + API over uvicorn) in-process."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI

from collector.service import Collector
from collector.settings import Settings
from collector.store.base import Store
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
        spool_path=tmp_path / "spool.sqlite3",
        tokens_path=tmp_path / "tokens.json",
        http_host="127.0.0.1",
        http_port=free_port(),
    )
    values.update(overrides)
    return Settings(**values)


def api_app(settings: Settings, store: Store, **parts) -> FastAPI:
    """The collector's app over ``store`` without MQTT (``parts``: ``hubs``, ``live`` for Collector.build)."""
    return Collector.build(settings, store, mqtt=False, **parts).app


@contextmanager
def running_collector(settings: Settings, timeout: float = 10.0) -> Iterator[RunningCollector]:
    """Collector.build(settings) served in a thread (Collector.serving); entered once MQTT is subscribed."""
    with Collector.build(settings).serving(timeout) as collector:
        yield RunningCollector(collector, collector.url)


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
