"""InfluxDB-specific behaviour against the real influxd: retention policies, point identity, errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from collector.model import OccupancyState
from collector.store.base import StoreUnavailable
from collector.store.influx import InfluxStore
from hubsense.services import Influxd
from tests.collector.store.conftest import fresh_influx
from tests.collector.store.helpers import T0, change, event, health


@pytest.fixture
def influx(influxd: Influxd):
    store = fresh_influx(influxd, events_retention_days=30)
    yield store
    store.drop_database()
    store.close()


def test_database_and_raw_retention_policy_are_created(influx: InfluxStore) -> None:
    influx.add_events([event(1)])
    rps = {r["name"]: r for r in influx.http.query(f'SHOW RETENTION POLICIES ON "{influx.database}"')}
    assert rps["hubsense_raw"]["duration"] == "720h0m0s"
    assert rps["autogen"]["default"] is True


def test_events_and_health_go_to_the_raw_policy_changes_to_the_default(influx: InfluxStore) -> None:
    influx.add_events([event(1)])
    influx.add_health([health(0, "pi-1")])
    influx.add_changes([change(0, "z", OccupancyState.FREE)])
    q = influx.http.query
    assert [r["count"] for r in q('SELECT COUNT(seq) FROM "hubsense_raw"."sensor_event"')] == [1]
    assert [r["count"] for r in q('SELECT COUNT(dropped) FROM "hubsense_raw"."agent_health"')] == [1]
    assert [r["count"] for r in q('SELECT COUNT(state) FROM "autogen"."zone_state"')] == [1]
    assert list(q('SELECT * FROM "autogen"."sensor_event"')) == []


def test_existing_retention_policy_gets_the_configured_duration(influxd: Influxd) -> None:
    first = fresh_influx(influxd, events_retention_days=30)
    first.ensure_database()
    second = InfluxStore(influxd.url, first.database, raw_rp="hubsense_raw", events_retention_days=None)
    second.ensure_database()
    rps = {r["name"]: r for r in second.http.query(f'SHOW RETENTION POLICIES ON "{first.database}"')}
    assert rps["hubsense_raw"]["duration"] == "0s"  # INF
    first.drop_database()


def test_distinct_events_in_one_microsecond_stay_apart(influx: InfluxStore) -> None:
    a = event(1)
    same_time = [a, replace(a, seq=2), replace(a, boot="b2"), replace(a, boot="b2", seq=2)]
    assert influx.add_events(same_time) == 4
    assert influx.event_count() == 4
    assert {e.ts for e in influx.events()} == {a.ts}


def test_tag_and_string_escaping_round_trips(influx: InfluxStore) -> None:
    odd = change(0, "zone a,b=c", OccupancyState.OCCUPIED, desk="desk 1", reason='said "hi"\\ then\nleft')
    influx.add_changes([odd])
    [got] = influx.changes("hq", T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))
    assert (got.zone, got.desk) == (odd.zone, odd.desk)
    assert got.reason == 'said "hi"\\ then left'  # newlines cannot be stored in line protocol


def test_points_beyond_retention_are_dropped_without_failing_the_batch(influx: InfluxStore) -> None:
    old = replace(event(1), ts=T0 - timedelta(days=60), received=T0 - timedelta(days=60))
    influx.add_events([old, event(2)])
    assert [e.seq for e in influx.events()] == [2]


def test_missing_database_without_create_is_unavailable(influxd: Influxd) -> None:
    store = InfluxStore(influxd.url, "never_created_db", create=False)
    with pytest.raises(StoreUnavailable, match="database not found"):
        store.add_changes([change(0, "z", OccupancyState.FREE)])


def test_unreachable_server_is_unavailable() -> None:
    from hubsense.services import free_port

    store = InfluxStore(f"http://127.0.0.1:{free_port()}", "x", timeout_s=1)
    with pytest.raises(StoreUnavailable):
        store.add_events([event(1)])
    with pytest.raises(StoreUnavailable):
        store.event_count()


def test_reads_in_windows_keep_receive_order_across_window_edges(
    influx: InfluxStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("collector.store.influx.READ_WINDOW_US", 3_600_000_000)  # 1 h windows
    events = []
    for i in range(12):  # every 25 min, agent clocks 50 min behind to 40 min ahead
        received = T0 + timedelta(minutes=25 * i)
        ts = received + timedelta(minutes=(i % 10) * 10 - 50)
        events.append(replace(event(i, agent=f"pi-{i % 3}"), ts=ts, received=received))
    influx.add_events(events[::-1])
    assert list(influx.events()) == events
    assert list(influx.events("hq", T0 + timedelta(minutes=50), T0 + timedelta(minutes=200))) == events[2:8]
    records = [health(37 * i, f"pi-{i % 2}") for i in range(10)]
    influx.add_health(records)
    assert list(influx.health("hq")) == records
    assert list(influx.health(end=T0 + timedelta(minutes=74))) == records[:2]  # end is exclusive


def test_basic_auth_and_wrong_credentials(tmp_path: Path) -> None:
    server = Influxd(tmp_path / "influxd", auth=True).start()
    try:
        httpx.post(f"{server.url}/query", data={"q": "CREATE USER admin WITH PASSWORD 'pw' WITH ALL PRIVILEGES"},
                   timeout=5).raise_for_status()
        store = InfluxStore(server.url, "authdb", username="admin", password="pw", raw_rp="hubsense_raw")
        assert store.add_events([event(1)]) == 1
        assert store.event_count() == 1
        wrong = InfluxStore(server.url, "authdb", username="admin", password="nope", create=False)
        with pytest.raises(StoreUnavailable, match="401"):
            wrong.add_events([event(2)])
        anonymous = InfluxStore(server.url, "authdb", create=False)
        with pytest.raises(StoreUnavailable):
            anonymous.event_count()
    finally:
        server.stop()
