"""The wire contract between sensor agents and the collector.

This module is the one place that owns MQTT topic names and payload schemas;
the edge agent and the collector both import it.  ``docs/protocol.md``
documents it for humans and ``hubsense protocol schema`` prints the JSON Schema
generated from the models below.

Topics (``{hub}`` and ``{agent}`` are config ids)::

    hubsense/{hub}/{agent}/event       sensor events, QoS 1, not retained
    hubsense/{hub}/{agent}/status      online / offline, QoS 1, retained, Last Will
    hubsense/{hub}/{agent}/heartbeat   periodic liveness + current sensor states, QoS 1
    hubsense/{hub}/_ack/{agent}/stored what the collector has durably stored of the agent's events,
                                       QoS 1, retained; sent by the collector, read only by that agent

Every payload is a JSON object with a schema version ``v``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

# The names that need no pydantic live in hubsense/wire.py (what the agent imports); re-exported here
# (noqa: F401), so this module is the whole contract.
from hubsense.wire import (
    ACK_LEVEL,  # noqa: F401
    BROKER_MAX_PACKET_BYTES,  # noqa: F401
    ID_PATTERN,
    ID_RE,
    MAX_ACK_RANGES,
    MAX_PACKET_BYTES,  # noqa: F401
    MAX_PAYLOAD_BYTES,
    MAX_WIRE_INT,
    SCHEMA_VERSION,
    SENSOR_KINDS,  # noqa: F401
    TOPIC_ROOT,
    TS_PATTERN,
    TS_RE,
    AgentState,
    Device,  # noqa: F401
    KindSpec,  # noqa: F401
    MessageKind,
    SensorKind,
    SensorState,
    Signal,  # noqa: F401
    UnknownSensorKind,  # noqa: F401
    ack_topic,  # noqa: F401
    agent_prefix,  # noqa: F401
    kind_spec,
    kinds_feeding,  # noqa: F401
    now_utc,  # noqa: F401
    subscription,  # noqa: F401
    topic,  # noqa: F401
)

Ident = Annotated[str, Field(pattern=ID_PATTERN, description="Lower-case id: a-z, 0-9, '-', '_'.")]


def _iso_text(value: object) -> object:
    """Only ISO 8601 text goes on the wire: a number (or numeric text, which pydantic would read as
    seconds since 1970) is refused.  Datetimes built in Python (the agent's own) pass."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not TS_RE.match(value):
        raise ValueError("timestamp must be ISO 8601 text with a time and an offset, e.g. 2026-11-28T09:15:02Z")
    return value


def _utc(value: datetime) -> datetime:
    if value.utcoffset() == _ZERO:  # agents send 'Z': skip the conversion on the hot path
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-01:00 or 0001-01-01T00:00:00+01:00 has no UTC date
        raise ValueError("timestamp is outside the range of UTC dates") from None


_ZERO = timedelta(0)


UtcTime = Annotated[
    AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_utc), Field(json_schema_extra={"pattern": TS_PATTERN})
]
WireInt = Annotated[int, Field(strict=True, ge=0, le=MAX_WIRE_INT)]  # no "1", true or 1.0 for 1
WireFloat = Annotated[float, Field(strict=True, allow_inf_nan=False)]  # no true for 1.0


