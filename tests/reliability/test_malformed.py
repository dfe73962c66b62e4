"""Malformed input, property-based: nothing escapes the parser or the handler, every rejection is
counted by reason, and valid messages around bad ones are processed exactly as without them."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.handler import MessageHandler, Outcome
from collector.live import LiveState
from hubsense import protocol as p
from hubsense.config import Hub

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
AGENT = "sthlm-pi-entre"
EVENT_TOPIC = p.topic("stockholm", AGENT, p.MessageKind.EVENT)
PARSER_REASONS = {"bad_topic", "too_large", "bad_json", "schema", "topic_mismatch"}
HANDLER_REASONS = PARSER_REASONS | {"unknown_hub", "unknown_agent", "unknown_sensor", "wrong_kind"}
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _event(n: int, ts: object = None, **override: object) -> dict:
    base = {"v": 1, "hub": "stockholm", "agent": AGENT, "boot": "b1", "sensor": "lagerelden-pir", "kind": "pir",
            "state": "motion" if n % 2 else "no_motion", "ts": ts or NOW.isoformat(), "seq": n}
    base.update(override)
    return base


# -- strategies ------------------------------------------------------------------------------------

odd_values = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
odd_numbers = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1e308"])
extreme_ts = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)).map(
        lambda d: d.isoformat()),
    st.sampled_from(["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1970-01-01T00:00:00Z",
                     "2026-11-24T09:00:00", "2026-13-45T99:00:00Z", "", "now", "2026-11-24T09:00:00+25:00"]),
    st.integers(min_value=-(2**63), max_value=2**63).map(str),
)
FIELDS = ["v", "hub", "agent", "boot", "sensor", "kind", "state", "ts", "seq", "extra"]


def _acceptable(message: tuple[str, bytes]) -> bool:
    """Oracle: would the handler accept this (valid, and the one known sensor of this test)?"""
    try:
        msg = p.parse_message(*message)
    except p.Rejected:
        return False
    return isinstance(msg, p.SensorEvent) and (msg.hub, msg.agent, msg.sensor, msg.kind.value) == (
        "stockholm", AGENT, "lagerelden-pir", "pir")


@st.composite
def _bad_event(draw) -> tuple[str, bytes]:
    how = draw(st.sampled_from(["bytes", "field", "number", "drop", "huge", "unknown", "topic", "json_type"]))
    seq = draw(st.integers(min_value=1000, max_value=10**6))
    if how == "bytes":
        payload = draw(st.binary(max_size=300))
        return EVENT_TOPIC, payload if payload.strip()[:1] != b"{" else b"{" + payload
    if how == "field":
        data = _event(seq)
        data[draw(st.sampled_from(FIELDS))] = draw(odd_values)
        return EVENT_TOPIC, json.dumps(data).encode()
    if how == "number":
        name = draw(st.sampled_from(["seq", "ts", "v"]))
        raw = json.dumps(_event(seq, **{name: "@"})).replace('"@"', draw(odd_numbers))
        return EVENT_TOPIC, raw.encode()
    if how == "drop":
        data = _event(seq)
        del data[draw(st.sampled_from(["hub", "agent", "boot", "sensor", "kind", "state", "ts", "seq"]))]
        return EVENT_TOPIC, json.dumps(data).encode()
    if how == "huge":
        size = draw(st.integers(min_value=p.MAX_PAYLOAD_BYTES + 1, max_value=200_000))
        return EVENT_TOPIC, json.dumps(_event(seq, boot="x" * size)).encode()
    if how == "unknown":
        override = draw(st.sampled_from([{"sensor": "no-such-sensor"}, {"sensor": "oasen-pir"},
                                         {"kind": "door", "state": "open"}]))
        return EVENT_TOPIC, json.dumps(_event(seq, **override)).encode()
    if how == "topic":
        name = draw(st.one_of(st.text(max_size=60), st.sampled_from(
            ["hubsense/stockholm/sthlm-pi-entre", "hubsense/stockholm/sthlm-pi-entre/event/x",
             "hubsense/Stockholm/sthlm-pi-entre/event", "hubsense/stockholm/sthlm-pi-entre/bogus",
             "hubsense/uppsala/u1/event", "hubsense/stockholm/sthlm-pi-ghost/event"])))
        return name, json.dumps(_event(seq)).encode()
    return EVENT_TOPIC, draw(st.sampled_from([b"[]", b"null", b"42", b'"event"', b"{}", b"{" * 5000]))


# a malformed or unacceptable event (a mutation that happens to stay valid is filtered out)
bad_event = _bad_event().filter(lambda m: not _acceptable(m))

valid_ts = st.one_of(st.just(NOW.isoformat()), extreme_ts.filter(_parses := lambda s: _is_aware_iso(s)))


def _is_aware_iso(text: str) -> bool:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


# -- parser ---------------------------------------------------------------------------------------------


@FUZZ
@given(topic=st.one_of(st.text(max_size=80), st.just(EVENT_TOPIC)), payload=st.binary(max_size=5000))
def test_parser_raises_only_rejected_on_random_input(topic: str, payload: bytes) -> None:
    try:
        p.parse_message(topic, payload)
    except p.Rejected as exc:
        assert exc.reason in PARSER_REASONS


@FUZZ
@given(message=_bad_event())
def test_parser_never_raises_anything_but_rejected(message: tuple[str, bytes]) -> None:
    try:
        msg = p.parse_message(*message)
    except p.Rejected as exc:
        assert exc.reason in PARSER_REASONS
    else:  # schema-valid, e.g. a sensor the config does not know: the handler's job
        assert isinstance(msg, p.SensorEvent)


@FUZZ
@given(ts=valid_ts)
def test_any_aware_timestamp_parses_to_utc(ts: str) -> None:
    """Far-past and far-future clocks are accepted (and later placed by receive time), never a crash."""
    msg = p.parse_message(EVENT_TOPIC, json.dumps(_event(1, ts=ts)).encode())
    assert msg.ts.utcoffset() == timedelta(0)


# -- handler ---------------------------------------------------------------------------------------------


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_handler_counts_every_rejection_and_keeps_valid_neighbours(stockholm: Hub, data) -> None:
    bad = data.draw(st.lists(bad_event, min_size=1, max_size=12))
    n_valid = data.draw(st.integers(min_value=1, max_value=12))
    stamps = data.draw(st.lists(valid_ts, min_size=n_valid, max_size=n_valid))
    valid = [(EVENT_TOPIC, json.dumps(_event(i + 1, ts=ts)).encode()) for i, ts in enumerate(stamps)]
    order = data.draw(st.permutations([("v", m) for m in valid] + [("b", m) for m in bad]))
    # the same valid messages in the same order, without the bad ones, through a fresh handler
    clean, clean_out = MessageHandler(LiveState({"stockholm": stockholm})), Outcome()
    mixed, mixed_out = MessageHandler(LiveState({"stockholm": stockholm})), Outcome()
    for i, (kind, message) in enumerate(order):
        received = NOW + timedelta(seconds=i)
        assert mixed.handle(*message, received, mixed_out) is (kind == "v")
        if kind == "v":
            clean.handle(*message, received, clean_out)
    counts = mixed.counters.snapshot()
    assert counts["received"] == len(order) and counts["accepted"] == len(valid)
    assert sum(counts["rejected"].values()) == len(bad)
    assert set(counts["rejected"]) <= HANDLER_REASONS  # never internal_error
    assert [e.key for e in mixed_out.events] == [e.key for e in clean_out.events]
    assert mixed_out.changes == clean_out.changes
    now = NOW + timedelta(seconds=len(order))
    assert mixed.live.views("stockholm", now) == clean.live.views("stockholm", now)


def test_each_reason_is_counted_under_its_own_label(stockholm: Hub) -> None:
    handler, out = MessageHandler(LiveState({"stockholm": stockholm})), Outcome()
    cases = {
        "bad_json": (EVENT_TOPIC, b"{not json"),
        "schema": (EVENT_TOPIC, json.dumps(_event(1, seq="one")).encode()),
        "too_large": (EVENT_TOPIC, json.dumps(_event(1, boot="x" * 5000)).encode()),
        "bad_topic": ("hubsense/stockholm/sthlm-pi-entre/bogus", json.dumps(_event(1)).encode()),
        "unknown_sensor": (EVENT_TOPIC, json.dumps(_event(1, sensor="no-such")).encode()),
        "unknown_hub": ("hubsense/uppsala/sthlm-pi-entre/event",
                        json.dumps(_event(1, hub="uppsala")).encode()),
    }
    for message in cases.values():
        assert not handler.handle(*message, NOW, out)
    nan = json.dumps(_event(1)).replace('"seq": 1', '"seq": NaN').encode()
    assert not handler.handle(EVENT_TOPIC, nan, NOW, out)
    assert handler.counters.snapshot()["rejected"] == {**dict.fromkeys(cases, 1), "schema": 2}
    assert not out.events and math.isfinite(NOW.timestamp())
