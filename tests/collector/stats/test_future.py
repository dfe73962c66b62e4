"""Time after "now" is not observed: it is neither open, known nor occupied, in every report.

The hub opens 07:00-18:00; the zone has been occupied since 02:30 (a demo left running over
night, a sensor stuck, or simply the state at the last change).  Reports are read at several
times of day with ``now`` passed in."""

import numpy as np
import pytest

from collector.stats.forecast import forecast
from collector.stats.heatmap import heatmap
from collector.stats.history import History
from collector.stats.sessions import daily_peaks, sessions
from collector.stats.utilisation import utilisation
from tests.collector.stats._hubs import ALL_DAYS, FREE, OCC, change, local, make_hub

HUB = make_hub(hours=[{"days": ALL_DAYS, "open": "07:00", "close": "18:00"}], desks=2)
DAY = (2026, 12, 1)
CHANGES = [change(FREE, local(*DAY, 0)), change(OCC, local(*DAY, 2, 30)),
           change(FREE, local(*DAY, 0), "d", "k0"), change(OCC, local(*DAY, 2, 30), "d", "k0"),
           change(FREE, local(*DAY, 0), "d", "k1")]
# (hour, minute) of "now" -> open hours observed today
TIMES = [((3, 18), 0.0), ((7, 0), 0.0), ((9, 30), 2.5), ((12, 0), 5.0), ((17, 59), 10 + 59 / 60), ((22, 0), 11.0)]


def history(start, end, now):
    return History.from_changes(CHANGES, start.timestamp(), end.timestamp(), now.timestamp())


@pytest.mark.parametrize(("hm", "open_h"), TIMES)
def test_utilisation_today_and_tomorrow(hm, open_h):
    now = local(*DAY, *hm)
    report = utilisation(HUB, history(local(*DAY), local(2026, 12, 3), now), "day")
    z = report.zones[0]
    assert z.open_s.tolist() == pytest.approx([open_h * 3600, 0])
    assert z.known_s.tolist() == pytest.approx([open_h * 3600, 0])
    assert z.occupied_s.tolist() == pytest.approx([open_h * 3600, 0])
    if open_h:
        assert z.utilisation[0] == 1.0 and z.data_quality[0] == 1.0
    else:  # nothing open has happened yet today: no figure, not 100 % and not "data quality 1.0"
        assert np.isnan(z.utilisation[0]) and np.isnan(z.data_quality[0])
    assert np.isnan(z.utilisation[1]) and np.isnan(z.data_quality[1])  # tomorrow
    assert np.isnan(report.hub.utilisation[1]) and np.isnan(report.hub.data_quality[1])
    desks = report.zones[1]  # one desk of two in use since 02:30
    assert desks.occupied_s[0] == pytest.approx(open_h * 3600 / 2) and desks.occupied_s[1] == 0
    assert desks.peak_desks.tolist() == [1 if open_h else -1, -1]


@pytest.mark.parametrize(("hm", "open_h"), TIMES)
def test_hourly_buckets_after_now_are_null(hm, open_h):
    now = local(*DAY, *hm)
    z = utilisation(HUB, history(local(*DAY), local(2026, 12, 2), now), "hour").zones[0]
    assert z.open_s.sum() == pytest.approx(open_h * 3600)
    after = np.arange(24) >= hm[0] + 1  # buckets that start after now
    assert np.isnan(z.utilisation[after]).all() and (z.known_s[after] == 0).all()


def test_a_week_in_the_future_has_an_empty_heatmap():
    now = local(*DAY, 3, 18)
    maps = heatmap(HUB, history(local(2027, 1, 4), local(2027, 1, 11), now))
    for m in maps:
        assert np.isnan(m.share).all() and (m.open_s == 0).all() and (m.occupied_s == 0).all()


@pytest.mark.parametrize(("hm", "open_h"), TIMES)
def test_heatmap_counts_today_only_up_to_now(hm, open_h):
    now = local(*DAY, *hm)
    z = heatmap(HUB, history(local(*DAY), local(2026, 12, 8), now))[0]
    tuesday = 1
    assert z.open_s[tuesday].sum() == pytest.approx(open_h * 3600)
    assert z.open_s[2:].sum() == 0 and np.isnan(z.share[2:]).all()  # the rest of the week has not happened


@pytest.mark.parametrize(("hm", "open_h"), TIMES)
def test_a_session_still_running_lasts_until_now(hm, open_h):
    now = local(*DAY, *hm)
    rows = sessions(HUB, history(local(*DAY), local(2026, 12, 2), now), HUB.zones)
    zone = rows[0]
    running = now.timestamp() - local(*DAY, 2, 30).timestamp()
    assert zone.count == 1 and zone.median_s == pytest.approx(running)
    assert zone.data_quality == (1.0 if open_h else None)


@pytest.mark.parametrize(("hm", "open_h"), TIMES)
def test_daily_peaks_of_days_not_yet_open_are_null(hm, open_h):
    now = local(*DAY, *hm)
    peaks = daily_peaks(HUB, history(local(*DAY), local(2026, 12, 3), now), HUB.zones)
    assert peaks.zones.tolist() == [1 if open_h else -1, -1]
    assert peaks.desks.tolist() == [1 if open_h else -1, -1]


def test_forecast_takes_no_evidence_from_after_now():
    now = local(*DAY, 9, 30)  # a Tuesday
    # a window that reaches past now (a caller's mistake) still ends at now
    f = forecast(HUB, history(local(2026, 11, 24), local(*DAY, 23), now))[0]
    tuesday = 1
    assert f.weeks[tuesday, 9] == 1 and f.probability[tuesday, 9] == 1.0  # 09:00-09:30 today was observed
    assert f.weeks[tuesday, 10] == 0 and np.isnan(f.probability[tuesday, 10])
    assert np.isnan(f.probability[tuesday, 17])
