"""Views and health: stuck-sensor flags in opening hours, last_confirmed, desks."""

from __future__ import annotations

from datetime import UTC, datetime

from collector.engine import Engine
from collector.model import ReceivedEvent
from hubsense.protocol import SensorKind, SensorState
from tests.collector.engine.helpers import FREE, mini_hub

MON_0900 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Stockholm is UTC+1 in winter


def _engine_with_pir_changed_at(when: datetime) -> Engine:
    engine = Engine(mini_hub())
    engine.status("pi-a", True, when)
    engine.event(ReceivedEvent("mini", "pi-a", "glade-pir1", SensorKind.PIR, SensorState.NO_MOTION, when, 1,
                               "b", when))
    return engine


def _stuck(engine: Engine, now: datetime) -> list[str]:
    return next(v for v in engine.views(now) if v.zone == "glade").stuck_sensors


def test_sensor_unchanged_for_two_opening_days_is_flagged_stuck() -> None:
    engine = _engine_with_pir_changed_at(MON_0900)
    # Mon 09-19 (10 h) + Tue 07-18 (11 h) = 21 h < 24 h
    assert "glade-pir1" not in _stuck(engine, datetime(2026, 12, 1, 17, 0, tzinfo=UTC))
    # + Tue 18-19 + Wed 07-10 = 25 h
    assert "glade-pir1" in _stuck(engine, datetime(2026, 12, 2, 9, 0, tzinfo=UTC))


def test_nights_and_weekends_do_not_count_towards_stuck() -> None:
    friday_1800 = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)
    engine = _engine_with_pir_changed_at(friday_1800)
    # Fri 18-19 (1 h) + Mon 07-19 (12 h) = 13 h, although 3.6 days have passed
    assert _stuck(engine, datetime(2026, 12, 7, 18, 0, tzinfo=UTC)) == []


def test_never_reporting_sensor_of_a_live_agent_is_flagged_after_stuck_time() -> None:
    engine = _engine_with_pir_changed_at(MON_0900)
    assert "glade-pir2" in _stuck(engine, datetime(2026, 12, 3, 9, 0, tzinfo=UTC))


def test_health_lists_agents_with_liveness_offset_and_stuck_sensors() -> None:
    engine = _engine_with_pir_changed_at(MON_0900)
    engine.heartbeat("pi-a", MON_0900, 30, {}, ts=datetime(2026, 11, 30, 8, 0, 2, tzinfo=UTC), boot="b")
    health = {h["agent"]: h for h in engine.health(MON_0900)}
    assert health["pi-a"]["online"] is True and health["pi-a"]["clock_offset_s"] == 2.0
    assert health["pi-a"]["last_heartbeat"] == MON_0900
    assert health["pi-a"]["sensors"]["glade-pir1"] == "no_motion"
    assert health["pi-b"]["online"] is False and health["pi-b"]["state"] == "no_data"
    late = {h["agent"]: h for h in engine.health(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))}
    assert late["pi-a"]["state"] == "stale"
    assert "glade-pir1" in late["pi-a"]["stuck_sensors"]


def test_views_come_in_config_order_with_since_and_desks() -> None:
    engine = _engine_with_pir_changed_at(MON_0900)
    views = engine.views(MON_0900)
    assert [v.zone for v in views] == ["glade", "room", "desks"]
    glade = views[0]
    assert (glade.state, glade.since, glade.last_confirmed) == (FREE, MON_0900, MON_0900)
    assert [d.id for d in views[2].desks] == ["d1", "d2"]
