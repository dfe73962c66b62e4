from datetime import datetime

import numpy as np
import pytest

from collector.stats.history import History
from collector.stats.utilisation import utilisation
from tests.collector.stats._hubs import FREE, OCC, TZ, UNK, change, local, make_hub


def run(hub, changes, start, end, bucket="day"):
    return utilisation(hub, History.from_changes(changes, start.timestamp(), end.timestamp(), end.timestamp()), bucket)


def test_occupied_0900_to_1030_on_a_0800_1700_day_is_16_7_percent():
    hub = make_hub()
    changes = [change(FREE, local(2026, 6, 2, 0)), change(OCC, local(2026, 6, 2, 9)),
               change(FREE, local(2026, 6, 2, 10, 30))]
    z = run(hub, changes, local(2026, 6, 2), local(2026, 6, 3)).zones[0]
    assert z.utilisation[0] == pytest.approx(1.5 / 9)
    assert round(100 * z.utilisation[0], 1) == 16.7
    assert z.data_quality[0] == 1.0


@pytest.mark.parametrize("day", [(2026, 3, 29), (2026, 10, 25)])
def test_dst_days_keep_local_hours(day):
    hub = make_hub()
    changes = [change(FREE, local(*day, 0)), change(OCC, local(*day, 9)), change(FREE, local(*day, 10, 30))]
    nxt = (day[0], day[1], day[2] + 1)
    report = run(hub, changes, local(*day), local(*nxt), "hour")
    z = report.zones[0]
    assert len(report.edges) - 1 == (23 if day[1] == 3 else 25)
    assert z.open_s.sum() == 9 * 3600
    local_hours = [datetime.fromtimestamp(t, TZ).hour for t in report.edges[:-1]]
    occupied = dict(zip(local_hours, z.occupied_s, strict=False))
    assert occupied[9] == 3600 and occupied[10] == 1800 and occupied[8] == 0
    assert z.occupied_s.sum() / z.known_s.sum() == pytest.approx(1.5 / 9)


def test_interval_across_closing_and_midnight_counts_only_open_time():
    hub = make_hub()
    # occupied from 16:00 on Monday to 09:00 on Tuesday: 1 h + 1 h of open time
    changes = [change(FREE, local(2026, 5, 31)), change(OCC, local(2026, 6, 1, 16)), change(FREE, local(2026, 6, 2, 9))]
    z = run(hub, changes, local(2026, 6, 1), local(2026, 6, 3)).zones[0]
    assert z.occupied_s.tolist() == [3600, 3600]
    assert z.utilisation == pytest.approx([1 / 9, 1 / 9])


def test_unknown_time_is_excluded_and_reported():
    hub = make_hub()
    changes = [change(FREE, local(2026, 6, 2, 8)), change(UNK, local(2026, 6, 2, 11)),
               change(OCC, local(2026, 6, 2, 14)), change(FREE, local(2026, 6, 2, 15))]
    z = run(hub, changes, local(2026, 6, 2), local(2026, 6, 3)).zones[0]
    assert z.known_s[0] == 6 * 3600
    assert z.utilisation[0] == pytest.approx(1 / 6)
    assert z.data_quality[0] == pytest.approx(6 / 9)


def test_no_history_is_unknown_not_free():
    z = run(make_hub(), [], local(2026, 6, 2), local(2026, 6, 3)).zones[0]
    assert np.isnan(z.utilisation[0]) and z.data_quality[0] == 0


def test_state_before_start_carries_in_and_closed_days_are_null():
    hub = make_hub(hours=[{"days": ["mon"], "open": "08:00", "close": "17:00"}])
    changes = [change(OCC, local(2026, 5, 1))]  # occupied since long before the period
    report = run(hub, changes, local(2026, 6, 1), local(2026, 6, 3))  # Monday, Tuesday
    z = report.zones[0]
    assert z.utilisation[0] == 1.0
    assert np.isnan(z.utilisation[1]) and np.isnan(z.data_quality[1])


def test_desk_area_average_and_peak_share():
    hub = make_hub(desks=4)
    d = "d"
    day = (2026, 6, 2)
    changes = [change(FREE, local(*day, 0), d, f"k{i}") for i in range(4)]
    changes += [change(OCC, local(*day, 9), d, "k0"), change(FREE, local(*day, 12), d, "k0"),
                change(OCC, local(*day, 10), d, "k1"), change(FREE, local(*day, 11), d, "k1"),
                change(UNK, local(*day, 8), d, "k3")]  # k3 unknown all open time
    report = run(hub, changes, local(*day), local(2026, 6, 3))
    desks = report.zones[1]
    assert desks.desks == 4
    # desk-seconds in use 3 h + 1 h over 3 known desks x 9 h
    assert desks.utilisation[0] == pytest.approx(4 / 27)
    assert desks.data_quality[0] == pytest.approx(3 / 4)
    assert desks.peak_desks.tolist() == [2]
    assert desks.peak_desk_share[0] == 0.5


def test_hub_total_pools_zones():
    hub = make_hub(desks=2)
    day = (2026, 6, 2)
    changes = [change(OCC, local(*day, 8)), change(FREE, local(*day, 8), "d", "k0"),
               change(OCC, local(*day, 8), "d", "k1")]
    report = run(hub, changes, local(*day), local(2026, 6, 3))
    assert report.hub.utilisation[0] == pytest.approx((1 + 0.5) / 2)
    assert report.hub.data_quality[0] == 1.0
