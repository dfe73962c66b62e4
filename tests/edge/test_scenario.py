from __future__ import annotations

import itertools
import random
from collections import defaultdict
from datetime import date

from edge.scenario import Timing, next_open_day, plan_day
from hubsense.config import Hub
from hubsense.protocol import SensorKind, SensorState

MONDAY = date(2026, 11, 30)
SUNDAY = date(2026, 11, 29)


def _by_sensor(changes) -> dict[str, list]:
    out = defaultdict(list)
    for c in changes:
        out[c.sensor].append(c)
    return out


def test_same_seed_same_day(stockholm: Hub) -> None:
    a = plan_day(stockholm, MONDAY, random.Random(7))
    assert a == plan_day(stockholm, MONDAY, random.Random(7))
    assert a != plan_day(stockholm, MONDAY, random.Random(8))
    assert a == sorted(a)


def test_states_alternate_and_fit_each_kind(stockholm: Hub) -> None:
    kinds = {s: a_s[1].kind for s, a_s in stockholm.sensors().items()}
    for sensor, changes in _by_sensor(plan_day(stockholm, MONDAY, random.Random(1))).items():
        states = [c.state for c in changes]
        if kinds[sensor] is SensorKind.PIR:
            assert states[0] is SensorState.MOTION and states[-1] is SensorState.NO_MOTION
            assert all(x is not y for x, y in itertools.pairwise(states)), sensor
        else:
            assert states[0] is SensorState.OPEN and states[-1] is SensorState.CLOSED
            assert all(x is not y for x, y in itertools.pairwise(states)), sensor


def test_every_zone_kind_is_visited_within_the_day(stockholm: Hub) -> None:
    changes = plan_day(stockholm, MONDAY, random.Random(3))
    sensors = {c.sensor for c in changes}
    assert {"oasen-door", "motesrum-ekorren-door", "lagerelden-pir"} <= sensors
    assert sum(s.startswith("desk-") for s in sensors) >= 3
    assert changes[0].at > 6 * 3600 and changes[-1].at < 20 * 3600  # open 07-19 plus stragglers


def test_pulses_respect_minimum_durations_for_speed(stockholm: Hub) -> None:
    timing = Timing.for_speed(600)  # 0.4 s real = 240 s simulated
    for changes in _by_sensor(plan_day(stockholm, MONDAY, random.Random(2), timing)).values():
        gaps = [b.at - a.at for a, b in itertools.pairwise(changes)]
        assert all(g >= 240 - 1e-6 for g in gaps)


def test_busier_at_ten_than_at_seven(stockholm: Hub) -> None:
    early = late = 0
    for seed in range(5):
        for c in plan_day(stockholm, MONDAY, random.Random(seed)):
            if c.state in (SensorState.MOTION, SensorState.OPEN):
                early += 7 * 3600 <= c.at < 8 * 3600
                late += 10 * 3600 <= c.at < 11 * 3600
    assert late > early


def test_closed_day(stockholm: Hub) -> None:
    assert plan_day(stockholm, SUNDAY, random.Random(1)) == []
    assert next_open_day(stockholm, SUNDAY) == MONDAY
