"""SQLite-specific behaviour: retention, backup, threads, on-disk format, write speed."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

from collector.model import OccupancyState
from collector.settings import Settings
from collector.store import open_store
from collector.store.sqlite import SqliteStore
from tests.collector.store.helpers import T0, change, event, health


def test_wal_mode_and_integer_times(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "h.sqlite3")
    store.add_events([event(1)])
    store.close()
    db = sqlite3.connect(tmp_path / "h.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    ts, rec = db.execute("SELECT ts_us, received_us FROM events").fetchone()
    assert rec - ts == 250_000 - 123


def test_prune_applies_each_retention(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "h.sqlite3", events_retention_days=1, changes_retention_days=10,
                        health_retention_days=1)
    store.add_events([event(0), event(3 * 86400)])
    store.add_changes([change(0, "z", OccupancyState.FREE), change(5 * 1440, "z", OccupancyState.OCCUPIED)])
    store.add_health([health(0, "old-only"), health(0, "pi-1"), health(3 * 1440, "pi-1")])
    deleted = store.prune(T0 + timedelta(days=3))
    assert deleted == {"events": 1, "changes": 0, "health": 1}
    assert [e.seq for e in store.events()] == [3 * 86400]
    assert {h.agent for h in store.latest_health("hq")} == {"old-only", "pi-1"}  # newest always kept
    assert store.prune(T0 + timedelta(days=12))["changes"] == 1


def test_prune_none_keeps_forever(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "h.sqlite3", events_retention_days=None)
    store.add_events([event(0)])
    assert store.prune(T0 + timedelta(days=10_000))["events"] == 0
    assert store.event_count() == 1


def test_backup_is_a_readable_copy(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "h.sqlite3")
    store.add_events([event(i) for i in range(10)])
    store.backup(tmp_path / "copy.sqlite3")
    assert SqliteStore(tmp_path / "copy.sqlite3").event_count() == 10


def test_reads_from_other_threads_while_writing(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "h.sqlite3")
    counts: dict[str, list[int]] = {}
    errors: list[BaseException] = []
    done = threading.Event()

    def reader() -> None:
        mine = counts.setdefault(threading.current_thread().name, [])
        try:
            while not done.is_set():
                mine.append(store.event_count("hq"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for i in range(0, 5000, 500):
        store.add_events([event(s) for s in range(i, i + 500)])
    done.set()
    for t in threads:
        t.join()
    assert not errors
    for seen in counts.values():  # each reader sees whole batches only, never going back
        assert seen == sorted(seen)
        assert all(n % 500 == 0 for n in seen)
    assert store.event_count() == 5000
    store.close()


def test_batched_writes_count_each_new_event_once(tmp_path: Path) -> None:
    """(Write speed is measured by bench/ingest.py, not here.)"""
    store = SqliteStore(tmp_path / "h.sqlite3")
    events = [event(i, agent=f"pi-{i % 7}") for i in range(20_000)]
    new = sum(store.add_events(events[i : i + 1000]) for i in range(0, len(events), 1000))
    assert new == 20_000
    assert store.add_events(events[5_000:6_500]) == 0
    assert store.event_count() == 20_000


def test_open_store_from_settings(tmp_path: Path) -> None:
    settings = Settings(store="sqlite", sqlite_path=tmp_path / "sub" / "x.sqlite3", events_retention_days=7)
    store = open_store(settings)
    assert isinstance(store, SqliteStore)
    assert store.retention["events"] == 7
    assert (tmp_path / "sub" / "x.sqlite3").exists()
    store.close()


def test_zero_retention_in_settings_keeps_forever(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HUBSENSE_EVENTS_RETENTION_DAYS", "0")
    store = open_store(Settings(store="sqlite", sqlite_path=tmp_path / "x.sqlite3"))
    assert isinstance(store, SqliteStore)
    assert store.retention["events"] is None
    store.add_events([event(0)])
    assert store.prune(T0 + timedelta(days=100_000))["events"] == 0
    store.close()
