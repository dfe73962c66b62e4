"""Simulated history through the real engine into a real SqliteStore."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from collector.simulate import simulate_history
from collector.stats.load import load_history
from collector.stats.sessions import sessions
from collector.stats.utilisation import utilisation
from collector.store.sqlite import SqliteStore
from hubsense.cli import main
from hubsense.config import Hub

END = datetime(2026, 6, 6, 12, tzinfo=UTC)  # Saturday noon; the week before is Mon-Sat open


@pytest.fixture
def store(tmp_path):
    s = SqliteStore(tmp_path / "sim.sqlite3")
    yield s
    s.close()


def test_a_week_of_history_gives_plausible_statistics(store: SqliteStore, stockholm: Hub) -> None:
    written = simulate_history({"stockholm": stockholm}, store, days=6, seed=3, end=END)["stockholm"]
    assert written.events == store.event_count("stockholm") > 1000
    assert written.changes > 200 and written.health > 1000
    history = load_history(store, stockholm, END - timedelta(days=6), END, END)
    report = utilisation(stockholm, history, "day")
    for series in report.zones:
        weekdays = series.utilisation[~np.isnan(series.utilisation)]
        assert len(weekdays) >= 5, series.zone.id
        assert 0.02 < weekdays.mean() < 0.9, series.zone.id  # used, but not always
        assert np.nanmin(series.data_quality) > 0.5
    desks = report.zones[-1]
    assert desks.peak_desks.max() >= 3
    # nobody is there at night: every state change to occupied is near opening hours
    occupied_at = [c.at.astimezone(stockholm.tz) for c in store.changes("stockholm", END - timedelta(days=6), END)
                   if c.state.value == "occupied"]
    assert occupied_at and all(6 <= t.hour < 20 for t in occupied_at)
    meetings = next(s for s in sessions(stockholm, history, stockholm.zones) if s.zone == "motesrum-ekorren")
    assert meetings.count > 5 and 15 * 60 < meetings.median_s < 4 * 3600


def test_same_seed_same_history(tmp_path, stockholm: Hub) -> None:
    counts = []
    for name in ("a", "b"):
        s = SqliteStore(tmp_path / f"{name}.sqlite3")
        w = simulate_history({"stockholm": stockholm}, s, days=1, seed=9, end=END)["stockholm"]
        counts.append((w.events, w.changes, [c.at for c in s.changes("stockholm", END - timedelta(days=1), END)]))
        s.close()
    assert counts[0] == counts[1]


def test_cli_writes_the_database(tmp_path, capsys) -> None:
    db = tmp_path / "cli.sqlite3"
    assert main(["simulate", "--days", "1", "--hub", "ostersund", "--db", str(db), "--end", END.isoformat()]) == 0
    assert "ostersund:" in capsys.readouterr().out
    s = SqliteStore(db)
    assert s.event_count("ostersund") > 0 and s.event_count("stockholm") == 0
    s.close()
    assert main(["simulate", "--days", "1", "--hub", "nope", "--db", str(db)]) == 2
