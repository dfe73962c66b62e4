"""Property test: random write sequences give identical answers from SQLite and InfluxDB."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.model import OccupancyState, ReceivedEvent, StateChange
from collector.store.influx import InfluxStore
from collector.store.sqlite import SqliteStore
from hubsense.protocol import SensorKind, SensorState
from hubsense.services import Influxd
from tests.collector.store.conftest import fresh_influx
from tests.collector.store.helpers import T0

_hubs = itertools.count()
AGENTS, BOOTS, SENSORS = ["pi-1", "pi-2", "pi-3"], ["b1", "b2"], ["pir-1", "pir-2"]


@pytest.fixture(scope="module")
def backends(influxd: Influxd, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SqliteStore,
                                                                                           InfluxStore]]:
    sqlite = SqliteStore(tmp_path_factory.mktemp("agree") / "s.sqlite3")
    influx = fresh_influx(influxd)
    yield sqlite, influx
    influx.drop_database()
    influx.close()
    sqlite.close()


def event_for(hub: str, agent: int, boot: int, seq: int, sensor: int, received_ms: int) -> ReceivedEvent:
    """The agent clock advances with seq within a boot, like a real agent's."""
    ts = T0 + timedelta(milliseconds=(boot * 1000 + seq) * 10)
    state = (SensorState.MOTION, SensorState.NO_MOTION)[seq % 2]
    return ReceivedEvent(hub, AGENTS[agent], SENSORS[sensor], SensorKind.PIR, state, ts, seq, BOOTS[boot],
                         ts + timedelta(milliseconds=received_ms))


deliveries = st.tuples(
    st.integers(0, 2), st.integers(0, 1), st.integers(0, 30), st.integers(0, 1), st.integers(0, 5000)
)
change_specs = st.tuples(
    st.sampled_from(["a", "b"]), st.sampled_from([None, "d1", "d2"]), st.integers(0, 120),
    st.sampled_from(list(OccupancyState)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batches=st.lists(st.lists(deliveries, max_size=12), min_size=1, max_size=5),
    window=st.tuples(st.integers(0, 8000), st.integers(0, 8000)),
)
def test_event_writes_and_reads_agree(backends, batches, window) -> None:
    sqlite, influx = backends
    hub = f"agree{next(_hubs)}"
    for batch in batches:
        # the sensor is part of the event: a redelivery repeats it, so derive it from the key
        events = [event_for(hub, a, b, s, (a + s) % 2, r) for a, b, s, _sensor, r in batch]
        assert sqlite.add_events(events) == influx.add_events(events)
    assert sqlite.event_count(hub) == influx.event_count(hub)
    assert list(sqlite.events(hub)) == list(influx.events(hub))
    start, end = (T0 + timedelta(milliseconds=ms) for ms in sorted(window))
    assert list(sqlite.events(hub, start, end)) == list(influx.events(hub, start, end))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batches=st.lists(st.lists(change_specs, max_size=8), min_size=1, max_size=4),
    window=st.tuples(st.integers(0, 130), st.integers(0, 130)),
    zone=st.sampled_from([None, "a", "b"]),
)
def test_change_writes_and_reads_agree(backends, batches, window, zone) -> None:
    sqlite, influx = backends
    hub = f"agree{next(_hubs)}"
    for batch in batches:
        changes = [StateChange(hub, z, d, s, T0 + timedelta(seconds=sec), f"r{sec}") for z, d, sec, s in batch]
        sqlite.add_changes(changes)
        influx.add_changes(changes)
    start, end = (T0 + timedelta(seconds=s) for s in sorted(window))
    assert sqlite.changes(hub, start, end, zone) == influx.changes(hub, start, end, zone)
