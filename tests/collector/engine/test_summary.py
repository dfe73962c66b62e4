from __future__ import annotations

from collector.engine.summary import summarize
from collector.model import StateChange
from tests.collector.engine.helpers import FREE, OCCUPIED, UNKNOWN, at


def test_summary_totals_and_sessions() -> None:
    changes = [
        StateChange("h", "z", None, FREE, at(100), "no_motion"),
        StateChange("h", "z", "d1", OCCUPIED, at(150), "motion"),  # desks are not counted
        StateChange("h", "z", None, OCCUPIED, at(200), "motion"),
        StateChange("h", "z", None, FREE, at(500), "timeout"),
        StateChange("h", "z", None, OCCUPIED, at(600), "motion"),
        StateChange("h", "z", None, UNKNOWN, at(700), "offline"),
    ]
    assert summarize(changes, at(0), at(1000)) == {
        ("h", "z"): {"occupied_s": 400.0, "free_s": 200.0, "unknown_s": 400.0, "sessions": 2}}


def test_summary_clips_to_the_window() -> None:
    changes = [StateChange("h", "z", None, OCCUPIED, at(-100), "motion"),
               StateChange("h", "z", None, FREE, at(50), "timeout")]
    assert summarize(changes, at(0), at(100))[("h", "z")] == {
        "occupied_s": 50.0, "free_s": 50.0, "unknown_s": 0.0, "sessions": 1}
