"""Alert conditions from agent health and the spool (pure), and the monitor over a real engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from collector.live import LiveState
from collector.notify import conditions as cond
from collector.notify.events import DATA_MODELS, EventType
from collector.notify.monitor import Monitor
from collector.notify.outbox import Outbox, Subscription
from collector.notify.targets import TargetPolicy
from collector.notify.webhooks import Webhooks
from collector.store.sqlite import SqliteStore
from hubsense.config import Hub


def agent(name: str, state: str = "online", **kw) -> dict:
    return {"agent": name, "state": state, "online": state == "online", "last_seen": None, "zones": ["z"],
            "clock_skewed": False, "clock_offset_s": 0.1, "stuck_sensors": [], "sensors": {"s1": "motion"}} | kw


def test_conditions_open_and_close() -> None:
    now = 1000.0
    ev = cond.evaluate(cond.Snapshot(now, {"h": [agent("a", "stale"), agent("b", stuck_sensors=["s9"],
                                                                              clock_skewed=True)]}))
    assert set(ev.holding) == {"agent.offline:h:a", "sensor.stuck:h:b:s9", "agent.clock_skew:h:b"}
    opened, closed = cond.diff({}, ev, now)
    assert set(opened) == set(ev.holding) and closed == {}
    events = {t for t, *_ in cond.events_for(opened, closed, now)}
    assert events == {EventType.AGENT_OFFLINE, EventType.SENSOR_STUCK, EventType.CLOCK_SKEW}
    later = cond.evaluate(cond.Snapshot(now + 60, {"h": [agent("a"), agent("b")]}))
    opened2, closed2 = cond.diff(opened, later, now + 60)
    assert opened2 == {} and set(closed2) == set(opened)
    back = {t: d for t, _, _, d in cond.events_for(opened2, closed2, now + 60)}
    assert back[EventType.AGENT_ONLINE]["offline_s"] == 60
    for t, _, _, data in [*cond.events_for(opened, {}, now), *cond.events_for({}, closed2, now + 60)]:
        DATA_MODELS[EventType(t)].model_validate(data)


def test_an_agent_not_heard_from_since_the_start_changes_nothing() -> None:
    """After a restart every agent is 'no_data' until its next heartbeat: no 'back', no 'offline'."""
    previous = {"agent.offline:h:a": (5.0, {"hub": "h", "agent": "a"})}
    ev = cond.evaluate(cond.Snapshot(100.0, {"h": [agent("a", "no_data"), agent("b")]}))
    assert cond.diff(previous, ev, 100.0) == ({}, {})
    assert cond.refreshed(previous, ev) == previous


def test_a_hub_with_no_agent_online_and_the_spool() -> None:
    ev = cond.evaluate(cond.Snapshot(1.0, {"h": [agent("a", "offline"), agent("b", "no_data")]},
                                     spool={"depth": 900, "max": 1000, "high_water": True, "store_available": False}))
    assert "hub.no_data:h" in ev.holding and ev.holding["spool.high"]["depth"] == 900
    [(t, hub, _, data)] = [e for e in cond.events_for({"spool.high": (1.0, ev.holding["spool.high"])}, {}, 1.0)]
    assert (t, hub, data["fill"]) == (EventType.SPOOL_HIGH, None, 0.9)


def test_the_monitor_queues_agent_events_once_across_a_restart(tmp_path: Path, hubs: dict[str, Hub]) -> None:
    live = LiveState(hubs)
    store = SqliteStore(tmp_path / "db.sqlite3")
    outbox = Outbox(tmp_path / "notify.sqlite3")
    hooks = Webhooks(outbox, TargetPolicy())
    outbox.save_subscription(Subscription("wh_1", "https://93.184.215.14/", "s", ("agent.offline", "agent.online"),
                                          (), False, 60, "", True, 0.0))
    now = datetime.now(UTC)
    engine = live.engines["stockholm"]
    with live.lock:
        engine.status("sthlm-pi-entre", True, now - timedelta(seconds=10))
        engine.heartbeat("sthlm-pi-entre", now - timedelta(seconds=10), 30.0, {})
        engine.status("sthlm-pi-entre", False, now - timedelta(seconds=5))
    Monitor(hubs, live, store, outbox, hooks, clock=now.timestamp).check()
    Monitor(hubs, live, store, outbox, hooks, clock=now.timestamp).check()  # a restarted monitor
    assert [d.type for d in outbox.deliveries("wh_1")] == ["agent.offline"]
    with live.lock:
        engine.status("sthlm-pi-entre", True, now)
        engine.heartbeat("sthlm-pi-entre", now, 30.0, {})
    Monitor(hubs, live, store, outbox, hooks, clock=lambda: now.timestamp() + 1).check()
    assert [d.type for d in outbox.deliveries("wh_1")] == ["agent.online", "agent.offline"]
    outbox.close()
    store.close()


def test_the_daily_summary_goes_once_a_day_after_summary_at(tmp_path: Path, hubs: dict[str, Hub]) -> None:
    from zoneinfo import ZoneInfo

    from collector.model import OccupancyState, StateChange

    store = SqliteStore(tmp_path / "db.sqlite3")
    outbox = Outbox(tmp_path / "notify.sqlite3")
    hooks = Webhooks(outbox, TargetPolicy())
    outbox.save_subscription(Subscription("wh_1", "https://93.184.215.14/", "s", ("summary.daily",), ("stockholm",),
                                          False, 60, "", True, 0.0))
    tz = ZoneInfo("Europe/Stockholm")
    monday = datetime(2026, 11, 30, tzinfo=tz)  # open 07-19
    store.add_changes([StateChange("stockholm", "lagerelden", None, OccupancyState.FREE, monday.replace(hour=7)),
                       StateChange("stockholm", "lagerelden", None, OccupancyState.OCCUPIED, monday.replace(hour=9)),
                       StateChange("stockholm", "lagerelden", None, OccupancyState.FREE, monday.replace(hour=12))])
    live = LiveState(hubs)
    for hour in (5, 7, 8):
        t = datetime(2026, 12, 1, hour, tzinfo=tz).timestamp()
        Monitor(hubs, live, store, outbox, hooks, clock=lambda t=t: t).check()
    [delivery] = outbox.deliveries("wh_1")
    import json

    data = json.loads(delivery.body)["data"]
    DATA_MODELS[EventType.DAILY_SUMMARY].model_validate(data)
    zone = next(z for z in data["zones"] if z["zone"] == "lagerelden")
    assert data["date"] == "2026-11-30" and zone["open_s"] == 12 * 3600
    assert zone["occupied_s"] == 3 * 3600 and zone["utilisation"] == 0.25
    outbox.close()
    store.close()
