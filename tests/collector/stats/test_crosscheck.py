"""The vectorised statistics agree with the per-interval loop oracle on random histories."""

from datetime import timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.stats import reference
from collector.stats.heatmap import heatmap
from collector.stats.history import History
from collector.stats.utilisation import utilisation
from tests.collector.stats._hubs import ALL_DAYS, FREE, OCC, UNK, change, local, make_hub

HOURS = [
    [{"days": ALL_DAYS, "open": "08:00", "close": "17:00"}],
    [{"days": ["mon", "tue", "wed", "thu", "fri"], "open": "07:00", "close": "19:00"},
     {"days": ["sat"], "open": "10:00", "close": "15:00"}],
    [{"days": ["sun"], "open": "01:00", "close": "04:30"}, {"days": ["mon", "sun"], "open": "02:15", "close": "23:45"}],
]
HUBS = [make_hub(hours=h, desks=3) for h in HOURS]
BASES = [local(2026, 3, 25), local(2026, 10, 22), local(2026, 1, 28)]  # spring DST, autumn DST, a month edge
SPAN = 9 * 86400
TRACKS = [("z", None), ("d", "k0"), ("d", "k1"), ("d", "k2")]

change_st = st.tuples(st.integers(-86400, SPAN), st.sampled_from(TRACKS), st.sampled_from([FREE, OCC, OCC, UNK]))


@st.composite
def cases(draw):
    hub = draw(st.sampled_from(HUBS))
    base = draw(st.sampled_from(BASES))
    a = draw(st.integers(0, SPAN - 3600))
    b = draw(st.integers(a + 1, SPAN))
    rows = draw(st.lists(change_st, max_size=40))
    changes = [change(s, base + timedelta(seconds=x), zone, desk) for x, (zone, desk), s in rows]
    return hub, changes, base + timedelta(seconds=a), base + timedelta(seconds=b)


@settings(max_examples=60, deadline=None)
@given(cases(), st.sampled_from(["hour", "day", "week", "month"]))
def test_utilisation_matches_loop(case, bucket):
    hub, changes, start, end = case
    history = History.from_changes(changes, start.timestamp(), end.timestamp(), end.timestamp())
    report = utilisation(hub, history, bucket)
    segs = reference.segments(changes, start, end)
    for series in report.zones:
        open_s, known, occ = reference.zone_bucket_sums(hub, segs, series.zone, start, end, bucket)
        assert len(report.edges) - 1 == len(open_s)
        np.testing.assert_allclose(series.open_s, open_s, atol=1e-6)
        np.testing.assert_allclose(series.known_s, known, atol=1e-6)
        np.testing.assert_allclose(series.occupied_s, occ, atol=1e-6)
        if series.peak_desks is not None:
            expect = reference.peak_desks(hub, segs, series.zone, start, end, bucket)
            assert series.peak_desks.tolist() == expect


@settings(max_examples=40, deadline=None)
@given(cases())
def test_heatmap_matches_loop(case):
    hub, changes, start, end = case
    history = History.from_changes(changes, start.timestamp(), end.timestamp(), end.timestamp())
    segs = reference.segments(changes, start, end)
    for zmap in heatmap(hub, history):
        open_s, known, occ = reference.zone_heatmap(hub, segs, zmap.zone, start, end)
        for name, got, want in [("open", zmap.open_s, open_s), ("known", zmap.known_s, known),
                                ("occ", zmap.occupied_s, occ)]:
            expect = np.zeros((7, 24))
            for (d, h), v in want.items():
                expect[d, h] = v
            np.testing.assert_allclose(got, expect, atol=1e-6, err_msg=name)
