from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from collector.handler import MessageHandler, Outcome
from collector.live import LiveState
from collector.model import OccupancyState
from hubsense import protocol as p
from hubsense.config import Hub

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # a Tuesday, open


def _status(agent: str, state: str = "online") -> tuple[str, bytes]:
    msg = p.AgentStatus(hub="stockholm", agent=agent, boot="b1", state=p.AgentState(state), ts=NOW)
    return p.topic("stockholm", agent, p.MessageKind.STATUS), p.encode(msg)


def _event(sensor: str, state: str, seq: int, agent: str = "sthlm-pi-entre", kind: str = "pir") -> tuple[str, bytes]:
    payload = {"v": 1, "hub": "stockholm", "agent": agent, "boot": "b1", "sensor": sensor, "kind": kind,
               "state": state, "ts": NOW.isoformat(), "seq": seq}
    return p.topic("stockholm", agent, p.MessageKind.EVENT), json.dumps(payload).encode()


@pytest.fixture
def handler(stockholm: Hub) -> MessageHandler:
    return MessageHandler(LiveState({"stockholm": stockholm}))


def _zone(handler: MessageHandler, zone: str, now: datetime = NOW) -> OccupancyState:
    return next(v.state for v in handler.live.views("stockholm", now) if v.zone == zone)


def test_motion_turns_zone_occupied_and_records_event(handler: MessageHandler) -> None:
    out = Outcome()
    assert handler.handle(*_status("sthlm-pi-entre"), NOW, out)
    assert handler.handle(*_event("lagerelden-pir", "motion", 1), NOW, out)
    assert [e.key for e in out.events] == [("sthlm-pi-entre", "b1", 1)]
    assert out.health and out.health[0].online
    assert _zone(handler, "lagerelden") is OccupancyState.OCCUPIED
    assert any(c.zone == "lagerelden" and c.state is OccupancyState.OCCUPIED for c in out.changes)


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (("hubsense/stockholm/sthlm-pi-entre/event", b"garbage"), "bad_json"),
        (_event("lagerelden-pir", "motion", 1, agent="sthlm-pi-ghost"), "unknown_agent"),
        (_event("oasen-pir", "motion", 1), "unknown_sensor"),  # a sensor of another agent
        (_event("lagerelden-pir", "open", 1, kind="door"), "wrong_kind"),
        (("hubsense/uppsala/a1/status", _status("a1")[1].replace(b"stockholm", b"uppsala")), "unknown_hub"),
        (("hubsense/stockholm/sthlm-pi-entre/event", _event("lagerelden-pir", "motion", 1, agent="sthlm-pi-rum")[1]),
         "topic_mismatch"),
    ],
)
def test_rejections_are_counted_and_do_not_disturb_neighbours(
    handler: MessageHandler, message: tuple[str, bytes], reason: str
) -> None:
    out = Outcome()
    handler.handle(*_status("sthlm-pi-entre"), NOW, out)
    assert not handler.handle(*message, NOW, out)
    assert handler.handle(*_event("rastplatsen-pir", "motion", 2), NOW, out)
    assert handler.counters.snapshot()["rejected"] == {reason: 1}
    assert [e.sensor for e in out.events] == ["rastplatsen-pir"]
    assert _zone(handler, "rastplatsen") is OccupancyState.OCCUPIED


def test_offline_agent_makes_its_zones_unknown(handler: MessageHandler) -> None:
    out = Outcome()
    handler.handle(*_status("sthlm-pi-entre"), NOW, out)
    handler.handle(*_event("lagerelden-pir", "motion", 1), NOW, out)
    handler.handle(*_status("sthlm-pi-entre", "offline"), NOW + timedelta(seconds=5), out)
    assert _zone(handler, "lagerelden", NOW + timedelta(seconds=5)) is OccupancyState.UNKNOWN
    assert out.health[-1].online is False

