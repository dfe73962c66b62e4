"""Engine inputs: liveness (status, heartbeats, staleness), duplicates, late and skewed events."""

from __future__ import annotations

import itertools

from collector.engine import Engine
from collector.model import ReceivedEvent
from hubsense.protocol import SensorKind, SensorState
from tests.collector.engine.helpers import FREE, OCCUPIED, UNKNOWN, Scenario, at, mini_hub


def _view(engine: Engine, zone: str, s: float):
    return next(v for v in engine.views(at(s)) if v.zone == zone)


def _ev(sensor: str, state: str, s: float, seq: int, *, received: float | None = None, boot: str = "b1",
        agent: str = "pi-a") -> ReceivedEvent:
    kind = SensorKind.DOOR if sensor.endswith("door") else SensorKind.PIR
    return ReceivedEvent("mini", agent, sensor, kind, SensorState(state), at(s), seq, boot,
                         at(s if received is None else received))


def test_zones_are_unknown_before_anything_is_heard() -> None:
    engine = Engine(mini_hub())
    assert {v.state for v in engine.views(at(0))} == {UNKNOWN}
    assert {v.reason for v in engine.views(at(0))} == {"no_data"}
    assert all(v.last_confirmed is None for v in engine.views(at(0)))


def test_an_event_alone_makes_its_agents_zones_known() -> None:
    engine = Engine(mini_hub())
    changes = engine.event(_ev("glade-pir1", "motion", 10, 1))
    assert (changes[-1].zone, changes[-1].state) == ("glade", OCCUPIED)
    assert _view(engine, "room", 10).state is UNKNOWN  # its door is on pi-b, never heard
    assert _view(engine, "room", 10).reason == "no_data"


def test_offline_status_makes_zones_unknown_at_receive_time_and_online_restores() -> None:
    engine = Engine(mini_hub())
    engine.status("pi-a", True, at(0))
    assert _view(engine, "glade", 1).state is FREE
    changes = engine.status("pi-a", False, at(50))
    assert [(c.zone, c.state, c.at, c.reason) for c in changes] == [("glade", UNKNOWN, at(50), "offline")]
    assert engine.advance(at(500)) == []
    assert _view(engine, "glade", 500).reason == "offline"
    assert _view(engine, "glade", 500).last_confirmed == at(0)  # the last sign of life
    changes = engine.status("pi-a", True, at(600))
    assert [(c.zone, c.state, c.at) for c in changes] == [("glade", FREE, at(600))]


def test_zone_with_agents_on_two_pis_needs_both_alive() -> None:
    engine = Engine(mini_hub())
    engine.status("pi-a", True, at(0))
    assert _view(engine, "room", 1).state is UNKNOWN
    engine.status("pi-b", True, at(2))
    assert _view(engine, "room", 3).state is FREE
    engine.status("pi-b", False, at(4))
    assert _view(engine, "room", 5).state is UNKNOWN
    assert _view(engine, "glade", 5).state is FREE


def test_stale_heartbeats_make_zones_unknown_at_the_deadline() -> None:
    engine = Engine(mini_hub(), stale_factor=3.0)
    engine.heartbeat("pi-a", at(0), 30, {"glade-pir1": SensorState.NO_MOTION})
    engine.heartbeat("pi-a", at(30), 30, {})
    assert engine.advance(at(119)) == []
    assert _view(engine, "glade", 119).state is FREE
    assert _view(engine, "glade", 120).state is UNKNOWN  # views judge staleness even before advance
    changes = engine.advance(at(125))
    assert [(c.zone, c.state, c.at, c.reason) for c in changes] == [("glade", UNKNOWN, at(120), "stale")]
    assert _view(engine, "glade", 125).last_confirmed == at(30)
    changes = engine.heartbeat("pi-a", at(200), 30, {})
    assert [(c.zone, c.state, c.at) for c in changes] == [("glade", FREE, at(200))]


def test_a_stale_agent_back_through_an_event_goes_straight_to_occupied() -> None:
    """Not a zero-length 'free' first at the same instant (its zones were re-evaluated before the
    event applied)."""
    engine = Engine(mini_hub(), stale_factor=3.0)
    engine.heartbeat("pi-a", at(0), 30, {"glade-pir1": SensorState.NO_MOTION})
    assert [c.state for c in engine.advance(at(200))] == [UNKNOWN]
    changes = engine.event(_ev("glade-pir1", "motion", 300, 1))
    assert [(c.zone, c.state, c.at, c.reason) for c in changes] == [("glade", OCCUPIED, at(300), "motion")]
    assert [(c.zone, c.state) for c in engine.advance(at(301))] == []


def test_a_first_event_and_a_repairing_heartbeat_after_staleness_skip_the_zero_length_free() -> None:
    engine = Engine(mini_hub())
    changes = engine.event(_ev("glade-pir1", "motion", 10, 1))
    assert [(c.zone, c.state, c.at) for c in changes if c.zone == "glade"] == [("glade", OCCUPIED, at(10))]
    engine = Engine(mini_hub(), stale_factor=3.0)
    engine.heartbeat("pi-a", at(0), 30, {"glade-pir1": SensorState.NO_MOTION})
    engine.advance(at(200))
    changes = engine.heartbeat("pi-a", at(300), 30, {"glade-pir1": SensorState.MOTION}, ts=at(300))
    assert [(c.zone, c.state, c.at) for c in changes if c.zone == "glade"] == [("glade", OCCUPIED, at(300))]


