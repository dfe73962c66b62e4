from __future__ import annotations

from collector.engine.clock import MAX_SKEW_S, event_time


def test_agent_clock_is_trusted_within_the_bound() -> None:
    assert event_time(1000.0, 1000.0 + MAX_SKEW_S) == 1000.0
    assert event_time(1000.0, 1000.0 - MAX_SKEW_S) == 1000.0


def test_receive_time_is_used_beyond_the_bound() -> None:
    assert event_time(1000.0, 1000.0 + MAX_SKEW_S + 1) == 1000.0 + MAX_SKEW_S + 1
    assert event_time(10**9, 1000.0) == 1000.0
