"""The occupancy rules for open zones and rooms, driven through the engine."""

from __future__ import annotations

import pytest

from collector.engine.logic import DOOR_SETTLE_S
from hubsense.config import Profile
from tests.collector.engine.helpers import FREE, OCCUPIED, UNKNOWN, Scenario, mini_hub

HOUR = 3600


@pytest.fixture
def sc() -> Scenario:
    return Scenario(mini_hub())


# -- open zones ------------------------------------------------------------------


def test_open_zone_is_free_when_its_agent_is_online_and_quiet(sc: Scenario) -> None:
    assert sc.state("glade", 10) is FREE


def test_sustained_motion_keeps_an_open_zone_occupied_for_the_full_timeout(sc: Scenario) -> None:
    sc.ev("glade-pir1", "motion", 100)
    sc.ev("glade-pir1", "no_motion", 110)
    sc.ev("glade-pir1", "motion", 140)
    sc.ev("glade-pir1", "no_motion", 150)
    assert sc.state("glade", 149 + 300) is OCCUPIED
    sc.tick(1000)
    assert sc.history("glade")[-2:] == [(OCCUPIED, 100, "motion"), (FREE, 450, "timeout")]


def test_a_lone_brief_trigger_is_weak_evidence_with_a_short_timeout(sc: Scenario) -> None:
    sc.ev("glade-pir1", "motion", 100)
    sc.ev("glade-pir1", "no_motion", 105)
    sc.tick(1000)
    assert sc.history("glade")[-1] == (FREE, 105 + 0.2 * 300, "timeout")


def test_a_long_motion_is_strong_evidence(sc: Scenario) -> None:
    sc.ev("glade-pir1", "motion", 100)
    sc.ev("glade-pir1", "no_motion", 200)
    sc.tick(1000)
    assert sc.history("glade")[-1] == (FREE, 500, "timeout")


def test_two_pirs_of_one_zone_act_as_one_signal(sc: Scenario) -> None:
    sc.ev("glade-pir1", "motion", 100)
    sc.ev("glade-pir2", "motion", 150)
    sc.ev("glade-pir1", "no_motion", 160)
    assert sc.state("glade", 160 + 3 * 300) is OCCUPIED  # pir2 still sees motion
    sc.ev("glade-pir2", "no_motion", 2000)
    sc.tick(5000)
    assert sc.history("glade")[-1] == (FREE, 2300, "timeout")


def test_zone_profile_timeouts_differ(stockholm) -> None:
    sc = Scenario(stockholm)
    for zone in ("rastplatsen", "skogsglantan"):
        sc.ev(f"{zone}-pir", "motion", 100)
        sc.ev(f"{zone}-pir", "no_motion", 200)
    sc.tick(3 * HOUR)
    assert sc.history("rastplatsen")[-1] == (FREE, 500, "timeout")
    assert sc.history("skogsglantan")[-1] == (FREE, 2000, "timeout")


def test_profile_override_changes_the_timeout(stockholm) -> None:
    sc = Scenario(stockholm, profiles={"skogsglantan": Profile(vacancy_timeout_s=1200)})
    sc.ev("skogsglantan-pir", "motion", 100)
    sc.ev("skogsglantan-pir", "no_motion", 200)
    sc.tick(3 * HOUR)
    assert sc.history("skogsglantan")[-1] == (FREE, 1400, "timeout")


def test_a_timeout_that_falls_due_between_events_is_emitted_at_its_time(sc: Scenario) -> None:
    sc.ev("glade-pir1", "motion", 100)
    sc.ev("glade-pir1", "no_motion", 200)
    sc.alive = []  # stop the per-step heartbeats+advance for this check
    changes = sc.engine.event(_event(sc, "glade-pir1", "motion", 2000))
    assert [(c.state, c.at) for c in changes] == [(FREE, sc_at(500)), (OCCUPIED, sc_at(2000))]


def _event(sc: Scenario, sensor: str, state: str, s: float):
    from collector.model import ReceivedEvent
    from hubsense.protocol import SensorKind, SensorState
    agent, kind = sc.agent_of[sensor]
    sc.seq[agent] += 1
    return ReceivedEvent("mini", agent, sensor, SensorKind(kind), SensorState(state), sc_at(s), sc.seq[agent],
                         "b1", sc_at(s))


def sc_at(s: float):
    from tests.collector.engine.helpers import at
    return at(s)


# -- rooms --------------------------------------------------------------------------


def _meeting(sc: Scenario) -> None:
    """Two people walk in, close the door, move a little, then sit still."""
    sc.ev("room-pir", "motion", 100)
    sc.ev("room-door", "closed", 110)
    sc.ev("room-pir", "no_motion", 115)
    sc.ev("room-pir", "motion", 200)
    sc.ev("room-pir", "no_motion", 205)


def test_closed_room_with_motion_inside_stays_occupied_however_still(sc: Scenario) -> None:
    _meeting(sc)
    assert sc.state("room", 3 * HOUR) is OCCUPIED
    assert sc.view("room", 3 * HOUR).reason == "door_closed"


