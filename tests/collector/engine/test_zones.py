"""Desk areas: each desk from its own PIR, the zone from its desks."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hubsense.config import Profile
from tests.collector.engine.helpers import FREE, OCCUPIED, UNKNOWN, Scenario, mini_hub

FIXED = {"desks": Profile(vacancy_timeout_s=900)}


def test_desks_are_free_or_occupied_on_their_own_and_the_zone_follows() -> None:
    sc = Scenario(mini_hub(), FIXED)
    view = sc.view("desks", 10)
    assert view.state is FREE and view.free_desks == 2
    sc.ev("d1-pir", "motion", 100)
    sc.ev("d1-pir", "no_motion", 200)
    view = sc.view("desks", 300)
    assert view.state is OCCUPIED
    assert [(d.id, d.state) for d in view.desks] == [("d1", OCCUPIED), ("d2", FREE)]
    assert view.free_desks == 1
    sc.tick(5000)
    assert sc.history("desks", "d1")[-2:] == [(OCCUPIED, 100, "motion"), (FREE, 200 + 900, "timeout")]
    assert sc.history("desks")[-1] == (FREE, 1100, "all_desks_free")


def test_zone_is_occupied_while_any_desk_is() -> None:
    sc = Scenario(mini_hub(), FIXED)
    sc.ev("d1-pir", "motion", 100)
    sc.ev("d1-pir", "no_motion", 200)
    sc.ev("d2-pir", "motion", 900)
    sc.ev("d2-pir", "no_motion", 1000)
    sc.tick(5000)
    assert sc.history("desks") == [(FREE, 0, "all_desks_free"), (OCCUPIED, 100, "desk_occupied"),
                                   (FREE, 1900, "all_desks_free")]


def test_stuck_desk_sensor_makes_that_desk_unknown() -> None:
    sc = Scenario(mini_hub())
    sc.ev("d1-pir", "motion", 100)
    view = sc.view("desks", 100 + 7 * 3600)
    assert [(d.id, d.state) for d in view.desks] == [("d1", UNKNOWN), ("d2", FREE)]
    assert view.state is UNKNOWN and view.reason == "sensor_stuck"
    sc.ev("d2-pir", "motion", 8 * 3600)
    assert sc.view("desks", 8 * 3600).state is OCCUPIED


def test_offline_desk_agent_makes_every_desk_unknown() -> None:
    sc = Scenario(mini_hub())
    sc.ev("d1-pir", "motion", 100)
    sc.alive.remove("pi-b")
    sc.changes += sc.engine.status("pi-b", False, sc_at(150))
    view = sc.view("desks", 200)
    assert view.state is UNKNOWN and view.reason == "offline"
    assert {d.state for d in view.desks} == {UNKNOWN}
    assert view.free_desks == 0


def sc_at(s: float):
    from tests.collector.engine.helpers import at
    return at(s)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["d1-pir", "d2-pir"]), st.booleans(), st.integers(1, 2000)),
                max_size=30))
def test_desk_area_state_always_agrees_with_its_desks(steps) -> None:
    sc = Scenario(mini_hub())
    t = 0
    for sensor, motion, gap in steps:
        t += gap
        sc.ev(sensor, "motion" if motion else "no_motion", t)
        for probe in (t, t + 1000):
            view = sc.view("desks", probe)
            desks = [d.state for d in view.desks]
            expected = OCCUPIED if OCCUPIED in desks else UNKNOWN if UNKNOWN in desks else FREE
            assert view.state is expected, (view, probe)
        t += 1000
