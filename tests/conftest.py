"""Shared fixtures: a real Mosquitto broker and a real influxd, each on a free loopback port."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubsense.config import DEFAULT_CONFIG_DIR, Hub, load_hubs
from hubsense.services import Influxd, Mosquitto

REPO = Path(__file__).resolve().parent.parent

# Starlette's TestClient sends "Host: testserver"; the API answers configured host names only.
os.environ.setdefault("HUBSENSE_ALLOWED_HOSTS", '["localhost", "127.0.0.1", "[::1]", "testserver"]')


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """One Mosquitto for the session.  Tests use unique client ids / hubs to stay apart."""
    m = Mosquitto(tmp_path_factory.mktemp("mosquitto")).start()
    yield m
    m.stop()


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A Mosquitto of the test's own, for tests that kill or restart it."""
    m = Mosquitto(tmp_path / "mosquitto").start()
    yield m
    m.stop()


@pytest.fixture(scope="session")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Influxd]:
    server = Influxd(tmp_path_factory.mktemp("influxd")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def hubs() -> dict[str, Hub]:
    return load_hubs([DEFAULT_CONFIG_DIR])


@pytest.fixture(scope="session")
def stockholm(hubs: dict[str, Hub]) -> Hub:
    return hubs["stockholm"]


FLEET_SIZE = 1000


@pytest.fixture(scope="session")
def fleet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,000 generated hub configs like stockholm.toml (``hubsense simulate --hubs``), written once per session."""
    from collector.fleet import write_hub_configs

    out = tmp_path_factory.mktemp("fleet")
    write_hub_configs(FLEET_SIZE, out)
    return out


@pytest.fixture(scope="session")
def fleet(fleet_dir: Path) -> dict[str, Hub]:
    return load_hubs([fleet_dir])
