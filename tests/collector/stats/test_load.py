import uuid
from datetime import timedelta

import numpy as np
import pytest

from collector.stats.history import History
from collector.stats.load import load_history
from collector.store.influx import InfluxStore
from collector.store.sqlite import SqliteStore
from tests.collector.stats._hubs import FREE, OCC, UNK, change, local, make_hub

HUB = make_hub(desks=2)


@pytest.fixture
def store(tmp_path):
    s = SqliteStore(tmp_path / "db.sqlite3")
    yield s
    s.close()


def test_columnar_sqlite_read_matches_store_changes(store):
    rng = np.random.default_rng(1)
    base = local(2026, 3, 1)
    tracks = [("z", None), ("d", "k0"), ("d", "k1"), ("x", None)]  # x: not in the config, ignored
    changes = [change([FREE, OCC, UNK][rng.integers(3)], base + timedelta(seconds=int(rng.integers(0, 30 * 86400))),
                      *tracks[rng.integers(len(tracks))]) for _ in range(500)]
    changes.append(change(OCC, base + timedelta(days=1, microseconds=123)))
    store.add_changes(changes)
    for zone in (None, "d"):
        start, end = base + timedelta(days=5), base + timedelta(days=20)
        fast = load_history(store, HUB, start, end, end, zone)
        slow = History.from_changes(store.changes("h", start, end, zone), start.timestamp(), end.timestamp(),
                                    end.timestamp())
        assert ("x", None) not in fast.series
        assert fast.series.keys() == slow.series.keys() - {("x", None)}
        assert fast.size > 100
        for key, (at, code) in fast.series.items():
            at, code = slow.series[key]
            np.testing.assert_allclose(fast.series[key][0], at, rtol=0, atol=1e-6)  # microseconds
            assert fast.series[key][1].tolist() == code.tolist()


def test_empty_store_gives_empty_history(store):
    h = load_history(store, HUB, local(2026, 3, 1), local(2026, 3, 2), local(2026, 3, 2))
    assert h.size == 0 and set(h.track(("z", None)).s.tolist()) == {2}


def test_other_backends_give_the_same_history(store, influxd):
    base = local(2026, 3, 1)
    changes = [change(FREE, base), change(OCC, base + timedelta(hours=30)), change(UNK, base + timedelta(hours=50)),
               change(OCC, base + timedelta(hours=1), "d", "k1"), change(FREE, base + timedelta(hours=70), "d", "k1")]
    influx = InfluxStore(influxd.url, f"stats_{uuid.uuid4().hex[:12]}")
    try:
        for s in (store, influx):
            s.add_changes(changes)
        start, end = base + timedelta(days=1), base + timedelta(days=4)
        fast, slow = load_history(store, HUB, start, end, end), load_history(influx, HUB, start, end, end)
        assert fast.series.keys() == slow.series.keys() == {("z", None), ("d", "k1")}
        for key, (at, code) in fast.series.items():
            np.testing.assert_allclose(slow.series[key][0], at, rtol=0, atol=1e-6)
            assert slow.series[key][1].tolist() == code.tolist()
    finally:
        influx.drop_database()
        influx.close()


def test_door_openings_fast_path_matches_events(store):
    from collector.model import ReceivedEvent
    from collector.stats.doors import door_openings
    from collector.stats.load import load_door_openings
    from hubsense.protocol import SensorKind, SensorState

    hub = make_hub(rooms=2)
    base = local(2026, 3, 2, 9)
    states = [SensorState.OPEN, SensorState.CLOSED]
    events = [ReceivedEvent("h", "a", f"r{i % 2}-door", SensorKind.DOOR, states[i % 3 == 0],
                            base + timedelta(minutes=7 * i), i, "b", base + timedelta(minutes=7 * i, seconds=1))
              for i in range(40)]
    events.append(ReceivedEvent("h", "a", "z-pir", SensorKind.PIR, SensorState.MOTION, base, 99, "b", base))
    events.append(ReceivedEvent("other", "a", "r0-door", SensorKind.DOOR, SensorState.OPEN, base, 100, "b", base))
    store.add_events(events)
    start, end = base, base + timedelta(hours=3)
    fast = load_door_openings(store, hub, start, end)
    slow = door_openings(hub, store.events("h", start - timedelta(hours=1), end + timedelta(hours=1)))
    assert fast.keys() == slow.keys() == {"r0", "r1"}
    for zone in fast:
        assert len(fast[zone]) > 5
        np.testing.assert_allclose(fast[zone], np.sort(slow[zone]), atol=1e-6)
