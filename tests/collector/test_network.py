"""Per-hub summaries (collector/network.py): rebuilt on change, not per request; the same counts as
the zone views; daily utilisation that adds up to the statistics API's figures."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from collector.engine.views import hub_counts
from collector.live import LiveState
from collector.model import ReceivedEvent
from collector.network import NetworkSummaries, date_buckets, view_counts
from collector.service import Collector
from collector.settings import Settings
from collector.simulate import simulate_history
from collector.store.sqlite import SqliteStore
from hubsense.config import Hub
from hubsense.protocol import kind_spec
from tests.support import wait_for


def liven(live: LiveState, hub: Hub, now: datetime, agents: int = 4) -> None:
    with live.feeding(hub.id) as engine:
        for agent in hub.agents[:agents]:
            engine.status(agent.id, True, now)
            for seq, sensor in enumerate(agent.sensors[::2], 1):
                engine.event(ReceivedEvent(hub.id, agent.id, sensor.id, sensor.kind, kind_spec(sensor.kind).active,
                                           now, seq, "b", now))


class Counting(NetworkSummaries):
    builds = 0

    def _build(self, hub_id: str, now: datetime):
        self.builds += 1
        return super()._build(hub_id, now)


@pytest.fixture
def fleet50(fleet: dict[str, Hub]) -> dict[str, Hub]:
    return dict(list(fleet.items())[:50])


def test_rows_are_rebuilt_on_change_not_per_request(tmp_path: Path, fleet50: dict[str, Hub]) -> None:
    now = datetime.now(UTC)
    live = LiveState(fleet50)
    for hub in fleet50.values():
        liven(live, hub, now)
    store = SqliteStore(tmp_path / "db.sqlite3")
    summaries = Counting(fleet50, live, store)
    first = summaries.hubs_json(fleet50, now)
    assert summaries.builds == 50
    for _ in range(20):  # requests at the same live state: no rebuild
        assert summaries.hubs_json(fleet50, now + timedelta(seconds=1)) == first
    assert summaries.builds == 50
    changed = next(iter(fleet50.values()))
    with live.feeding(changed.id) as engine:
        engine.status(changed.agents[0].id, False, now)  # one hub's agent goes offline
    summaries.hubs_json(fleet50, now + timedelta(seconds=2))
    assert summaries.builds == 51  # that hub only
    assert summaries.row(changed.id, now).agents_offline == 1
    store.close()


def test_a_silent_agent_makes_its_zones_unknown_without_a_change(tmp_path: Path, fleet50: dict[str, Hub]) -> None:
    """No message and no ticker: the agent's heartbeat deadline passing invalidates the cached row."""
    hub = next(iter(fleet50.values()))
    now = datetime.now(UTC)
    live = LiveState({hub.id: hub})
    liven(live, hub, now)
    summaries = NetworkSummaries({hub.id: hub}, live, SqliteStore(tmp_path / "db.sqlite3"))
    assert summaries.row(hub.id, now).hub["unknown"] == 0
    later = now + timedelta(hours=1)
    row = summaries.row(hub.id, later)
    assert row.hub["unknown"] == len(hub.zones) and row.hub["free"] == row.hub["occupied"] == 0
    assert row.agents_offline == len(hub.agents)


def test_counts_are_those_of_the_views_and_health(fleet50: dict[str, Hub]) -> None:
    now = datetime.now(UTC)
    live = LiveState(fleet50)
    for i, hub in enumerate(fleet50.values()):
        liven(live, hub, now, agents=i % 5)  # 0..4 agents online
    for when in (now, now + timedelta(minutes=30), now + timedelta(days=3)):
        for hub_id, engine in live.engines.items():
            counts, offline, stuck = hub_counts(engine, when.timestamp())
            health = engine.health(when)
            assert counts == view_counts(engine.views(when))
            assert offline == sum(1 for h in health if not h["online"])
            assert stuck == sum(len(h["stuck_sensors"]) for h in health), hub_id


