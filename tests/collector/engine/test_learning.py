"""Each zone learns its own hold from its gaps (collector/engine/learning.py)."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from collector.engine.engine import Engine
from collector.engine.learning import FIRST, GapModel
from hubsense.config import Profile
from tests.collector.engine.helpers import FREE, Scenario, mini_hub

HOUR = 3600


def _visits(model: GapModel, rng: random.Random, visits: int, inside_s: float, between_s: float) -> None:
    """``visits`` visits of a few bursts each: gaps around ``inside_s`` inside, ``between_s`` after."""
    for _ in range(visits):
        for _ in range(rng.randint(3, 8)):
            model.add(rng.lognormvariate(0, 0.5) * inside_s, 0)
        model.add(rng.lognormvariate(0, 0.5) * between_s, 0)


def test_without_data_the_hold_is_the_kind_default() -> None:
    model = GapModel(120, 15, 1800)
    assert 100 <= model.hold(0) <= 130
    assert model.hold(FIRST) < model.hold(0) / 2  # a lone short burst: someone passing


def test_a_zone_where_people_sit_still_learns_a_longer_hold_within_ten_visits() -> None:
    model = GapModel(120, 15, 1800)
    _visits(model, random.Random(1), 10, inside_s=300, between_s=4 * HOUR)
    assert model.hold(0) > 400


def test_a_busy_coffee_point_learns_a_shorter_hold_within_ten_visits() -> None:
    model = GapModel(120, 15, 1800)
    _visits(model, random.Random(2), 10, inside_s=8, between_s=900)
    assert model.hold(0) < 60


def test_the_hold_stays_inside_its_bounds() -> None:
    model = GapModel(120, 60, 200)
    _visits(model, random.Random(3), 30, inside_s=2, between_s=HOUR)
    assert model.hold(0) == 60
    model = GapModel(120, 60, 200)
    _visits(model, random.Random(4), 30, inside_s=900, between_s=10 * HOUR)
    assert model.hold(0) == 200


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(min_value=0.5, max_value=1e6), min_size=1, max_size=80), st.floats(0.5, 1e5))
def test_p_occupied_is_a_probability_that_only_falls_with_quiet_time(gaps: list[float], quiet: float) -> None:
    model = GapModel(120, 15, 1800)
    for g in gaps:
        model.add(g, 0)
    p1, p2 = model.p_occupied(0, quiet), model.p_occupied(0, quiet * 2)
    assert 0 <= p2 <= p1 * (1 + 1e-6) + 1e-12 and p1 <= 1 + 1e-12
    hold = model.hold(0)
    if 15 < hold < 1800:  # inside the bounds the hold is where the probability crosses one half
        assert model.p_occupied(0, hold * 0.9) >= 0.5 - 1e-9 >= model.p_occupied(0, hold * 1.1) - 1e-9


def _day(sc: Scenario, start: float, visits: int, gap_s: float) -> None:
    """Visits to the glade: a few bursts ``gap_s`` apart, then an hour of nothing."""
    t = start
    for _ in range(visits):
        for _ in range(4):
            sc.ev("glade-pir1", "motion", t)
            sc.ev("glade-pir1", "no_motion", t + 5)
            t += 5 + gap_s
        t += HOUR


def test_the_engine_learns_per_zone_and_states_where_each_value_comes_from() -> None:
    sc = Scenario(mini_hub())
    before = sc.engine.parameters("glade")
    assert before["vacancy_timeout_s"]["source"] == "default"
    _day(sc, 100, 12, gap_s=400)  # people sit still for minutes between movements
    after = sc.engine.parameters("glade")
    assert after["vacancy_timeout_s"]["source"] == "learned"
    assert after["vacancy_timeout_s"]["value"] > 400 > before["vacancy_timeout_s"]["value"]
    pinned = Scenario(mini_hub(), profiles={"glade": Profile(vacancy_timeout_s=200)})
    _day(pinned, 100, 12, gap_s=400)
    assert pinned.engine.parameters("glade")["vacancy_timeout_s"] == {"value": 200, "source": "configured"}


def test_what_was_learned_survives_a_restart() -> None:
    sc = Scenario(mini_hub())
    _day(sc, 100, 12, gap_s=400)
    sc.ev("room-door", "closed", 60000)
    restarted = Engine(mini_hub())
    restarted.restore(sc.engine.learned())
    assert restarted.parameters("glade") == sc.engine.parameters("glade")
    assert restarted.parameters("room") == sc.engine.parameters("room")


def test_learning_can_be_switched_off() -> None:
    sc = Scenario(mini_hub(), profiles={"glade": Profile(learn=False)})
    _day(sc, 100, 12, gap_s=400)
    assert sc.engine.parameters("glade")["vacancy_timeout_s"] == {"value": 120, "source": "default"}
    assert sc.state("glade", 100 + 12 * (HOUR + 4 * 405) + 10) is FREE
