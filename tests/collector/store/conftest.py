"""The ``store`` fixture: each contract test runs on SQLite and on a real influxd."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.store.base import Store
from collector.store.influx import InfluxStore
from collector.store.spool import SpooledStore
from collector.store.sqlite import SqliteStore
from hubsense.services import Influxd


def fresh_influx(server: Influxd, **kw) -> InfluxStore:
    """An InfluxStore on a database of its own (unique name), raw retention policy on."""
    return InfluxStore(server.url, f"t_{uuid.uuid4().hex[:12]}", raw_rp="hubsense_raw", **kw)


@pytest.fixture(params=["sqlite", "influx", "spooled-influx"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """SQLite, InfluxDB, and InfluxDB behind the spool exactly as ``open_store`` builds it."""
    if request.param == "sqlite":
        s: Store = SqliteStore(tmp_path / "store.sqlite3")
        yield s
        s.close()
        return
    influx = fresh_influx(request.getfixturevalue("influxd"))
    if request.param == "influx":
        yield influx
    else:
        spooled = SpooledStore(influx, tmp_path / "spool.sqlite3")
        yield spooled
        assert spooled.depth == 0
        spooled.close()  # closes the InfluxStore's clients too; a new one is made to drop the database
    influx.drop_database()
    influx.close()
