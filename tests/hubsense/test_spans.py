"""hubsense.spans.merge_spans: the one interval merge (opening hours, bookings, simulated visits)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hubsense.spans import merge_spans


def test_overlapping_and_touching_spans_join_and_empty_ones_go() -> None:
    assert merge_spans([(5, 7), (0, 2), (1, 3), (7, 8), (4, 4), (9, 8)]) == [(0, 3), (5, 8)]
    assert merge_spans([(0, 10), (2, 3)]) == [(0, 10)]  # a span inside another
    assert merge_spans([]) == []


def test_datetimes_merge_like_numbers() -> None:
    t = datetime(2026, 3, 2, 9, tzinfo=UTC)
    h = timedelta(hours=1)
    assert merge_spans([(t + 2 * h, t + 3 * h), (t, t + h), (t + h / 2, t + 2 * h)]) == [(t, t + 3 * h)]
