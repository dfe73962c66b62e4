"""open_store: the settings pick and configure the backend."""

from __future__ import annotations

from pathlib import Path

from collector.settings import Settings
from collector.store import open_store
from collector.store.influx import InfluxStore
from collector.store.spool import SpooledStore
from hubsense.services import Influxd
from tests.collector.store.helpers import event


def test_influxdb_comes_spooled_and_configured(influxd: Influxd, tmp_path: Path) -> None:
    settings = Settings(
        store="influxdb", influx_url=influxd.url, influx_database="open_store_test", influx_raw_rp="raw7",
        events_retention_days=7, spool_path=tmp_path / "spool" / "s.sqlite3", spool_max_events=123,
    )
    store = open_store(settings)
    assert isinstance(store, SpooledStore)
    assert isinstance(store.inner, InfluxStore)
    assert store.spool.max_records == 123
    assert store.add_events([event(1)]) == 1
    rps = {r["name"]: r["duration"] for r in store.inner.http.query('SHOW RETENTION POLICIES ON "open_store_test"')}
    assert rps["raw7"] == "168h0m0s"
    store.inner.drop_database()
    store.close()
