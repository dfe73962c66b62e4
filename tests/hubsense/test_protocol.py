from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from hubsense import protocol as p

TS = datetime(2026, 11, 28, 9, 15, 2, 123000, tzinfo=UTC)


def _event(**kw) -> dict:
    base = {"v": 1, "hub": "stockholm", "agent": "sthlm-pi-entre", "sensor": "lagerelden-pir", "kind": "pir",
            "state": "motion", "ts": "2026-11-28T09:15:02.123Z", "seq": 42, "boot": "9f3c2a1b"}
    base.update(kw)
    return base


EVENT_TOPIC = "hubsense/stockholm/sthlm-pi-entre/event"


def test_event_round_trip() -> None:
    msg = p.SensorEvent(hub="stockholm", agent="sthlm-pi-entre", sensor="lagerelden-pir", kind=p.SensorKind.PIR,
                        state=p.SensorState.MOTION, ts=TS, seq=42, boot="9f3c2a1b")
    parsed = p.parse_message(EVENT_TOPIC, p.encode(msg))
    assert parsed == msg
    assert parsed.key == ("sthlm-pi-entre", "9f3c2a1b", 42)


def test_timestamps_are_normalised_to_utc() -> None:
    msg = p.parse_message(EVENT_TOPIC, json.dumps(_event(ts="2026-11-28T10:15:02.123+01:00")).encode())
    assert msg.ts == TS and msg.ts.tzinfo == UTC


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("hubsense/stockholm/sthlm-pi-entre/event", b"{not json", "bad_json"),
        ("hubsense/stockholm/sthlm-pi-entre/event", json.dumps(_event(extra=1)).encode(), "schema"),
        ("hubsense/stockholm/sthlm-pi-entre/event", json.dumps(_event(seq="x")).encode(), "schema"),
        ("hubsense/stockholm/sthlm-pi-entre/event", json.dumps(_event(seq=-1)).encode(), "schema"),
        ("hubsense/stockholm/sthlm-pi-entre/event", json.dumps(_event(state="open")).encode(), "schema"),
        ("hubsense/stockholm/sthlm-pi-entre/event", json.dumps(_event(ts="2026-11-28T09:15:02")).encode(), "schema"),
        ("hubsense/stockholm/sthlm-pi-entre/event", json.dumps(_event(v=2)).encode(), "schema"),
        ("hubsense/ostersund/sthlm-pi-entre/event", json.dumps(_event()).encode(), "topic_mismatch"),
        ("hubsense/stockholm/sthlm-pi-entre/gossip", json.dumps(_event()).encode(), "bad_topic"),
        ("other/stockholm/sthlm-pi-entre/event", json.dumps(_event()).encode(), "bad_topic"),
        ("hubsense/Stockholm!/x/event", json.dumps(_event()).encode(), "bad_topic"),
        ("hubsense/stockholm/sthlm-pi-entre/event", b" " * (p.MAX_PAYLOAD_BYTES + 1), "too_large"),
        ("hubsense/stockholm/sthlm-pi-entre/event", b"\xff\xfe", "bad_json"),
        # strict types (issue 19): no coercion, no epoch numbers, no duplicate keys, no overflow
        ("hubsense/stockholm/sthlm-pi-entre/event", json.dumps(_event(seq="1")).encode(), "schema"),
        ("hubsense/stockholm/sthlm-pi-entre/event", json.dumps(_event(seq=True)).encode(), "schema"),
        ("hubsense/stockholm/sthlm-pi-entre/event", json.dumps(_event(seq=1.0)).encode(), "schema"),
        ("hubsense/stockholm/sthlm-pi-entre/event", json.dumps(_event(seq=2**63)).encode(), "schema"),
        ("hubsense/stockholm/sthlm-pi-entre/event", json.dumps(_event(v=True)).encode(), "schema"),
        ("hubsense/stockholm/sthlm-pi-entre/event", json.dumps(_event(ts=0)).encode(), "schema"),
        ("hubsense/stockholm/sthlm-pi-entre/event", json.dumps(_event(ts="1700000000")).encode(), "schema"),
        ("hubsense/stockholm/sthlm-pi-entre/event", json.dumps(_event(ts="9999-12-31T23:59:59-01:00")).encode(),
         "schema"),
        ("hubsense/stockholm/sthlm-pi-entre/event", json.dumps(_event(ts="0001-01-01T00:00:00+14:00")).encode(),
         "schema"),
        ("hubsense/stockholm/sthlm-pi-entre/event", json.dumps(_event()).replace('"seq": 42', '"seq": 42, "seq": 43')
         .encode(), "schema"),
        ("hubsense/stockholm/sthlm-pi-entre/event", json.dumps(_event(), separators=(",", ":"))
         .replace('"seq":42', '"seq":42,"seq":43').encode(), "schema"),
    ],
)
def test_rejections_carry_a_reason(topic: str, payload: bytes, reason: str) -> None:
    with pytest.raises(p.Rejected) as info:
        p.parse_message(topic, payload)
    assert info.value.reason == reason
    assert info.value.detail


