import numpy as np

from collector.stats.opening import Mask, opening_intervals
from hubsense.spans import merge_spans
from tests.collector.stats._hubs import local, make_hub


def test_opening_hours_follow_local_time_across_dst():
    hub = make_hub()
    spans = opening_intervals(hub, local(2026, 3, 28).timestamp(), local(2026, 3, 31).timestamp())
    assert spans.tolist() == [
        [local(2026, 3, d, 8).timestamp(), local(2026, 3, d, 17).timestamp()] for d in (28, 29, 30)
    ]
    assert np.all(spans[:, 1] - spans[:, 0] == 9 * 3600)


def test_overlapping_rules_merge_and_weekdays_apply():
    hub = make_hub(hours=[{"days": ["mon"], "open": "08:00", "close": "12:00"},
                          {"days": ["mon"], "open": "11:00", "close": "15:00"},
                          {"days": ["tue"], "open": "10:00", "close": "11:00"}])
    spans = opening_intervals(hub, local(2026, 3, 30).timestamp(), local(2026, 4, 6).timestamp())
    assert spans.tolist() == [[local(2026, 3, 30, 8).timestamp(), local(2026, 3, 30, 15).timestamp()],
                              [local(2026, 3, 31, 10).timestamp(), local(2026, 3, 31, 11).timestamp()]]


def test_intervals_are_clipped_to_the_period():
    hub = make_hub()
    spans = opening_intervals(hub, local(2026, 6, 1, 9).timestamp(), local(2026, 6, 1, 10).timestamp())
    assert (spans[0, 1] - spans[0, 0]) == 3600


def test_merge_and_mask_cumulative():
    merged = np.array(merge_spans([(5.0, 7.0), (0.0, 2.0), (1.0, 3.0), (7.0, 8.0)]))
    assert merged.tolist() == [[0, 3], [5, 8]]
    mask = Mask.of(merged)
    assert mask.cum(np.array([-1.0, 1.0, 4.0, 6.0, 9.0])).tolist() == [0, 1, 3, 4, 6]
    assert Mask.of(np.zeros((0, 2))).lengths(np.array([0.0, 10.0])).tolist() == [0]
