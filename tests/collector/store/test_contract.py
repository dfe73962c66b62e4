"""The Store contract: SQLite and InfluxDB give the same answers to the same writes."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from collector.model import AgentHealth, LearnedState, OccupancyState, StateChange
from collector.store.base import ColumnReads, KeepsLearned, ReportsStatus, Store, change_columns, event_times
from collector.store.spool import SpooledStore
from collector.store.sqlite import SqliteStore
from hubsense.protocol import SensorKind, SensorState
from tests.collector.store.helpers import T0, change, event, health

FREE, OCC, UNK = OccupancyState.FREE, OccupancyState.OCCUPIED, OccupancyState.UNKNOWN
OPEN, CLOSED = SensorState.OPEN, SensorState.CLOSED


def test_is_a_store(store: Store) -> None:
    assert isinstance(store, Store)


def test_add_events_is_idempotent_and_counts_new(store: Store) -> None:
    assert store.add_events([event(1), event(2), event(2)]) == 2  # duplicate inside the batch
    assert store.add_events([event(2), event(3)]) == 1  # redelivery across batches
    assert store.add_events([event(1, boot="b2")]) == 1  # same seq after a reboot is a new event
    assert store.add_events([event(1, agent="pi-2")]) == 1
    assert store.add_events([]) == 0
    assert store.event_count() == 5
    assert store.event_count("hq") == 5
    assert store.event_count("elsewhere") == 0


def test_redelivery_with_a_later_receive_time_keeps_the_first(store: Store) -> None:
    first = event(7, received_s=10)
    assert store.add_events([first, event(7, received_s=11)]) == 1
    assert store.add_events([event(7, received_s=99)]) == 0
    assert list(store.events()) == [first]


def test_events_round_trip_exactly_in_receive_order(store: Store) -> None:
    written = [
        event(5, received_s=3.0),
        event(1, agent="pi-2", received_s=1.0),
        event(2, received_s=2.0, state=SensorState.NO_MOTION),
        event(9, agent="pi-1", received_s=1.0),  # tie on receive time: ordered by agent
        event(3, hub="other", agent="pi-9", received_s=1.5),
    ]
    store.add_events(written)
    got = list(store.events())
    assert got == sorted(written, key=lambda e: (e.received, e.agent, e.boot, e.seq))
    assert got[0].ts == written[3].ts  # microseconds survive
    assert got[0].ts.tzinfo is not None and got[0].ts.utcoffset() == timedelta(0)


def test_events_filter_by_hub_and_half_open_range(store: Store) -> None:
    store.add_events([event(i, received_s=i) for i in range(10)])
    store.add_events([event(i, hub="other", agent="pi-9", received_s=i) for i in range(10)])
    got = list(store.events("hq", T0 + timedelta(seconds=3), T0 + timedelta(seconds=6)))
    assert [(e.hub, e.seq) for e in got] == [("hq", 3), ("hq", 4), ("hq", 5)]
    assert len(list(store.events(start=T0 + timedelta(seconds=8)))) == 4
    assert len(list(store.events(end=T0 + timedelta(seconds=1)))) == 2


def test_changes_start_with_the_state_at_start(store: Store) -> None:
    store.add_changes([
        change(0, "lagerelden", OCC),
        change(5, "lagerelden", FREE, reason="vacancy timeout"),
        change(1, "oasen", OCC),
        change(2, "desks", OCC, desk="d1"),
        change(3, "desks", FREE, desk="d1"),
        change(12, "lagerelden", OCC),
        change(12, "desks", OCC),
        change(12, "desks", OCC, desk="d2"),
        change(30, "oasen", FREE),  # after end
        change(1, "x", OCC, hub="other"),
    ])
    got = store.changes("hq", T0 + timedelta(minutes=10), T0 + timedelta(minutes=30))
    assert [(c.zone, c.desk, c.state, (c.at - T0) / timedelta(minutes=1)) for c in got] == [
        ("oasen", None, OCC, 1),
        ("desks", "d1", FREE, 3),
        ("lagerelden", None, FREE, 5),
        ("desks", None, OCC, 12),
        ("desks", "d2", OCC, 12),
        ("lagerelden", None, OCC, 12),
    ]
    assert got[2].reason == "vacancy timeout"
    assert all(c.hub == "hq" for c in got)


def test_changes_of_one_zone(store: Store) -> None:
    store.add_changes([change(0, "a", OCC), change(1, "b", OCC), change(2, "a", FREE), change(3, "a", OCC)])
    got = store.changes("hq", T0 + timedelta(minutes=2.5), T0 + timedelta(hours=1), zone="a")
    assert [(c.zone, c.state) for c in got] == [("a", FREE), ("a", OCC)]
    assert store.changes("hq", T0, T0 + timedelta(hours=1), zone="nope") == []


def test_changes_are_idempotent_and_one_state_per_instant(store: Store) -> None:
    store.add_changes([change(0, "a", OCC), change(1, "a", FREE)])
    store.add_changes([change(0, "a", OCC), change(1, "a", FREE)])
    store.add_changes([change(1, "a", OCC, reason="corrected")])
    got = store.changes("hq", T0, T0 + timedelta(hours=1))
    assert [(c.state, c.reason) for c in got] == [(OCC, ""), (OCC, "corrected")]


def test_latest_health_per_agent(store: Store) -> None:
    store.add_health([
        health(0, "pi-1", boot="b1", clock_offset_s=0.5, queue_depth=3, dropped=1),
        health(5, "pi-1", online=False, boot="b1", clock_offset_s=-0.25),
        health(2, "pi-2", boot="b7", queue_depth=40),
        health(9, "pi-3", hub="other"),
    ])
    store.add_health([health(2, "pi-2", boot="b7", queue_depth=40)])  # redelivered
    assert store.latest_health("hq") == [
        AgentHealth("hq", "pi-1", False, T0 + timedelta(minutes=5), "b1", -0.25, 0, 0),
        AgentHealth("hq", "pi-2", True, T0 + timedelta(minutes=2), "b7", 0.0, 40, 0),
    ]
    assert store.latest_health("nowhere") == []


def test_prune_reports_every_kind(store: Store) -> None:
    store.add_events([event(1)])
    assert set(store.prune(T0)) == {"events", "changes", "health"}
    assert store.event_count() == 1  # nothing is older than its retention at T0


def test_health_history_in_time_order(store: Store) -> None:
    records = [
        health(3, "pi-1", interval_s=30.0),
        health(1, "pi-2", online=False),
        health(2, "pi-1", hub="other", clock_offset_s=1e-05),
        health(1, "pi-1", interval_s=15.5),
    ]
    store.add_health(records)
    assert list(store.health()) == sorted(records, key=lambda h: (h.at, h.hub, h.agent))
    got = list(store.health("hq", T0 + timedelta(minutes=1), T0 + timedelta(minutes=3)))
    assert [(h.agent, h.interval_s) for h in got] == [("pi-1", 15.5), ("pi-2", 0.0)]
    assert list(store.health("hq", start=T0 + timedelta(minutes=3))) == [records[0]]


def test_a_new_store_answers_empty(store: Store) -> None:
    assert store.event_count() == 0
    assert list(store.events("hq")) == []
    assert store.changes("hq", T0, T0 + timedelta(days=1)) == []
    assert store.latest_health("hq") == []
    assert list(store.health()) == []


# --- the statistics' column reads (collector/store/base.py: ColumnReads, change_columns, event_times) ---

def _minutes(columns) -> tuple[list[float], list[int]]:
    at, code = columns
    return [round((t - T0.timestamp()) / 60, 6) for t in at.tolist()], code.tolist()


def test_change_columns_are_the_changes_of_the_asked_tracks(store: Store) -> None:
    store.add_changes([
        change(0, "lagerelden", OCC), change(5, "lagerelden", FREE), change(12, "lagerelden", OCC),
        change(2, "desks", OCC, desk="d1"), change(3, "desks", FREE, desk="d1"), change(14.5, "desks", OCC, desk="d1"),
        change(11, "desks", OCC, desk="d2"),
        change(1, "oasen", UNK), change(30, "oasen", FREE),  # the second after end
        change(1, "not-asked", OCC), change(12, "lagerelden", FREE, hub="other"),
    ])
    start, end = T0 + timedelta(minutes=10), T0 + timedelta(minutes=30)
    tracks = [("lagerelden", None), ("desks", "d1"), ("desks", "d2"), ("desks", None), ("oasen", None)]
    got = change_columns(store, "hq", tracks, start, end)
    assert {k: _minutes(v) for k, v in got.items()} == {  # codes: free 0, occupied 1, unknown 2
        ("lagerelden", None): ([5, 12], [0, 1]),  # the latest change before start, then those in range
        ("desks", "d1"): ([3, 14.5], [0, 1]),
        ("desks", "d2"): ([11], [1]),
        ("oasen", None): ([1], [2]),  # ("desks", None) has no change: left out
    }
    assert all(at.dtype == np.float64 and code.dtype == np.int8 for at, code in got.values())
    one_zone = change_columns(store, "hq", [("desks", "d1"), ("desks", "d2")], start, end)
    assert {k: _minutes(v) for k, v in one_zone.items()} == {k: _minutes(got[k]) for k in one_zone}
    assert change_columns(store, "nowhere", tracks, start, end) == {}


def test_change_columns_keep_microseconds(store: Store) -> None:
    at = T0 + timedelta(minutes=1, microseconds=123)
    store.add_changes([StateChange("hq", "a", None, OCC, at)])
    ((times, _),) = change_columns(store, "hq", [("a", None)], T0, T0 + timedelta(hours=1)).values()
    assert abs(times[0] - at.timestamp()) < 1e-6


def test_event_times_per_sensor_by_kind_state_and_receive_time(store: Store) -> None:
    store.add_events([
        event(1, sensor="door-1", state=OPEN), event(2, sensor="door-1", state=CLOSED),
        event(5, sensor="door-1", state=OPEN, received_s=4),  # received before the later one
        event(7, sensor="door-1", state=OPEN, received_s=4.5),
        event(3, sensor="door-2", state=OPEN), event(4, sensor="pir-1"),
        event(6, sensor="door-3", state=OPEN, received_s=60),  # received after end
        event(1, hub="other", agent="pi-9", sensor="door-1", state=OPEN),
    ])
    got = event_times(store, "hq", SensorKind.DOOR, SensorState.OPEN, T0, T0 + timedelta(seconds=10))
    assert {s: [round(t - T0.timestamp(), 6) for t in v.tolist()] for s, v in got.items()} == {
        "door-1": [1.000123, 5.000123, 7.000123],  # agent clock, sorted
        "door-2": [3.000123],
    }
    assert event_times(store, "hq", SensorKind.PIR, SensorState.MOTION, T0, T0 + timedelta(seconds=10)).keys() == {
        "pir-1"}


# --- what the engines learned (KeepsLearned) ---------------------------------------------------------

LEARNED = {"oasen": {"gaps": {"n": 3, "inc": 1.01, "counts": [[0.0, 1.5e-3], [2.0, 0.0]], "pooled": [2.0, 1.5e-3]},
                     "room": {"silent_from_occupied": [2.55, 0.45], "stillness": [[1.7e9, 900.5]], "burst_hold": 0.0}},
           "lägerelden": {"gaps": None}}


def test_learned_values_round_trip_and_the_last_save_wins(store: Store) -> None:
    assert isinstance(store, KeepsLearned)
    assert store.load_learned("hq") is None
    first = LearnedState("hq", T0 + timedelta(microseconds=7), LEARNED)
    store.save_learned(first)
    store.save_learned(LearnedState("other", T0, {"x": {"gaps": None}}))
    assert store.load_learned("hq") == first  # exactly: floats, nesting, non-ASCII ids, microseconds
    later = LearnedState("hq", T0 + timedelta(hours=30), {"oasen": {"gaps": None}})  # another day, one zone
    store.save_learned(later)
    assert store.load_learned("hq") == later
    again = LearnedState("hq", T0 + timedelta(hours=30, minutes=5), LEARNED)  # the same day once more
    store.save_learned(again)
    assert store.load_learned("hq") == again
    assert store.load_learned("other") == LearnedState("other", T0, {"x": {"gaps": None}})


def test_capabilities_are_declared_not_probed(store: Store) -> None:
    assert isinstance(store, KeepsLearned)
    if isinstance(store, SqliteStore):
        assert isinstance(store, ColumnReads) and not isinstance(store, ReportsStatus)
    if isinstance(store, SpooledStore):
        assert isinstance(store, ColumnReads) and isinstance(store, ReportsStatus)
        assert set(store.status()) == {"depth", "max", "high_water", "store_available", "last_error"}
