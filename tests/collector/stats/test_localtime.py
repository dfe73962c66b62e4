from datetime import UTC, datetime

import numpy as np

from collector.stats.localtime import bucket_edges, hour_of_week, local_week, utc_offsets
from tests.collector.stats._hubs import TZ, local


def ts(*args: int) -> float:
    return local(*args).timestamp()


def test_offsets_switch_at_the_dst_instants():
    spring = datetime(2026, 3, 29, 1, 0, tzinfo=UTC).timestamp()  # 02:00 CET -> 03:00 CEST
    autumn = datetime(2026, 10, 25, 1, 0, tzinfo=UTC).timestamp()  # 03:00 CEST -> 02:00 CET
    t = np.array([spring - 1, spring, autumn - 1, autumn])
    assert utc_offsets(TZ, t).tolist() == [3600, 7200, 7200, 3600]


def test_local_days_have_23_and_25_hours_on_dst_days():
    for day, hours in [((2026, 3, 29), 23), ((2026, 10, 25), 25), ((2026, 6, 1), 24)]:
        nxt = (day[0], day[1], day[2] + 1)
        edges = bucket_edges(TZ, ts(*day), ts(*nxt), "hour")
        assert len(edges) - 1 == hours
        assert np.all(np.diff(edges) == 3600)


def test_hour_of_week_is_local_and_monday_first():
    # 2026-03-30 is a Monday; 09:00 local (CEST) is 07:00 UTC
    assert hour_of_week(TZ, np.array([ts(2026, 3, 30, 9)])).tolist() == [9]
    assert hour_of_week(TZ, np.array([ts(2026, 3, 29, 23, 59)])).tolist() == [6 * 24 + 23]
    # the repeated autumn hour maps to Sunday 02 both times
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC).timestamp()
    assert hour_of_week(TZ, np.array([first, first + 3600])).tolist() == [6 * 24 + 2] * 2


def test_day_week_month_edges_are_local_midnights():
    start, end = ts(2026, 3, 1), ts(2026, 5, 1)
    days = bucket_edges(TZ, start, end, "day")
    assert len(days) - 1 == 61
    assert days[29] - days[28] == 23 * 3600  # 2026-03-29
    months = bucket_edges(TZ, start, end, "month")
    assert months.tolist() == [start, ts(2026, 4, 1), end]
    weeks = bucket_edges(TZ, ts(2026, 3, 4), ts(2026, 3, 20), "week")
    assert weeks.tolist() == [ts(2026, 3, 4), ts(2026, 3, 9), ts(2026, 3, 16), ts(2026, 3, 20)]


def test_local_week_changes_on_monday():
    w = local_week(TZ, np.array([ts(2026, 3, 29, 23), ts(2026, 3, 30, 0, 1)]))
    assert w[1] == w[0] + 1


def test_hour_edges_in_a_half_hour_offset_zone():
    from datetime import datetime as dt
    from zoneinfo import ZoneInfo

    adelaide = ZoneInfo("Australia/Adelaide")  # +10:30 in summer, +09:30 from 2026-04-05 03:00
    start = dt(2026, 4, 5, tzinfo=adelaide).timestamp()
    edges = bucket_edges(adelaide, start, start + 86400 + 3600, "hour")
    assert len(edges) - 1 == 25
    assert all(dt.fromtimestamp(t, adelaide).minute == 0 for t in edges)
