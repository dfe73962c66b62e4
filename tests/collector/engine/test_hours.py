from __future__ import annotations

from datetime import UTC, datetime

from collector.engine.hours import opening_seconds


def _t(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def test_a_weekday_counts_its_opening_hours_only(stockholm) -> None:
    # Monday 2026-11-30, Stockholm UTC+1: open 07-19 local = 06-18 UTC
    assert opening_seconds(stockholm, _t(2026, 11, 30, 0), _t(2026, 12, 1, 0)) == 12 * 3600
    assert opening_seconds(stockholm, _t(2026, 11, 30, 17), _t(2026, 11, 30, 20)) == 3600


def test_saturday_short_day_and_sunday_closed(stockholm) -> None:
    assert opening_seconds(stockholm, _t(2026, 12, 5, 0), _t(2026, 12, 7, 0)) == 5 * 3600


def test_dst_day_uses_local_time(stockholm) -> None:
    # 2026-03-30 (Monday after the change to CEST, UTC+2): 07-19 local = 05-17 UTC
    assert opening_seconds(stockholm, _t(2026, 3, 30, 5), _t(2026, 3, 30, 6)) == 3600
    assert opening_seconds(stockholm, _t(2026, 3, 30, 17), _t(2026, 3, 30, 18)) == 0


def test_empty_and_reversed_ranges(stockholm) -> None:
    assert opening_seconds(stockholm, _t(2026, 11, 30, 9), _t(2026, 11, 30, 9)) == 0
    assert opening_seconds(stockholm, _t(2026, 11, 30, 10), _t(2026, 11, 30, 9)) == 0
