from __future__ import annotations

from collector.engine.clock import MAX_AHEAD_S, MAX_SKEW_S, event_time


def test_agent_clock_is_trusted_within_the_bound() -> None:
    assert event_time(1000.0, 1000.0 + MAX_SKEW_S) == 1000.0
    assert event_time(1000.0 + MAX_AHEAD_S, 1000.0) == 1000.0 + MAX_AHEAD_S


def test_receive_time_is_used_beyond_the_bound() -> None:
    assert event_time(1000.0, 1000.0 + MAX_SKEW_S + 1) == 1000.0 + MAX_SKEW_S + 1
    assert event_time(10**9, 1000.0) == 1000.0


def test_an_event_time_is_never_later_than_its_receive_time_plus_the_tolerance() -> None:
    """Issue 19, defect 7: ts = now + 290 s used to be trusted (within the 300 s skew bound)."""
    for ahead in (MAX_AHEAD_S + 0.001, 60.0, 290.0, MAX_SKEW_S):
        assert event_time(1000.0 + ahead, 1000.0) == 1000.0
