"""What the engines learned survives a restart: saved by the running collector (periodically and at
shutdown), restored by the next one before ingest starts; a store that is down at start is read
before anything is saved over it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from collector.learned import LearnedKeeper
from collector.live import LiveState
from collector.model import LearnedState, ReceivedEvent
from collector.service import Collector
from collector.store.influx import InfluxStore
from collector.store.sqlite import SqliteStore
from hubsense.config import Hub
from hubsense.protocol import SensorKind, SensorState
from hubsense.services import Influxd, Mosquitto, free_port
from tests.support import collector_settings, wait_for

T0 = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


def _teach(live: LiveState, hub: Hub, visits: int = 12) -> None:
    """Short visits with short pauses to Lägerelden: its gap model learns (n > 0)."""
    agent = next(a.id for a in hub.agents for s in a.sensors if s.id == "lagerelden-pir")
    seq, t = 0, T0
    with live.feeding(hub.id) as engine:
        for _ in range(visits):
            for state, dt in ((SensorState.MOTION, 40), (SensorState.NO_MOTION, 25), (SensorState.MOTION, 30),
                              (SensorState.NO_MOTION, 1800)):
                seq += 1
                engine.event(ReceivedEvent(hub.id, agent, "lagerelden-pir", SensorKind.PIR, state, t, seq, "b", t))
                t += timedelta(seconds=dt)
                engine.advance(t)


def _parameters(live: LiveState, hub: Hub) -> dict[str, dict]:
    return {z.id: live.parameters(hub.id, z.id) for z in hub.zones}


def test_a_restarted_collector_shows_the_same_parameters(broker: Mosquitto, tmp_path: Path,
                                                          stockholm: Hub) -> None:
    settings = collector_settings(broker, tmp_path)
    with Collector.build(settings).serving() as first:
        before = _parameters(first.live, stockholm)
        _teach(first.live, stockholm)
        learned = _parameters(first.live, stockholm)
    assert learned["lagerelden"]["gaps_seen"] > 0 and learned["lagerelden"] != before["lagerelden"]
    assert learned["lagerelden"]["vacancy_timeout_s"]["source"] == "learned"
    again = Collector.build(collector_settings(broker, tmp_path))  # same database, a new process' worth
    fresh = Collector.build(collector_settings(broker, tmp_path / "other"))
    try:
        assert _parameters(again.live, stockholm) == learned
        assert _parameters(fresh.live, stockholm) == before
    finally:
        again.store.close()
        fresh.store.close()


def test_learned_values_are_saved_while_running(broker: Mosquitto, tmp_path: Path, stockholm: Hub) -> None:
    settings = collector_settings(broker, tmp_path, learned_save_s=0.2)
    store = SqliteStore(tmp_path / "hubsense.sqlite3")
    with Collector.build(settings, store).serving() as collector:
        _teach(collector.live, stockholm)

        def saved() -> bool:
            state = store.load_learned("stockholm")
            return state is not None and state.zones["lagerelden"]["gaps"]["n"] > 0

        wait_for(saved, timeout=30)  # the ticker's batches save every 0.2 s
        assert collector.learned.saves >= 1
    store.close()


def test_a_store_down_at_start_is_read_before_it_is_saved_over(tmp_path: Path, hubs: dict[str, Hub]) -> None:
    stockholm = hubs["stockholm"]
    port, database = free_port(), f"t_{uuid.uuid4().hex[:12]}"
    server = Influxd(tmp_path / "influxd", port=port).start()
    store = InfluxStore(server.url, database, raw_rp="hubsense_raw")
    weeks = LiveState({"stockholm": stockholm})
    _teach(weeks, stockholm, visits=30)
    store.save_learned(LearnedState("stockholm", T0, weeks.learned("stockholm")))
    server.stop()

    live = LiveState({"stockholm": stockholm})
    keeper = LearnedKeeper(live, store, interval_s=300)
    keeper.restore()
    assert keeper.unread == {"stockholm"}  # InfluxDB is down
    _teach(live, stockholm, visits=2)  # an hour of learning meanwhile
    keeper.save()
    assert keeper.saves == 0  # nothing saved over what could not be read
    server = Influxd(tmp_path / "influxd", port=port).start()  # back, with its data
    try:
        keeper.save()
        assert keeper.unread == set() and keeper.saves == 1
        kept = store.load_learned("stockholm")
        assert kept is not None and kept.zones["lagerelden"] == weeks.learned("stockholm")["lagerelden"]
        assert _parameters(live, stockholm) == _parameters(weeks, stockholm)
    finally:
        store.drop_database()
        store.close()
        server.stop()


def test_an_unreadable_record_starts_afresh_and_is_replaced(tmp_path: Path, hubs: dict[str, Hub]) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3")
    store.save_learned(LearnedState("stockholm", T0, {"lagerelden": {"gaps": {"n": "many"}}}))
    live = LiveState(hubs)
    keeper = LearnedKeeper(live, store, interval_s=300)
    keeper.restore()
    assert keeper.unread == set()
    assert live.parameters("stockholm", "lagerelden")["gaps_seen"] == 0
    _teach(live, hubs["stockholm"])
    keeper.save()
    kept = store.load_learned("stockholm")
    assert kept is not None and kept.zones["lagerelden"]["gaps"]["n"] > 0
    store.close()
