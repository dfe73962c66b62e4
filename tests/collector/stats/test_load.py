from datetime import timedelta

import numpy as np
import pytest

from collector.stats.history import History
from collector.stats.load import load_history
from collector.store.sqlite import SqliteStore
from tests.collector.stats._hubs import FREE, OCC, UNK, change, local, make_hub

HUB = make_hub(desks=2)


@pytest.fixture
def store(tmp_path):
    s = SqliteStore(tmp_path / "db.sqlite3")
    yield s
    s.close()


def test_columnar_sqlite_read_matches_store_changes(store):
    rng = np.random.default_rng(1)
    base = local(2026, 3, 1)
    tracks = [("z", None), ("d", "k0"), ("d", "k1"), ("x", None)]  # x: not in the config, ignored
    changes = [change([FREE, OCC, UNK][rng.integers(3)], base + timedelta(seconds=int(rng.integers(0, 30 * 86400))),
                      *tracks[rng.integers(len(tracks))]) for _ in range(500)]
    changes.append(change(OCC, base + timedelta(days=1, microseconds=123)))
    store.add_changes(changes)
    for zone in (None, "d"):
        start, end = base + timedelta(days=5), base + timedelta(days=20)
        fast = load_history(store, HUB, start, end, zone)
        slow = History.from_changes(store.changes("h", start, end, zone), start.timestamp(), end.timestamp())
        assert ("x", None) not in fast.series
        assert fast.series.keys() == slow.series.keys() - {("x", None)}
        assert fast.size > 100
        for key, (at, code) in fast.series.items():
            at, code = slow.series[key]
            np.testing.assert_allclose(fast.series[key][0], at, rtol=0, atol=1e-6)  # microseconds
            assert fast.series[key][1].tolist() == code.tolist()


def test_empty_store_gives_empty_history(store):
    h = load_history(store, HUB, local(2026, 3, 1), local(2026, 3, 2))
    assert h.size == 0 and h.track(("z", None)).s.tolist() == [2]
