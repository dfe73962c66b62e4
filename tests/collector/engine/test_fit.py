"""Supervised tuning, pure: candidates within the kind's bounds, scoring that skips unknown time,
and a pin chosen only where it beats the zone's own learning."""

from __future__ import annotations

import itertools

from collector.engine import Engine
from collector.engine.fit import Labelled, candidates, fit, score
from collector.engine.profiles import resolve
from collector.model import ReceivedEvent, StateChange
from hubsense.protocol import SensorKind, SensorState
from tests.collector.engine.helpers import FREE, OCCUPIED, UNKNOWN, at, mini_hub

HUB = mini_hub()


def test_candidates_are_log_spaced_within_the_kinds_bounds() -> None:
    grid = candidates(resolve(HUB.zone("glade")))
    assert grid[0] == 15 and grid[-1] == 1800 and len(grid) == 16
    ratios = {round(b / a, 2) for a, b in itertools.pairwise(grid)}
    assert max(ratios) - min(ratios) < 0.02


def test_unknown_time_is_not_scored() -> None:
    changes = [StateChange("mini", "glade", None, FREE, at(0)), StateChange("mini", "glade", None, OCCUPIED, at(100)),
               StateChange("mini", "glade", None, UNKNOWN, at(200)), StateChange("mini", "glade", "x", OCCUPIED, at(0))]
    times = [at(s).timestamp() for s in (-10, 50, 150, 250)]
    s = score(changes, "glade", times, [(at(40).timestamp(), at(160).timestamp())])
    assert (s.correct, s.scored) == (1, 2)  # 50 s: free, truth occupied; 150 s: right; -10 and 250 s unknown


def _replay(profiles):
    engine = Engine(HUB, profiles)
    out = engine.status("pi-a", True, at(0))
    seq = 0
    for visit in range(20):
        for k, state in enumerate(["motion", "no_motion"] * 3):
            seq += 1
            t = 600 * visit + 40 * k
            out += engine.advance(at(t)) + engine.heartbeat("pi-a", at(t), 3600, {})
            out += engine.event(ReceivedEvent("mini", "pi-a", "glade-pir1", SensorKind.PIR, SensorState(state),
                                              at(t), seq, "b", at(t)))
    return out + engine.advance(at(12000))


def test_a_pin_is_chosen_where_it_beats_learning_and_the_truth_decides() -> None:
    truth = {"glade": [(at(600 * v).timestamp(), at(600 * v + 200).timestamp()) for v in range(20)]}
    times = [at(s).timestamp() for s in range(5, 12000, 10)]
    fits = fit(HUB, [Labelled(_replay, times, truth)])
    assert list(fits) == ["glade"]  # only zones with truth
    f = fits["glade"]
    assert f.tuned.accuracy > f.default.accuracy and f.best is not None and 30 <= f.best <= 80  # about the 40 s pauses
    assert f.by_value[f.best].accuracy == f.tuned.accuracy
