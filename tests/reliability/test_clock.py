"""An agent whose clock is far off: detected against receive time, flagged in its health, and its
events placed by receive time (rule: collector.engine.clock, docs/reliability.md)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from collector.engine import MAX_SKEW_S
from collector.handler import MessageHandler, Outcome
from collector.live import LiveState
from collector.model import OccupancyState
from collector.store.sqlite import SqliteStore
from edge.agent import Agent
from edge.settings import AgentSettings
from hubsense import protocol as p
from hubsense.config import Hub
from hubsense.services import Mosquitto
from tests.reliability.support import InProcessCollector, write_hub
from tests.support import wait_for

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # a Tuesday, the hub is open
TWO_DAYS = timedelta(days=2)


def _heartbeat(agent: str, ts: datetime) -> tuple[str, bytes]:
    msg = p.Heartbeat(hub="stockholm", agent=agent, boot="b1", ts=ts, seq=0, uptime_s=1, interval_s=30)
    return p.topic("stockholm", agent, p.MessageKind.HEARTBEAT), p.encode(msg)


def _motion(agent: str, sensor: str, ts: datetime) -> tuple[str, bytes]:
    msg = p.SensorEvent(hub="stockholm", agent=agent, boot="b1", sensor=sensor, kind=p.SensorKind.PIR,
                        state=p.SensorState.MOTION, ts=ts, seq=1)
    return p.topic("stockholm", agent, p.MessageKind.EVENT), p.encode(msg)


LATER = NOW + timedelta(seconds=120)  # when the event arrives


def _run(stockholm: Hub, offset: timedelta) -> tuple[MessageHandler, Outcome]:
    handler, out = MessageHandler(LiveState({"stockholm": stockholm})), Outcome()
    assert handler.handle(*_heartbeat("sthlm-pi-entre", NOW + offset), NOW, out)
    assert handler.handle(*_motion("sthlm-pi-entre", "lagerelden-pir", LATER + offset), LATER, out)
    return handler, out


def _health(handler: MessageHandler, agent: str) -> dict:
    return next(h for h in handler.live.health("stockholm", LATER) if h["agent"] == agent)


def test_far_off_clock_is_flagged_and_its_events_placed_by_receive_time(stockholm: Hub) -> None:
    handler, out = _run(stockholm, TWO_DAYS)
    health = _health(handler, "sthlm-pi-entre")
    assert health["clock_skewed"] and health["clock_offset_s"] == TWO_DAYS.total_seconds()
    assert out.health[0].clock_offset_s == TWO_DAYS.total_seconds()  # stored with the heartbeat
    occupied = [c for c in out.changes if c.zone == "lagerelden" and c.state is OccupancyState.OCCUPIED]
    assert [c.at for c in occupied] == [LATER]  # receive time, not two days ahead
    assert not _health(handler, "sthlm-pi-rum")["clock_skewed"]  # never heard from: no offset, no flag


def test_small_offset_keeps_agent_time_and_no_flag(stockholm: Hub) -> None:
    small = timedelta(seconds=60)
    assert small.total_seconds() < MAX_SKEW_S
    handler, out = _run(stockholm, -small)
    assert not _health(handler, "sthlm-pi-entre")["clock_skewed"]
    occupied = [c for c in out.changes if c.zone == "lagerelden" and c.state is OccupancyState.OCCUPIED]
    assert [c.at for c in occupied] == [LATER - small]  # the agent's own (plausible) time


def test_skewed_agent_over_the_broker_is_flagged_in_the_api(private_broker: Mosquitto, tmp_path: Path) -> None:
    hub_id = f"rel-{secrets.token_hex(3)}"
    config, hub = write_hub(tmp_path, hub_id)
    db = tmp_path / "hubsense.sqlite3"
    collector = InProcessCollector(private_broker.port, config, db, f"clock-{hub_id}").start()
    pins = {a.id: MockFactory() for a in hub.agents}
    clocks = {"rel-a": lambda: datetime.now(UTC) + TWO_DAYS, "rel-b": lambda: datetime.now(UTC)}
    agents = [
        Agent(hub, a.id, AgentSettings(broker_port=private_broker.port, queue_path=Path(":memory:"), door_bounce_s=None,
                                       heartbeat_interval_s=1), pin_factory=pins[a.id], clock=clocks[a.id]).start()
        for a in hub.agents
    ]
    try:
        def report() -> dict:
            return {a["agent"]: a for a in collector.running.get(f"/api/hubs/{hub_id}/agents").json()["agents"]}

        wait_for(lambda: all(a["clock_offset_s"] is not None for a in report().values()), timeout=10)
        agents_now = report()
        assert agents_now["rel-a"]["clock_skewed"] and agents_now["rel-a"]["clock_offset_s"] > 2 * 86400 - 60
        assert not agents_now["rel-b"]["clock_skewed"] and abs(agents_now["rel-b"]["clock_offset_s"]) < 5
        before = datetime.now(UTC)
        pins["rel-a"].pin(22).drive_low()  # door closed, stamped two days ahead by rel-a's clock
        wait_for(lambda: collector.running.collector.store.event_count(hub_id) >= 1, timeout=5)
        since = collector.running.get(f"/api/hubs/{hub_id}/zones/rum-a").json()["since"]
        assert before - timedelta(seconds=5) < datetime.fromisoformat(since) < datetime.now(UTC) + timedelta(seconds=1)
        store = SqliteStore(db)
        try:
            offsets = {h.agent: h.clock_offset_s for h in store.latest_health(hub_id)}
        finally:
            store.close()
        assert offsets["rel-a"] > 2 * 86400 - 60 and abs(offsets["rel-b"]) < 5
    finally:
        for agent in agents:
            agent.stop()
        collector.stop()


def test_a_last_will_says_nothing_about_the_clock(stockholm: Hub) -> None:
    """A Last Will carries the time the will was registered (here three days ago), not a clock reading."""
    handler, out = MessageHandler(LiveState({"stockholm": stockholm})), Outcome()
    will = p.AgentStatus(hub="stockholm", agent="sthlm-pi-entre", boot="b1", state=p.AgentState.OFFLINE,
                         ts=NOW - timedelta(days=3))
    assert handler.handle(p.topic("stockholm", "sthlm-pi-entre", p.MessageKind.STATUS), p.encode(will), NOW, out)
    assert out.health[0].clock_offset_s == 0.0 and not out.health[0].online
    assert not _health(handler, "sthlm-pi-entre")["clock_skewed"]
