"""The occupancy rules for open zones and rooms, driven through the engine (see docs/engine.md)."""

from __future__ import annotations

import pytest

from collector.engine.logic import DOOR_SETTLE_S, P_MOTION
from hubsense.config import Profile
from tests.collector.engine.helpers import FREE, OCCUPIED, UNKNOWN, Scenario, mini_hub

HOUR = 3600
FIXED = Profile(vacancy_timeout_s=300, learn=False)  # the rules alone, without learning


@pytest.fixture
def sc() -> Scenario:
    return Scenario(mini_hub())


@pytest.fixture
def fixed() -> Scenario:
    return Scenario(mini_hub(), profiles={"glade": FIXED, "room": FIXED})


def _burst(sc: Scenario, sensor: str, start: float, seconds: float = 5) -> None:
    sc.ev(sensor, "motion", start)
    sc.ev(sensor, "no_motion", start + seconds)


# -- open zones ------------------------------------------------------------------


def test_open_zone_is_free_when_its_agent_is_online_and_quiet(sc: Scenario) -> None:
    assert sc.state("glade", 10) is FREE
    assert sc.view("glade", 10).p_occupied < 0.1


def test_motion_holds_an_open_zone_for_the_pinned_timeout(fixed: Scenario) -> None:
    _burst(fixed, "glade-pir1", 100, 10)
    _burst(fixed, "glade-pir1", 140, 70)
    assert fixed.state("glade", 209 + 300) is OCCUPIED
    fixed.tick(1000)
    assert fixed.history("glade")[-2:] == [(OCCUPIED, 100, "motion"), (FREE, 510, "timeout")]


def test_two_pirs_of_one_zone_act_as_one_signal(fixed: Scenario) -> None:
    fixed.ev("glade-pir1", "motion", 100)
    fixed.ev("glade-pir2", "motion", 150)
    fixed.ev("glade-pir1", "no_motion", 160)
    assert fixed.state("glade", 160 + 3 * 300) is OCCUPIED  # pir2 still sees motion
    fixed.ev("glade-pir2", "no_motion", 2000)
    fixed.tick(5000)
    assert fixed.history("glade")[-1] == (FREE, 2300, "timeout")


def test_a_fresh_zone_starts_from_its_kind_default(sc: Scenario) -> None:
    """Before it has learned anything an open zone holds for about the kind's 120 s after a
    strong burst, and for a quarter of that after a lone short one (someone passing)."""
    _burst(sc, "glade-pir1", 100, 90)  # a long burst: someone is there
    sc.tick(1000)
    free_at = sc.history("glade")[-1][1]
    assert 190 + 90 <= free_at <= 190 + 130
    _burst(sc, "glade-pir1", 5000, 3)  # a lone blip in an idle zone
    sc.tick(6000)
    assert 5003 + 15 <= sc.history("glade")[-1][1] <= 5003 + 45


def test_a_timeout_that_falls_due_between_events_is_emitted_at_its_time(fixed: Scenario) -> None:
    _burst(fixed, "glade-pir1", 100, 100)
    fixed.alive = []  # stop the per-step heartbeats+advance for this check
    changes = fixed.engine.event(_event(fixed, "glade-pir1", "motion", 2000))
    assert [(c.state, c.at) for c in changes] == [(FREE, sc_at(500)), (OCCUPIED, sc_at(2000))]


def test_p_occupied_follows_the_state(sc: Scenario) -> None:
    sc.ev("glade-pir1", "motion", 100)
    first = sc.view("glade", 101).p_occupied  # the first motion in a free zone: a visit, or a passer-by?
    assert 0.5 < first < P_MOTION
    assert sc.view("glade", 100 + 61).p_occupied == P_MOTION  # a minute of motion: someone is there
    sc.ev("glade-pir1", "no_motion", 200)
    p_soon, p_late = sc.view("glade", 205).p_occupied, sc.view("glade", 205 + 3 * HOUR).p_occupied
    assert p_soon > 0.5 > p_late


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


def _meeting(sc: Scenario, start: float = 100) -> None:
    """People walk into a free room, close the door, move a little, then sit still."""
    sc.ev("room-door", "open", start - 10)
    _burst(sc, "room-pir", start, 10)
    sc.ev("room-door", "closed", start + 12)
    _burst(sc, "room-pir", start + 40, 5)
    _burst(sc, "room-pir", start + 100, 5)


def test_closed_room_with_motion_inside_stays_occupied_however_still(sc: Scenario) -> None:
    _meeting(sc)
    assert sc.state("room", 3 * HOUR) is OCCUPIED
    assert sc.view("room", 3 * HOUR).reason == "door_closed"


def test_leaving_and_shutting_the_door_frees_the_room_from_the_moment_it_shut(sc: Scenario) -> None:
    """The departure pattern that cost a full timeout before: open, walk out, shut within seconds."""
    _meeting(sc)
    sc.ev("room-door", "open", HOUR)
    _burst(sc, "room-pir", HOUR + 1, 4)  # passing the door
    sc.ev("room-door", "closed", HOUR + 6)
    assert sc.state("room", HOUR + 30) is OCCUPIED  # the window: motion would mean someone stayed
    sc.tick(HOUR + 120)
    assert sc.history("room")[-1] == (FREE, HOUR + 6, "door_exit")


