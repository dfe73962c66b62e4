"""bench/accuracy.py: the harness converts data sets faithfully, and the default engine beats the
simple baselines on the data sets the repository carries (UCI and the synthetic coworking hub)."""

from __future__ import annotations

import bisect
import itertools

import pytest

from bench import accuracy, accuracy_data, synthetic_day
from collector.engine import replay_timeline
from collector.model import OccupancyState
from hubsense.protocol import SensorState


def test_uci_conversion_emits_edges_and_one_recording_per_session() -> None:
    ds = accuracy_data.uci(limit=400)
    assert ds.events and all(st in (SensorState.MOTION, SensorState.NO_MOTION) for _, _, st in ds.events)
    for sensor in ("s6-pir", "s7-pir"):  # edges alternate, starting with motion
        states = [st for _, s, st in ds.events if s == sensor]
        assert all(a is not b for a, b in itertools.pairwise(states))
    msgs = ds.messages()
    kinds = [type(m).__name__ for m, _ in msgs]
    assert kinds.count("AgentStatus") == 2 * len(ds.recordings)
    assert all(r == m.ts for m, r in msgs if type(m).__name__ == "SensorEvent")
    assert ds.grid() == ds.times


@pytest.fixture(scope="module")
def results() -> dict:
    return accuracy.evaluate([accuracy_data.uci(), *synthetic_day.datasets(days=2)])


@pytest.mark.parametrize("name", ["uci-office", "synthetic-coworking"])
def test_default_engine_beats_every_baseline(results: dict, name: str) -> None:
    by = results[name]
    engine = accuracy.acc(by["engine (default)"])
    assert engine >= max(accuracy.acc(by[b]) for b in accuracy.BASELINES if b in by)
    assert by["engine (default)"].unknown == 0
    assert by["engine (default)"].brier < 0.1


def test_uci_accuracy_is_at_least_what_the_readme_reports(results: dict) -> None:
    assert results["uci-office"]["engine (default)"].accuracy >= 0.984


def test_a_closed_room_left_empty_turns_free_at_the_door_and_a_blip_never_locks_it() -> None:
    ds = synthetic_day.datasets(days=2)[0]
    timeline = replay_timeline(ds.hub, ds.messages())
    closes = sorted(t for t, s, st in ds.events if s == "meeting-door" and st is SensorState.CLOSED)
    changes = [c for c in timeline if c.zone == "meeting" and c.desk is None]
    ats = [c.at.timestamp() for c in changes]
    checked = 0
    for _a, b in ds.truth["meeting"]:
        after = [t for t in closes if b - 10 <= t <= b + 10]  # the last one out shut the door
        if not after:
            continue
        close = after[0]
        i = bisect.bisect_right(ats, close + 95) - 1  # within the door window (90 s)
        state = changes[i]
        inside_again = any(x < close + 95 for x, _ in ds.truth["meeting"] if x > b)
        if not inside_again:
            checked += 1
            assert state.state is OccupancyState.FREE, (state, close)
    assert checked >= 3
    locked = [c for c in changes if c.reason == "door_closed" and c.state is OccupancyState.OCCUPIED]
    for c in locked:  # every lock began while someone really was inside
        t = c.at.timestamp()
        assert any(x - 60 <= t <= y for x, y in ds.truth["meeting"]), c


def test_leave_one_out_chooses_on_the_other_units_and_keeps_the_default_unless_a_pin_beats_it() -> None:
    counts = [{"z": [[8, 10], [1, 10], [5, 10]]},  # 0: the default engine
              {"z": [[8, 10], [9, 10], [5, 10]]},  # 1: a pin
              {"z": [[9, 10], [0, 10], [5, 10]]}]  # 2: another pin
    assert accuracy._choose(counts, "z", held_out=0) == 1  # units 1 and 2: 14/20 beats 6/20 and 5/20
    assert accuracy._choose(counts, "z", held_out=1) == 2  # units 0 and 2: 14/20 beats 13/20
    tie = [{"z": [[5, 10], [5, 10]]}, {"z": [[5, 10], [5, 10]]}]
    assert accuracy._choose(tie, "z", held_out=0) == 0


def test_leave_one_out_tuned_predictions_cover_every_recording_and_day() -> None:
    group = accuracy_data.split_recordings(accuracy_data.uci(limit=3000))
    runs = accuracy.loo_tuned(group)
    assert [ds.name for ds, _, _ in runs] == [ds.name for ds in group]
    for ds, times, pred in runs:
        assert set(pred) == {"room"} and len(pred["room"][0]) == len(times) == len(ds.grid())
    one_day = synthetic_day.datasets(days=1)[0]
    assert accuracy.loo_tuned([one_day]) is None  # nothing to leave out
    days = accuracy.loo_tuned(synthetic_day.datasets(days=2))
    assert len(days) == 1 and accuracy.score(*days[0]).n > 0