def test_daily_figures_add_up_to_the_statistics_api(tmp_path: Path, hubs: dict[str, Hub]) -> None:
    """The network comparison's weekly bucket equals the hub's own utilisation route for that week."""
    now = datetime.now(UTC).replace(microsecond=0)
    settings = Settings(sqlite_path=tmp_path / "db.sqlite3", tokens_path=tmp_path / "tokens.json")
    store = SqliteStore(settings.sqlite_path)
    simulate_history(hubs, store, days=15, end=now)
    collector = Collector.build(settings, store, mqtt=False)
    client = TestClient(collector.app, base_url="http://127.0.0.1")
    today = now.astimezone(hubs["stockholm"].tz).date()
    monday = today - timedelta(days=today.weekday() + 7)
    start, end = monday.isoformat(), (monday + timedelta(days=7)).isoformat()
    own = client.get(f"/api/hubs/stockholm/utilisation?start={start}&end={end}&bucket=week").json()
    total = next(r for r in own["rows"] if r["zone"] is None)
    compared = client.get(f"/api/network/utilisation?start={start}&end={end}&bucket=week&hub=stockholm").json()
    (bucket,) = compared["hubs"][0]["buckets"]
    for key in ("open_s", "known_s", "occupied_s"):
        assert bucket[key] == pytest.approx(total[key], rel=1e-9, abs=1e-6), key
    assert bucket["utilisation"] == pytest.approx(total["utilisation"])
    assert bucket["data_quality"] == pytest.approx(total["data_quality"])
    assert 0 < bucket["data_quality"] <= 1
    csv = client.get(f"/api/network/utilisation?start={start}&end={end}&bucket=day&format=csv").text.splitlines()
    assert csv[0].startswith("hub,name,city,region,start,end,utilisation")
    assert len(csv) == 1 + 7 * len(hubs)
    # the overview after a refresh: yesterday's and this week's figures, with data quality
    collector.summaries.refresh(now)
    overview = client.get("/api/network/hubs").json()
    row = next(h for h in overview["hubs"] if h["id"] == "stockholm")
    assert row["yesterday"] is not None and row["week"] is not None  # (yesterday may have been closed: null quality)
    assert set(row["week"]) == {"utilisation", "data_quality", "open_s", "known_s", "occupied_s"}
    assert overview["history_at"] is not None and row["queued"] is not None
    store.close()


def test_refresh_recomputes_only_days_that_can_still_change(tmp_path: Path, hubs: dict[str, Hub]) -> None:
    hub = hubs["stockholm"]
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)  # a Thursday
    summaries = NetworkSummaries({hub.id: hub}, LiveState({hub.id: hub}), SqliteStore(tmp_path / "db.sqlite3"))
    summaries.refresh(now)
    days = summaries._days[hub.id]
    assert sorted(days) == [date(2026, 11, 23) + timedelta(days=i) for i in range(4)]  # Monday .. today
    summaries.refresh(now + timedelta(days=1))
    days = summaries._days[hub.id]
    assert days[date(2026, 11, 23)].computed_at == now.timestamp()  # final: not recomputed
    assert days[date(2026, 11, 26)].computed_at == (now + timedelta(days=1)).timestamp()  # yesterday now


def test_date_buckets() -> None:
    assert date_buckets(date(2026, 11, 27), date(2026, 12, 3), "week") == [
        (date(2026, 11, 27), date(2026, 11, 30)), (date(2026, 11, 30), date(2026, 12, 3))]
    assert date_buckets(date(2026, 12, 15), date(2027, 2, 2), "month") == [
        (date(2026, 12, 15), date(2027, 1, 1)), (date(2027, 1, 1), date(2027, 2, 1)),
        (date(2027, 2, 1), date(2027, 2, 2))]
    assert len(date_buckets(date(2026, 3, 1), date(2026, 4, 1), "day")) == 31


def test_the_background_thread_keeps_rows_fresh_and_the_body_cached(tmp_path: Path,
                                                                   fleet50: dict[str, Hub]) -> None:
    now = datetime.now(UTC)
    live = LiveState(fleet50)
    for hub in fleet50.values():
        liven(live, hub, now)
    store = SqliteStore(tmp_path / "db.sqlite3")
    summaries = NetworkSummaries(fleet50, live, store, refresh_s=3600)
    summaries.start()
    try:
        wait_for(lambda: summaries.history_at is not None and summaries._warmed_at > 0, timeout=30)
        body = summaries.hubs_json(fleet50, datetime.now(UTC))
        assert summaries.hubs_json(fleet50, datetime.now(UTC)) is body  # joined once, while nothing changes
        hub = next(iter(fleet50.values()))
        with live.feeding(hub.id) as engine:
            engine.status(hub.agents[0].id, False, datetime.now(UTC))

        def unknown() -> int:
            rows = json.loads(summaries.hubs_json(fleet50, datetime.now(UTC)))
            return next(r["unknown"] for r in rows if r["id"] == hub.id)

        wait_for(unknown, timeout=10)  # within a round of the thread (0.5 s) plus the allowed lag (1 s)
    finally:
        summaries.stop()
        store.close()