def test_a_lone_blip_after_a_departure_does_not_lock_the_room(sc: Scenario) -> None:
    _meeting(sc)
    sc.ev("room-door", "open", HOUR)
    sc.ev("room-door", "closed", HOUR + 6)
    _burst(sc, "room-pir", HOUR + 20, 2)  # a sensor near the door, or the door itself
    sc.tick(3 * HOUR)
    state, t, reason = sc.history("room")[-1]
    assert (state, reason) == (FREE, "timeout")
    assert t <= HOUR + 22 + 600


def test_someone_staying_after_another_leaves_keeps_the_room_occupied(sc: Scenario) -> None:
    _meeting(sc)
    sc.ev("room-door", "open", HOUR)
    _burst(sc, "room-pir", HOUR + 1, 3)
    sc.ev("room-door", "closed", HOUR + 5)
    _burst(sc, "room-pir", HOUR + 30, 3)  # the one who stays moves...
    _burst(sc, "room-pir", HOUR + 70, 3)  # ...and again
    assert sc.state("room", 4 * HOUR) is OCCUPIED
    assert FREE not in [s for s, t, _ in sc.history("room") if t > 100]


def test_a_false_trigger_in_a_room_shut_long_ago_does_not_lock_it(sc: Scenario) -> None:
    sc.ev("room-door", "open", 100)
    sc.ev("room-door", "closed", 105)  # nobody came in
    sc.tick(3 * HOUR)
    _burst(sc, "room-pir", 3 * HOUR, 2)  # a false trigger at night
    sc.tick(6 * HOUR)
    assert sc.history("room")[-1][0] is FREE


def test_door_opens_and_no_motion_follows_frees_the_room_after_the_exit_window(sc: Scenario) -> None:
    _meeting(sc)
    sc.ev("room-door", "open", HOUR)
    _burst(sc, "room-pir", HOUR + 1, 5)  # people passing the door: within the settle time
    sc.tick(2 * HOUR)
    assert sc.history("room")[-1][0::2] == (FREE, "door_exit")
    assert sc.history("room")[-1][1] <= HOUR + 90


def test_door_open_and_motion_continuing_keeps_the_room_occupied(fixed: Scenario) -> None:
    _meeting(fixed)
    fixed.ev("room-door", "open", HOUR)
    _burst(fixed, "room-pir", HOUR + 30, 10)  # someone still inside, moving
    assert fixed.state("room", HOUR + 300) is OCCUPIED
    fixed.tick(2 * HOUR)
    assert fixed.history("room")[-1] == (FREE, HOUR + 40 + 300, "timeout")


def test_motion_only_at_the_door_settle_time_does_not_confirm(sc: Scenario) -> None:
    _burst(sc, "room-pir", 100, 3)
    sc.ev("room-door", "closed", 104)
    _burst(sc, "room-pir", 104 + DOOR_SETTLE_S - 1, 1)  # the door swinging
    assert sc.state("room", 2 * HOUR) is FREE


def test_closed_room_without_any_motion_for_max_occupied_is_a_phantom(sc: Scenario) -> None:
    _meeting(sc)
    sc.tick(25 * HOUR)
    assert sc.history("room")[-1] == (FREE, 205 + 24 * HOUR, "max_occupied")


def test_a_room_learns_how_long_its_occupants_sit_still(sc: Scenario) -> None:
    """Stillness that ended with motion inside (not the door) raises the phantom cap."""
    _meeting(sc)
    _burst(sc, "room-pir", 205 + 20 * HOUR, 5)  # twenty hours still, then someone moved
    sc.ev("room-door", "open", 21 * HOUR)
    sc.ev("room-door", "closed", 21 * HOUR + 5)  # they leave
    _meeting(sc, 22 * HOUR)
    sc.tick(48 * HOUR)  # 26 hours still: beyond the default 24 h, within twice the longest seen
    assert sc.state("room", 48 * HOUR) is OCCUPIED


def test_room_without_door_events_behaves_like_an_open_zone(fixed: Scenario) -> None:
    _burst(fixed, "room-pir", 100, 100)
    fixed.tick(HOUR)
    assert fixed.history("room")[-1] == (FREE, 500, "timeout")


# -- phantom occupancy --------------------------------------------------------------


def test_pir_stuck_at_motion_beyond_max_occupied_makes_the_zone_unknown(sc: Scenario) -> None:
    sc.ev("glade-pir1", "motion", 100)
    sc.tick(9 * HOUR)
    assert sc.history("glade")[-1] == (UNKNOWN, 100 + 8 * HOUR, "sensor_stuck")
    assert sc.view("glade", 9 * HOUR).stuck_sensors == ["glade-pir1"]
    assert sc.view("glade", 9 * HOUR).p_occupied is None
    sc.ev("glade-pir1", "no_motion", 10 * HOUR)
    assert sc.history("glade")[-1] == (OCCUPIED, 10 * HOUR, "motion")
    assert sc.view("glade", 10 * HOUR).stuck_sensors == []


def test_a_focus_zone_never_holds_for_less_than_its_configured_bound(stockholm) -> None:
    sc = Scenario(stockholm)
    _burst(sc, "skogsglantan-pir", 100, 3)  # someone walks in and sits down
    sc.tick(HOUR)
    assert sc.history("skogsglantan")[-1][0::2] == (FREE, "timeout")
    assert sc.history("skogsglantan")[-1][1] >= 103 + 600
