"""The agent's own serialisation (hubsense/wire.py) against the models that own the schema
(hubsense/protocol.py): what the agent sends is exactly what ``encode(Model(...))`` gives and
validates; a storage acknowledgement it accepts is one the model accepts, with the same content."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubsense import protocol as p
from hubsense import wire

IDS = st.from_regex(r"\A[a-z0-9][a-z0-9_-]{0,20}\Z")
BOOTS = st.from_regex(r"\A[A-Za-z0-9_-]{1,32}\Z")
TIMES = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                     timezones=st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))]))
SEQS = st.integers(0, p.MAX_WIRE_INT)


@settings(max_examples=300, deadline=None)
@given(hub=IDS, agent=IDS, boot=BOOTS, sensor=IDS, kind=st.sampled_from(list(p.SensorKind)), active=st.booleans(),
       ts=TIMES, seq=SEQS)
def test_event_payload_is_the_models_encoding(hub: str, agent: str, boot: str, sensor: str, kind: p.SensorKind,
                                              active: bool, ts: datetime, seq: int) -> None:
    spec = p.kind_spec(kind)
    state = spec.active if active else spec.idle
    model = p.SensorEvent(hub=hub, agent=agent, boot=boot, sensor=sensor, kind=kind, state=state, ts=ts, seq=seq)
    payload = wire.event_payload(hub, agent, boot, sensor, kind, state, ts, seq)
    assert payload == p.encode(model)
    assert p.parse_message(p.topic(hub, agent, p.MessageKind.EVENT), payload) == model


def test_an_event_with_a_state_of_another_kind_is_refused_like_the_model_does() -> None:
    with pytest.raises(ValueError, match="not valid for a door sensor"):
        wire.event_payload("h", "a", "b", "s", p.SensorKind.DOOR, p.SensorState.MOTION, datetime.now(UTC), 1)


@settings(max_examples=200, deadline=None)
@given(hub=IDS, agent=IDS, boot=BOOTS, state=st.sampled_from(list(p.AgentState)), ts=TIMES)
def test_status_payload_is_the_models_encoding(hub: str, agent: str, boot: str, state: p.AgentState,
                                               ts: datetime) -> None:
    model = p.AgentStatus(hub=hub, agent=agent, boot=boot, state=state, ts=ts)
    payload = wire.status_payload(hub, agent, boot, state, ts)
    assert payload == p.encode(model)
    assert p.parse_message(p.topic(hub, agent, p.MessageKind.STATUS), payload) == model


@settings(max_examples=200, deadline=None)
@given(hub=IDS, agent=IDS, boot=BOOTS, ts=TIMES, seq=SEQS,
       uptime=st.integers(0, 10**9 * 1000).map(lambda ms: round(ms / 1000, 3)),
       interval=st.floats(0.001, 3600).map(lambda x: round(x, 3)).filter(lambda x: x > 0),
       depth=st.integers(0, 10**6), dropped=st.integers(0, 10**6),
       sensors=st.dictionaries(IDS, st.sampled_from(list(p.SensorState)), max_size=8))
def test_heartbeat_payload_is_the_models_encoding(hub: str, agent: str, boot: str, ts: datetime, seq: int,
                                                  uptime: float, interval: float, depth: int, dropped: int,
                                                  sensors: dict[str, p.SensorState]) -> None:
    info = wire.HeartbeatInfo(hub, agent, boot, ts, seq, uptime, interval, depth, dropped, sensors)
    model = p.Heartbeat(hub=hub, agent=agent, boot=boot, ts=ts, seq=seq, uptime_s=uptime, interval_s=interval,
                        queue_depth=depth, dropped=dropped, sensors=sensors)
    payload = wire.heartbeat_payload(info)
    assert payload == p.encode(model)
    assert p.parse_message(p.topic(hub, agent, p.MessageKind.HEARTBEAT), payload) == model


RANGES = st.lists(st.tuples(BOOTS, st.integers(0, 10**6), st.integers(0, 10**6)).map(
    lambda r: (r[0], min(r[1], r[2]), max(r[1], r[2]))), max_size=6)


@settings(max_examples=200, deadline=None)
@given(hub=IDS, agent=IDS, ranges=RANGES, resend=st.booleans(), ts=TIMES)
def test_a_storage_ack_the_collector_sends_is_read_as_the_model_reads_it(
        hub: str, agent: str, ranges: list[tuple[str, int, int]], resend: bool, ts: datetime) -> None:
    model = p.StorageAck(hub=hub, agent=agent, stored=[p.StoredRange(boot=b, first=f, last=la) for b, f, la in ranges],
                         resend=resend, ts=ts)
    read = wire.read_storage_ack(p.encode(model))
    assert read == wire.StoredAck(hub, agent, tuple(ranges), resend)


def _valid() -> dict:
    return {"v": 1, "hub": "stockholm", "agent": "pi-1", "stored": [{"boot": "b1", "first": 1, "last": 3}],
            "resend": False, "ts": "2026-11-30T10:00:00Z"}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 2**54) | st.floats(allow_nan=False) | st.text(max_size=12)
    | st.sampled_from(["2026-13-01T00:00:00Z", "2026-11-30T10:00:00+25:00", "9999-12-31T23:59:59-01:00",
                       "2026-11-30T10:00:00.123456789Z", "Stockholm", "b" * 33, "pi 1", "ok\n"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8)


def _mutate(draw_key: str, value: object, where: str) -> dict:
    obj = _valid()
    if where == "range":
        obj["stored"][0][draw_key if draw_key in ("boot", "first", "last") else "boot"] = value
    elif where == "drop":
        obj.pop(draw_key, None)
    else:
        obj[draw_key] = value
    return obj


@settings(max_examples=500, deadline=None)
@given(key=st.sampled_from(["v", "hub", "agent", "stored", "resend", "ts", "boot", "first", "last", "extra"]),
       value=JSON_VALUES, where=st.sampled_from(["top", "range", "drop"]))
def test_the_agent_accepts_what_the_model_accepts_with_the_same_content(key: str, value: object,
                                                                            where: str) -> None:
    payload = json.dumps(_mutate(key, value, where)).encode()
    try:
        model = p.StorageAck.model_validate_json(payload)
    except ValueError:
        model = None
    try:
        read = wire.read_storage_ack(payload)
    except ValueError:
        read = None
    assert (read is None) == (model is None), payload  # the same verdict
    if read is not None:
        assert read == wire.StoredAck(model.hub, model.agent, tuple((r.boot, r.first, r.last) for r in model.stored),
                                      model.resend)


@pytest.mark.parametrize("payload", [b"", b"[]", b"{", b'{"hub":"h","agent":"a","ts":"2026-11-30T10:00:00Z",'
                                     b'"hub":"x"}', b'{"hub":"h","agent":"a","ts":"2026-11-30T10:00:00Z","v":true}'])
def test_junk_and_duplicate_keys_are_refused(payload: bytes) -> None:
    with pytest.raises(ValueError):
        wire.read_storage_ack(payload)
