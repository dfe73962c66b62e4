"""The ``store`` fixture: each contract test runs on SQLite and on a real influxd."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.store.base import Store
from collector.store.influx import InfluxStore
from collector.store.sqlite import SqliteStore
from hubsense.services import Influxd


def fresh_influx(server: Influxd, **kw) -> InfluxStore:
    """An InfluxStore on a database of its own (unique name), raw retention policy on."""
    return InfluxStore(server.url, f"t_{uuid.uuid4().hex[:12]}", raw_rp="hubsense_raw", **kw)


@pytest.fixture(params=["sqlite", "influx"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s: Store = SqliteStore(tmp_path / "store.sqlite3")
        yield s
        s.close()
        return
    influx = fresh_influx(request.getfixturevalue("influxd"))
    yield influx
    influx.drop_database()
    influx.close()
