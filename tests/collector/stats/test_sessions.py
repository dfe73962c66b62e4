from datetime import timedelta

import numpy as np
import pytest

from collector.stats.history import History
from collector.stats.sessions import daily_peaks, session_durations, sessions
from tests.collector.stats._hubs import FREE, OCC, UNK, change, local, make_hub


def test_sessions_count_median_and_p90():
    hub = make_hub()
    changes = [change(FREE, local(2026, 6, 1))]
    for i, minutes in enumerate([10, 20, 30, 40, 100]):
        begin = local(2026, 6, 1, 8 + i)
        changes += [change(OCC, begin), change(FREE, begin + timedelta(minutes=minutes))]
    history = History.from_changes(changes, local(2026, 6, 1).timestamp(), local(2026, 6, 2).timestamp(),
                                   local(2026, 6, 2).timestamp())
    stats = sessions(hub, history, hub.zones)[0]
    assert stats.count == 5 and stats.data_quality == 1.0
    assert stats.median_s == 30 * 60
    assert stats.p90_s == np.percentile([10, 20, 30, 40, 100], 90) * 60


def test_session_rows_report_data_quality_per_track():
    hub = make_hub(desks=2)
    day = (2026, 6, 1)
    changes = [change(FREE, local(*day, 8)), change(UNK, local(*day, 11)), change(OCC, local(*day, 8), "d", "k0")]
    history = History.from_changes(changes, local(*day).timestamp(), local(2026, 6, 2).timestamp(),
                                   local(2026, 6, 2).timestamp())
    rows = {(r.zone, r.desk): r for r in sessions(hub, history, hub.zones)}
    assert rows[("z", None)].data_quality == pytest.approx(3 / 9)
    assert rows[("d", "k0")].data_quality == 1.0 and rows[("d", "k0")].count == 1
    assert rows[("d", "k1")].data_quality == 0.0 and rows[("d", "k1")].median_s is None


def test_session_ends_at_unknown_and_is_clipped_to_the_period():
    history = History.from_changes(
        [change(OCC, local(2026, 6, 1, 7)), change(UNK, local(2026, 6, 1, 9)), change(OCC, local(2026, 6, 1, 11))],
        local(2026, 6, 1, 8).timestamp(), local(2026, 6, 1, 12).timestamp(), local(2026, 6, 1, 12).timestamp())
    assert session_durations(history.track(("z", None))).tolist() == [3600, 3600]


def test_daily_peaks_of_zones_and_desks_within_open_hours():
    hub = make_hub(desks=3, rooms=1)
    d1, d2 = (2026, 6, 1), (2026, 6, 2)
    changes = [change(OCC, local(*d1, 9)), change(FREE, local(*d1, 12)),
               change(OCC, local(*d1, 11), "r0"), change(FREE, local(*d1, 13), "r0"),
               change(OCC, local(*d1, 20), "d", "k0"), change(FREE, local(*d1, 22), "d", "k0"),  # after hours
               change(OCC, local(*d2, 9), "d", "k0"), change(OCC, local(*d2, 10), "d", "k1"),
               change(FREE, local(*d2, 10), "d", "k0")]  # k0 leaves as k1 arrives: never 2 at once
    history = History.from_changes(changes, local(*d1).timestamp(), local(2026, 6, 3).timestamp(),
                                   local(2026, 6, 3).timestamp())
    peaks = daily_peaks(hub, history, hub.zones)
    assert peaks.zones.tolist() == [2, 0]
    assert peaks.desks.tolist() == [0, 1]


def test_daily_peaks_are_none_without_desks_or_zones():
    hub = make_hub(desks=2)
    history = History.from_changes([], local(2026, 6, 1).timestamp(), local(2026, 6, 2).timestamp(),
                                   local(2026, 6, 2).timestamp())
    assert daily_peaks(hub, history, [hub.zones[0]]).desks is None
    assert daily_peaks(hub, history, [hub.zones[1]]).zones is None
    assert daily_peaks(hub, history, hub.zones).desks.tolist() == [0]