def test_heartbeat_interval_sets_the_stale_deadline() -> None:
    engine = Engine(mini_hub(), stale_factor=2.0)
    engine.heartbeat("pi-a", at(0), 300, {})
    assert engine.advance(at(599)) == []
    assert [c.at for c in engine.advance(at(601))] == [at(600)]


def test_heartbeat_states_repair_a_missed_event() -> None:
    engine = Engine(mini_hub())
    engine.heartbeat("pi-a", at(0), 30, {"glade-pir1": SensorState.NO_MOTION})
    changes = engine.heartbeat("pi-a", at(30), 30, {"glade-pir1": SensorState.MOTION})
    assert [(c.zone, c.state, c.at) for c in changes] == [("glade", OCCUPIED, at(30))]


def test_heartbeat_does_not_override_a_newer_event() -> None:
    engine = Engine(mini_hub())
    engine.status("pi-a", True, at(0))
    engine.event(_ev("glade-pir1", "motion", 40, 1))
    # a heartbeat produced (agent clock) before the event, received after it
    engine.heartbeat("pi-a", at(41), 30, {"glade-pir1": SensorState.NO_MOTION}, ts=at(35))
    assert _view(engine, "glade", 42).state is OCCUPIED
    assert engine.sensors["glade-pir1"].state is SensorState.MOTION


def test_duplicates_are_ignored() -> None:
    engine = Engine(mini_hub())
    engine.status("pi-a", True, at(0))
    first = engine.event(_ev("glade-pir1", "motion", 10, 1))
    engine.event(_ev("glade-pir1", "no_motion", 20, 2))
    assert first
    assert engine.event(_ev("glade-pir1", "motion", 10, 1, received=30)) == []
    assert engine.counters["duplicates"] == 1
    assert engine.sensors["glade-pir1"].state is SensorState.NO_MOTION
    # the same seq in a new boot is a new event
    assert engine.event(_ev("glade-pir1", "motion", 200, 1, boot="b2"))[-1].state is OCCUPIED


def test_late_event_does_not_move_live_state_backwards() -> None:
    engine = Engine(mini_hub())
    engine.status("pi-a", True, at(0))
    engine.event(_ev("glade-pir1", "motion", 10, 1))
    engine.event(_ev("glade-pir1", "no_motion", 100, 3))
    changes = engine.event(_ev("glade-pir1", "motion", 50, 2, received=101))
    assert changes == []
    assert engine.counters["late"] == 1
    assert engine.sensors["glade-pir1"].state is SensorState.NO_MOTION


def test_event_time_is_agent_clock_within_the_bound_else_receive_time() -> None:
    engine = Engine(mini_hub())
    engine.status("pi-a", True, at(0))
    near = engine.event(_ev("glade-pir1", "motion", 1000, 1, received=1000 + 120))
    assert near[-1].at == at(1000)
    engine.event(_ev("glade-pir1", "no_motion", 1010, 2, received=1010 + 120))
    far = engine.event(_ev("glade-pir1", "motion", 5000, 3, received=5000 - 3600))
    assert far == [] or far[-1].at == at(1400)
    assert engine.sensors["glade-pir1"].last_t == at(1400).timestamp()
    assert engine.health(at(1401))[0]["clock_offset_s"] == 3600


def test_changes_are_emitted_only_on_real_state_changes() -> None:
    sc = Scenario(mini_hub())
    for i in range(10):
        sc.ev("glade-pir1", "motion", 100 + 20 * i)
        sc.ev("glade-pir1", "no_motion", 105 + 20 * i)
    states = [s for s, _, _ in sc.history("glade")]
    assert all(a is not b for a, b in itertools.pairwise(states))


def test_unknown_or_foreign_sensor_is_counted_not_applied() -> None:
    engine = Engine(mini_hub())
    ev = ReceivedEvent("mini", "pi-b", "glade-pir1", SensorKind.PIR, SensorState.MOTION, at(1), 1, "b", at(1))
    assert engine.event(ev) == []
    assert engine.counters["foreign"] == 1


def test_heartbeat_without_ts_does_not_block_events_of_a_slow_agent_clock() -> None:
    engine = Engine(mini_hub())
    engine.status("pi-a", True, at(0))
    engine.event(_ev("glade-pir1", "motion", 100 - 120, 1, received=100))  # agent clock 2 min behind
    engine.heartbeat("pi-a", at(130), 30, {"glade-pir1": SensorState.MOTION})
    engine.event(_ev("glade-pir1", "no_motion", 140 - 120, 2, received=140))
    assert engine.counters["late"] == 0
    assert engine.sensors["glade-pir1"].state is SensorState.NO_MOTION