BootId = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = Field(SCHEMA_VERSION, description="Schema version of this payload.")
    hub: Ident = Field(description="Hub id; must equal the {hub} topic level.")
    agent: Ident = Field(description="Agent id; must equal the {agent} topic level.")
    boot: str = Field(
        min_length=1,
        max_length=32,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Boot id: random per agent process start, so a restart (and its new "
        "sequence numbering) is visible.",
    )

    @field_validator("v", mode="before")
    @classmethod
    def _exact_version(cls, value: object) -> object:
        if type(value) is not int:  # Literal[1] alone takes true and 1.0
            raise ValueError("v must be the integer 1")
        return value


class SensorEvent(_Message):
    """A sensor changed state (PIR motion / no motion, door open / closed)."""

    sensor: Ident = Field(description="Sensor id from the hub config.")
    kind: SensorKind = Field(description="Sensor kind: 'pir' or 'door'.")
    state: SensorState = Field(
        description="New state: 'motion'/'no_motion' for pir, 'open'/'closed' for door."
    )
    ts: UtcTime = Field(description="Agent clock time of the change, ISO 8601 with offset.")
    seq: WireInt = Field(
        description="Per-agent sequence number, +1 for each event since boot; "
        "(agent, boot, seq) identifies an event.",
    )

    def model_post_init(self, _context: object) -> None:
        if self.state not in kind_spec(self.kind).states:
            raise ValueError(f"state {self.state.value!r} is not valid for a {self.kind.value} sensor")

    @property
    def key(self) -> tuple[str, str, int]:
        """The identity used for de-duplication: (agent, boot, seq)."""
        return (self.agent, self.boot, self.seq)


class AgentStatus(_Message):
    """Retained online/offline status.  The Last Will carries ``offline``."""

    state: AgentState = Field(description="'online' once connected; 'offline' on clean exit or as Last Will.")
    ts: UtcTime = Field(
        description="Agent clock time the status was produced; for a Last Will this is the time "
        "the will was registered, so the collector uses its receive time instead."
    )


class Heartbeat(_Message):
    """Periodic liveness message with the agent's current view of its sensors."""

    ts: UtcTime = Field(description="Agent clock time of the heartbeat.")
    seq: WireInt = Field(description="Sequence number of the last event published in this boot (0 if none).")
    uptime_s: WireFloat = Field(ge=0, le=MAX_WIRE_INT, description="Seconds since the agent process started.")
    interval_s: WireFloat = Field(gt=0, le=3600, description="Seconds until the next heartbeat is due.")
    queue_depth: WireInt = Field(0, description="Events waiting in the agent's store-and-forward queue.")
    dropped: WireInt = Field(0, description="Events dropped from the agent's queue because it was full.")
    sensors: dict[Ident, SensorState] = Field(
        default_factory=dict, description="Current state of each of the agent's sensors, by sensor id."
    )


class StoredRange(BaseModel):
    """Events ``first`` … ``last`` (inclusive) of one boot, all durably stored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    boot: BootId = Field(description="Boot id of the events.")
    first: WireInt = Field(description="First sequence number of the range.")
    last: WireInt = Field(description="Last sequence number of the range (>= first).")

    def model_post_init(self, _context: object) -> None:
        if self.last < self.first:
            raise ValueError("last must be >= first")




class StorageAck(BaseModel):
    """From the collector to one agent (``hubsense/{hub}/_ack/{agent}/stored``, QoS 1, retained):
    which of its events are now durably stored, so it may delete them from its queue.  Explicit
    ranges, not a high-water mark: an event in transit, or lost with a crashed broker, is never
    confirmed by a later one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = Field(SCHEMA_VERSION, description="Schema version of this payload.")
    hub: Ident = Field(description="Hub id of the agent.")
    agent: Ident = Field(description="The agent these events are from (and the only reader of the topic).")
    stored: list[StoredRange] = Field(
        default_factory=list, max_length=MAX_ACK_RANGES,
        description="Events stored since the previous acknowledgement (duplicates included).",
    )
    resend: bool = Field(
        False, description="Sent when the collector (re)starts or its MQTT session starts afresh: what the broker "
        "held for it, or acknowledgements a killed collector never sent, may be gone, so the agent sends again every "
        "event not yet acknowledged.  Ignored on a retained copy (an agent sends everything again after connecting "
        "anyway)."
    )
    ts: UtcTime = Field(description="Collector clock when sent.")

    @field_validator("v", mode="before")
    @classmethod
    def _exact_version(cls, value: object) -> object:
        return _Message._exact_version(value)


def stored_ranges(keys: Iterable[tuple[str, int]]) -> list[StoredRange]:
    """(boot, seq) pairs as few ranges as possible, by boot then seq."""
    out: list[StoredRange] = []
    boot, first, last = None, -1, -2
    for b, seq in sorted(set(keys)):
        if b == boot and seq == last + 1:
            last = seq
            continue
        if boot is not None:
            out.append(StoredRange(boot=boot, first=first, last=last))
        boot, first, last = b, seq, seq
    if boot is not None:
        out.append(StoredRange(boot=boot, first=first, last=last))
    return out


Message = SensorEvent | AgentStatus | Heartbeat
MODEL_BY_KIND: dict[MessageKind, type[_Message]] = {
    MessageKind.EVENT: SensorEvent,
    MessageKind.STATUS: AgentStatus,
    MessageKind.HEARTBEAT: Heartbeat,
}


# --- topics -----------------------------------------------------------------


@lru_cache(maxsize=4096)  # a hub has few topics; parsing each once saves work on every message
def parse_topic(name: str) -> tuple[str, str, MessageKind]:
    """Split ``hubsense/{hub}/{agent}/{kind}``; raises :class:`Rejected`."""
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != TOPIC_ROOT:
        raise Rejected("bad_topic", f"topic {name!r} is not hubsense/{{hub}}/{{agent}}/{{kind}}")
    _, hub, agent, kind = parts
    if not ID_RE.match(hub) or not ID_RE.match(agent):
        raise Rejected("bad_topic", f"topic {name!r} has an invalid hub or agent id")
    try:
        return hub, agent, MessageKind(kind)
    except ValueError:
        raise Rejected("bad_topic", f"topic {name!r}: unknown message kind {kind!r}") from None


# --- parsing ------------------------------------------------------------------


class Rejected(Exception):
    """A message that does not meet the contract; ``reason`` is a short counter label."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


MAX_CLOCK_SKEW = timedelta(days=1)


def parse_message(topic_name: str, payload: bytes, received: datetime | None = None) -> Message:
    """Validate one MQTT message against the contract.

    Raises :class:`Rejected` with a reason label: ``bad_topic``, ``too_large``,
    ``bad_json``, ``schema``, ``topic_mismatch``.  Anything else raised here
    would be a bug; the collector still catches it.
    """
    hub, agent, kind = parse_topic(topic_name)
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise Rejected("too_large", f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}")
    model = MODEL_BY_KIND[kind]
    try:
        msg = model.model_validate_json(payload)
    except ValidationError as exc:
        reason = "bad_json" if any(e["type"] == "json_invalid" for e in exc.errors()) else "schema"
        raise Rejected(reason, _first_error(exc)) from None
    except ValueError as exc:  # model_post_init, bad UTF-8
        raise Rejected("schema", str(exc)) from None
    _check_unique_keys(payload, msg)
    if msg.hub != hub or msg.agent != agent:
        raise Rejected(
            "topic_mismatch", f"payload says {msg.hub}/{msg.agent}, topic says {hub}/{agent}"
        )
    return msg  # type: ignore[return-value]


class _DuplicateKey(ValueError):
    pass


def _unique_pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        raise _DuplicateKey(next(k for k, _ in pairs if k in seen or seen.add(k)))
    return obj


def _check_unique_keys(payload: bytes, msg: _Message) -> None:
    """JSON parsers keep the last of two equal keys; a payload that says ``"seq"`` twice is refused.

    Fast path for compact JSON (what agents send): no whitespace, and as many ``":`` as distinct keys
    the model read (no string of a valid message contains a quote, so each ``":`` ends a key).
    Anything else gets the exact check."""
    distinct = len(msg.model_fields_set) + (len(msg.sensors) if isinstance(msg, Heartbeat) else 0)
    if (payload.count(b'":') == distinct and b" " not in payload and b"\n" not in payload
            and b"\t" not in payload and b"\r" not in payload):
        return
    try:
        json.loads(payload, object_pairs_hook=_unique_pairs)
    except _DuplicateKey as exc:
        raise Rejected("schema", f"duplicate key {str(exc)[:64]!r}") from None


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in err["loc"]) or "payload"
    return f"{loc}: {err['msg']}"


def encode(msg: _Message) -> bytes:
    """Serialise a message exactly as agents publish it (compact JSON, UTC 'Z')."""
    return msg.model_dump_json(exclude_none=True).encode()


def json_schemas() -> dict[str, dict]:
    """JSON Schema of every payload, generated from the models (``ack``: collector to agent)."""
    schemas = {kind.value: model.model_json_schema() for kind, model in MODEL_BY_KIND.items()}
    schemas["ack"] = StorageAck.model_json_schema()
    return schemas