def test_status_and_heartbeat() -> None:
    status = p.AgentStatus(hub="stockholm", agent="a1", boot="b", state=p.AgentState.OFFLINE,
                           ts=TS.astimezone(timezone(timedelta(hours=1))))
    assert p.parse_message("hubsense/stockholm/a1/status", p.encode(status)).state is p.AgentState.OFFLINE
    hb = p.Heartbeat(hub="stockholm", agent="a1", boot="b", ts=TS, seq=3, uptime_s=12.5, interval_s=30,
                     sensors={"lagerelden-pir": p.SensorState.NO_MOTION})
    parsed = p.parse_message("hubsense/stockholm/a1/heartbeat", p.encode(hb))
    assert parsed.sensors == {"lagerelden-pir": p.SensorState.NO_MOTION}
    with pytest.raises(p.Rejected):
        bad = p.encode(hb).replace(b"\"interval_s\":30.0", b"\"interval_s\":0")
        p.parse_message("hubsense/stockholm/a1/heartbeat", bad)


def test_topics_and_schemas() -> None:
    assert p.topic("stockholm", "a1", p.MessageKind.EVENT) == "hubsense/stockholm/a1/event"
    assert p.parse_topic("hubsense/stockholm/a1/status") == ("stockholm", "a1", p.MessageKind.STATUS)
    assert p.agent_prefix("stockholm", "a1") == "hubsense/stockholm/a1/#"
    schemas = p.json_schemas()
    assert set(schemas) == {"event", "status", "heartbeat", "ack"}
    for schema in schemas.values():
        assert all("description" in prop for prop in schema["properties"].values())


def test_heartbeat_integers_are_bounded() -> None:
    hb = {"v": 1, "hub": "stockholm", "agent": "a1", "boot": "b", "ts": "2026-11-28T09:15:30Z", "seq": 3,
          "uptime_s": 1.0, "interval_s": 30.0, "queue_depth": 0, "dropped": 0, "sensors": {}}
    assert p.parse_message("hubsense/stockholm/a1/heartbeat", json.dumps(hb).encode()).seq == 3
    for field, value in [("seq", 2**63), ("queue_depth", 2**63), ("dropped", 2**64), ("uptime_s", True),
                         ("interval_s", "30")]:
        with pytest.raises(p.Rejected) as info:
            p.parse_message("hubsense/stockholm/a1/heartbeat", json.dumps({**hb, field: value}).encode())
        assert info.value.reason == "schema", field


def test_compact_and_spaced_json_are_both_accepted() -> None:
    msg = _event()
    for text in (json.dumps(msg), json.dumps(msg, separators=(",", ":")), json.dumps(msg, indent=2)):
        assert p.parse_message(EVENT_TOPIC, text.encode()).seq == 42
