import numpy as np
import pytest

from collector.stats.heatmap import heatmap
from collector.stats.history import History
from tests.collector.stats._hubs import FREE, OCC, UNK, change, local, make_hub


def test_cells_are_local_hours_of_the_week_over_open_time():
    hub = make_hub(hours=[{"days": ["mon", "tue"], "open": "08:00", "close": "17:00"}])
    # Monday 2026-06-01 09:00-10:30 occupied, Tuesday free all day, the week after unknown
    changes = [change(FREE, local(2026, 6, 1, 0)), change(OCC, local(2026, 6, 1, 9)),
               change(FREE, local(2026, 6, 1, 10, 30)), change(UNK, local(2026, 6, 3))]
    history = History.from_changes(changes, local(2026, 6, 1).timestamp(), local(2026, 6, 15).timestamp(),
                                   local(2026, 6, 15).timestamp())
    zmap = heatmap(hub, history)[0]
    share = zmap.share
    assert share[0, 9] == 1.0 and share[0, 10] == 0.5 and share[0, 8] == 0.0
    assert share[1, 9] == 0.0
    assert np.isnan(share[2, 9]) and np.isnan(share[0, 7]) and np.isnan(share[0, 17])  # never open
    assert zmap.open_s[0, 9] == 2 * 3600  # two Mondays
    assert zmap.data_quality[0, 9] == pytest.approx(0.5)  # second Monday unknown


def test_spring_dst_sunday_has_no_0200_hour_and_autumn_counts_it_twice():
    hub = make_hub(hours=[{"days": ["sun"], "open": "00:00", "close": "06:00"}])
    spring = History.from_changes([change(OCC, local(2026, 3, 28))], local(2026, 3, 29).timestamp(),
                                  local(2026, 3, 30).timestamp(), local(2026, 3, 30).timestamp())
    autumn = History.from_changes([change(OCC, local(2026, 10, 24))], local(2026, 10, 25).timestamp(),
                                  local(2026, 10, 26).timestamp(), local(2026, 10, 26).timestamp())
    assert heatmap(hub, spring)[0].open_s[6, :6].tolist() == [3600, 3600, 0, 3600, 3600, 3600]
    assert heatmap(hub, autumn)[0].open_s[6, :6].tolist() == [3600, 3600, 7200, 3600, 3600, 3600]