def test_door_opens_and_no_motion_follows_frees_the_room_after_the_exit_window(sc: Scenario) -> None:
    _meeting(sc)
    sc.ev("room-door", "open", HOUR)
    sc.ev("room-pir", "motion", HOUR + 1)  # people passing the door: within the settle time
    sc.ev("room-pir", "no_motion", HOUR + 6)
    sc.tick(2 * HOUR)
    assert sc.history("room")[-1] == (FREE, HOUR + 90, "door_exit")


def test_door_open_and_motion_continuing_keeps_the_room_occupied(sc: Scenario) -> None:
    _meeting(sc)
    sc.ev("room-door", "open", HOUR)
    sc.ev("room-pir", "motion", HOUR + 30)  # someone still inside, moving
    sc.ev("room-pir", "no_motion", HOUR + 40)
    assert sc.state("room", HOUR + 300) is OCCUPIED
    sc.tick(2 * HOUR)
    assert sc.history("room")[-1] == (FREE, HOUR + 40 + 600, "timeout")


def test_motion_after_the_door_closes_again_means_still_occupied(sc: Scenario) -> None:
    _meeting(sc)
    # one person leaves: door open, passes, door closed; the other moves later
    sc.ev("room-door", "open", HOUR)
    sc.ev("room-pir", "motion", HOUR + 1)
    sc.ev("room-door", "closed", HOUR + 5)
    sc.ev("room-pir", "no_motion", HOUR + 7)
    assert sc.state("room", HOUR + 300) is OCCUPIED
    sc.ev("room-pir", "motion", HOUR + 400)
    sc.ev("room-pir", "no_motion", HOUR + 405)
    assert sc.state("room", 4 * HOUR) is OCCUPIED
    assert FREE not in [s for s, t, _ in sc.history("room") if t > 100]


def test_door_closed_without_motion_inside_is_not_occupied_forever(sc: Scenario) -> None:
    """The last person leaves and pulls the door shut behind them."""
    sc.ev("room-pir", "motion", 100)
    sc.ev("room-pir", "no_motion", 160)
    sc.ev("room-door", "open", 170)
    sc.ev("room-door", "closed", 172)
    sc.tick(HOUR)
    assert sc.history("room")[-1][0] is FREE
    assert sc.history("room")[-1][1] <= 172 + 600


def test_a_second_group_entering_a_free_room_is_detected(sc: Scenario) -> None:
    _meeting(sc)
    sc.ev("room-door", "open", HOUR)
    sc.tick(HOUR + 200)
    assert sc.state("room", HOUR + 200) is FREE
    sc.ev("room-pir", "motion", HOUR + 300)
    sc.ev("room-door", "closed", HOUR + 310)
    sc.ev("room-pir", "no_motion", HOUR + 312)
    sc.ev("room-pir", "motion", HOUR + 330)
    sc.ev("room-pir", "no_motion", HOUR + 332)
    assert sc.state("room", 3 * HOUR) is OCCUPIED


def test_motion_only_at_the_door_settle_time_does_not_confirm(sc: Scenario) -> None:
    sc.ev("room-pir", "motion", 100)
    sc.ev("room-pir", "no_motion", 103)
    sc.ev("room-door", "closed", 104)
    sc.ev("room-pir", "motion", 104 + DOOR_SETTLE_S - 1)  # the door swinging
    sc.ev("room-pir", "no_motion", 104 + DOOR_SETTLE_S)
    assert sc.state("room", 2 * HOUR) is FREE


def test_closed_room_without_any_motion_for_max_occupied_is_a_phantom(sc: Scenario) -> None:
    _meeting(sc)
    sc.tick(5 * HOUR)
    assert sc.history("room")[-1] == (FREE, 205 + 4 * HOUR, "max_occupied")


def test_room_without_door_events_behaves_like_an_open_zone(sc: Scenario) -> None:
    sc.ev("room-pir", "motion", 100)
    sc.ev("room-pir", "no_motion", 200)
    sc.tick(HOUR)
    assert sc.history("room")[-1] == (FREE, 800, "timeout")


# -- phantom occupancy --------------------------------------------------------------


def test_pir_stuck_at_motion_beyond_max_occupied_makes_the_zone_unknown(sc: Scenario) -> None:
    sc.ev("glade-pir1", "motion", 100)
    sc.tick(9 * HOUR)
    assert sc.history("glade")[-1] == (UNKNOWN, 100 + 8 * HOUR, "sensor_stuck")
    assert sc.view("glade", 9 * HOUR).stuck_sensors == ["glade-pir1"]
    sc.ev("glade-pir1", "no_motion", 10 * HOUR)
    assert sc.history("glade")[-1] == (OCCUPIED, 10 * HOUR, "motion")
    assert sc.view("glade", 10 * HOUR).stuck_sensors == []


def test_a_lone_trigger_in_a_quiet_zone_holds_it_for_the_full_timeout(stockholm) -> None:
    sc = Scenario(stockholm)
    sc.ev("skogsglantan-pir", "motion", 100)  # someone walks in and sits down
    sc.ev("skogsglantan-pir", "no_motion", 110)
    sc.tick(HOUR)
    assert sc.history("skogsglantan")[-1] == (FREE, 110 + 1800, "timeout")
