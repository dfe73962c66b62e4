"""SpooledStore in front of a real influxd that is down, stopped and restarted."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from collector.model import OccupancyState
from collector.store.influx import InfluxStore
from collector.store.spool import SpooledStore, SpoolFull
from collector.store.sqlite import SqliteStore
from hubsense.services import Influxd, free_port
from tests.collector.store.helpers import T0, change, event, health

OCC, FREE = OccupancyState.OCCUPIED, OccupancyState.FREE


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Influxd]:
    """An influxd of the test's own, not started: tests start and stop it."""
    s = Influxd(tmp_path / "influxd", port=free_port())
    yield s
    s.stop()


def spooled(server: Influxd, tmp_path: Path, **kw) -> SpooledStore:
    inner = InfluxStore(server.url, "spooltest", raw_rp="hubsense_raw", timeout_s=2)
    kw.setdefault("drain_interval_s", None)
    return SpooledStore(inner, tmp_path / "spool.sqlite3", retry_s=0.0, **kw)


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_writes_pass_through_while_the_store_is_up(tmp_path: Path) -> None:
    store = SpooledStore(SqliteStore(tmp_path / "s.sqlite3"), tmp_path / "spool.sqlite3", drain_interval_s=None)
    assert store.add_events([event(1), event(2)]) == 2
    assert store.add_events([event(2)]) == 0
    assert store.depth == 0
    assert store.event_count() == 2
    store.close()


def test_outage_mid_stream_stores_every_event_exactly_once(server: Influxd, tmp_path: Path) -> None:
    server.start()
    store = spooled(server, tmp_path)
    sent = [event(i, agent=f"pi-{i % 3}") for i in range(600)]
    for i in range(0, 200, 50):
        assert store.add_events(sent[i : i + 50]) == 50
    assert store.depth == 0

    server.stop()
    for i in range(200, 500, 50):
        store.add_events(sent[i : i + 50])
    store.add_events(sent[150:250])  # redelivered during the outage
    store.add_changes([change(1, "oasen", OCC), change(1, "oasen", FREE, reason="corrected")])
    store.add_health([health(2, "pi-1", queue_depth=7)])
    assert store.depth == 300 + 100 + 2 + 1
    assert store.last_error is not None

    server.start()
    for i in range(500, 600, 50):  # the first write after the restart replays the spool first
        store.add_events(sent[i : i + 50])
    assert store.depth == 0 and store.last_error is None
    assert store.event_count() == 600
    assert list(store.events()) == sorted(sent, key=lambda e: (e.received, e.agent, e.boot, e.seq))
    # replayed in order: the later write of the same instant wins
    [c] = store.changes("hq", T0, T0 + timedelta(hours=1))
    assert (c.state, c.reason) == (FREE, "corrected")
    assert store.latest_health("hq")[0].queue_depth == 7
    store.close()


def test_spool_survives_a_collector_restart_and_drains_in_the_background(
    server: Influxd, tmp_path: Path
) -> None:
    store = spooled(server, tmp_path)  # influxd never started: connection refused
    store.add_events([event(i) for i in range(100)])
    assert store.depth == 100
    store.close()

    server.start()
    store = spooled(server, tmp_path, drain_interval_s=0.05)
    assert store.depth == 100
    wait_for(lambda: store.depth == 0)
    assert store.event_count() == 100
    store.close()


def test_full_spool_refuses_writes_and_raises_the_high_water_flag(server: Influxd, tmp_path: Path) -> None:
    store = spooled(server, tmp_path, max_events=10)
    store.add_events([event(i) for i in range(7)])
    assert not store.high_water
    store.add_health([health(0, "pi-1")])
    assert store.high_water  # 8 of 10
    assert store.status() == {"depth": 8, "max": 10, "high_water": True, "store_available": False,
                              "last_error": store.last_error}
    with pytest.raises(SpoolFull):
        store.add_events([event(i) for i in range(100, 105)])
    assert store.depth == 8  # nothing partial, nothing dropped

    server.start()
    assert store.drain() == 0
    assert not store.high_water
    assert store.status()["store_available"]
    assert store.event_count() == 7
    store.close()


def test_rejected_records_are_kept_aside_not_replayed_forever(server: Influxd, tmp_path: Path) -> None:
    server.start()
    store = spooled(server, tmp_path)
    store.inner.ensure_database()
    at_ns = int(T0.timestamp()) * 10**9
    store.inner.http.write([f'sensor_event,agent=x,hub=x,kind=pir,sensor=x seq="text" {at_ns}'], "hubsense_raw")
    server.stop()
    store.add_events([event(1)])  # seq as integer: a field type conflict once replayed
    store.add_changes([change(0, "oasen", OCC)])
    server.start()
    assert store.drain() == 0
    assert store.spool.dead_count() == 1
    assert len(store.changes("hq", T0, T0 + timedelta(hours=1))) == 1
    store.close()


def test_a_hung_store_delays_only_the_first_write(tmp_path: Path) -> None:
    """A server that accepts connections but never answers (a stalled InfluxDB): after the
    first timeout, writes go straight to the spool and the drainer does the retrying."""
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(64)
        inner = InfluxStore(f"http://127.0.0.1:{hung.getsockname()[1]}", "x", timeout_s=0.5)
        store = SpooledStore(inner, tmp_path / "spool.sqlite3", retry_s=60, drain_interval_s=0.05)
        started = time.monotonic()
        store.add_events([event(0)])
        assert time.monotonic() - started >= 0.5
        started = time.monotonic()
        for i in range(1, 21):
            store.add_events([event(i)])
        assert time.monotonic() - started < 0.5
        assert store.depth == 21 and store.last_error
        store.close()
