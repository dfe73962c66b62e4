"""The wire contract's names and numbers, without pydantic: what a sensor agent needs at run time.

The payload schemas are owned by the pydantic models in :mod:`hubsense.protocol` (which re-exports
everything here); this module holds the parts that need no pydantic (topic names, the enums, the
sensor kinds table, limits) and the agent's own serialisation of its three messages
(:func:`event_payload`, :func:`status_payload`, :func:`heartbeat_payload`) and reading of the
collector's storage acknowledgements (:func:`read_storage_ack`).  Those produce and accept exactly
what the models do: ``tests/hubsense/test_wire.py`` checks them against the models, byte for byte
and field by field, so the models stay the one owner of the schema.  The agent on a Raspberry Pi
imports this module and not pydantic (about 10 MB less memory, docs/raspberry-pi.md).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

SCHEMA_VERSION = 1
TOPIC_ROOT = "hubsense"
MAX_PAYLOAD_BYTES = 4096
# Largest MQTT packet the collector accepts (MQTT v5 Maximum Packet Size in its CONNECT): a payload
# of MAX_PAYLOAD_BYTES plus topic and properties.  The broker drops anything bigger for it unread.
MAX_PACKET_BYTES = 2 * MAX_PAYLOAD_BYTES
# Largest MQTT packet the broker takes from anyone (Mosquitto max_packet_size, set by
# 'hubsense provision' and deploy/mosquitto): room for Home Assistant discovery configs.
BROKER_MAX_PACKET_BYTES = 65536
ACK_LEVEL = "_ack"  # '_' cannot start an id, so these topics never clash with an agent's
ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
ID_RE = re.compile(ID_PATTERN)
# Every integer on the wire fits a JSON double exactly and a signed 64-bit column (SQLite, InfluxDB).
MAX_WIRE_INT = 2**53
# A timestamp is an ISO 8601 string with date, time and offset; no epoch numbers, no bare dates.
TS_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|z|[+-]\d{2}:\d{2})$"
TS_RE = re.compile(TS_PATTERN)

class MessageKind(StrEnum):
    """The last topic level: what kind of message a topic carries."""

    EVENT = "event"
    STATUS = "status"
    HEARTBEAT = "heartbeat"


class SensorKind(StrEnum):
    PIR = "pir"
    DOOR = "door"


class SensorState(StrEnum):
    """What a sensor reports: PIR ``motion``/``no_motion``, door ``open``/``closed``."""

    MOTION = "motion"
    NO_MOTION = "no_motion"
    OPEN = "open"
    CLOSED = "closed"


class Signal(StrEnum):
    """What a sensor kind tells the occupancy engine (collector/engine/)."""

    MOTION = "motion"  # presence in a zone or at a desk: sensors of one zone / desk form one motion group
    DOOR = "door"  # the door of a room: closed with motion inside = occupied until it opens


class Device(StrEnum):
    """How the agent reads the sensor's pin (edge/sensors.py)."""

    SAMPLED = "sampled"  # an output held high while active (PIR modules): sampled, no debounce
    CONTACT = "contact"  # a switch contact (reed): edge-triggered, debounced


@dataclass(frozen=True)
class KindSpec:
    """One row of :data:`SENSOR_KINDS`: everything the agent, config check, engine, simulators and
    statistics need to know about a sensor kind."""

    kind: SensorKind
    active: SensorState  # reported while the device is active (its pin at the active level)
    idle: SensorState  # reported otherwise
    rest: SensorState  # with nobody around (where simulations start; a closed door, no motion)
    signal: Signal  # which engine signal the kind feeds
    device: Device  # how the agent reads it
    pull_up: bool  # default pull resistor (the config's pull_up / active_high override it)
    rooms_only: bool  # may only watch a zone of kind 'room'
    desks: bool  # may watch a desk of a desk area
    states: frozenset[SensorState] = field(init=False)  # {active, idle}: what the kind may report

    def __post_init__(self) -> None:
        object.__setattr__(self, "states", frozenset({self.active, self.idle}))


# The sensor kinds, one row each.  Adding a kind is a row here plus the kind's own logic
# (see docs/extending.md); every consumer looks a kind up with :func:`kind_spec`.
SENSOR_KINDS: dict[SensorKind, KindSpec] = {
    SensorKind.PIR: KindSpec(SensorKind.PIR, active=SensorState.MOTION, idle=SensorState.NO_MOTION,
                             rest=SensorState.NO_MOTION, signal=Signal.MOTION, device=Device.SAMPLED,
                             pull_up=False, rooms_only=False, desks=True),
    SensorKind.DOOR: KindSpec(SensorKind.DOOR, active=SensorState.CLOSED, idle=SensorState.OPEN,
                              rest=SensorState.CLOSED, signal=Signal.DOOR, device=Device.CONTACT,
                              pull_up=True, rooms_only=True, desks=False),
}


class UnknownSensorKind(LookupError):
    """A sensor kind without a row in :data:`SENSOR_KINDS`."""


def kind_spec(kind: SensorKind | str) -> KindSpec:
    """The table row of a sensor kind; raises :class:`UnknownSensorKind` for a kind without one."""
    try:
        return SENSOR_KINDS[kind]  # type: ignore[index]
    except KeyError:
        raise UnknownSensorKind(f"sensor kind {kind!r} has no row in hubsense.wire.SENSOR_KINDS") from None


def kinds_feeding(signal: Signal) -> frozenset[SensorKind]:
    """The kinds whose sensors feed this engine signal."""
    return frozenset(k for k, spec in SENSOR_KINDS.items() if spec.signal is signal)


class AgentState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


MAX_ACK_RANGES = 256  # ranges per storage acknowledgement; more go into further messages
BOOT_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
BOOT_RE = re.compile(BOOT_PATTERN)


# --- topics -----------------------------------------------------------------


def topic(hub: str, agent: str, kind: MessageKind) -> str:
    return f"{TOPIC_ROOT}/{hub}/{agent}/{kind.value}"


def ack_topic(hub: str, agent: str) -> str:
    """Where the collector tells one agent how far its events are durably stored (retained)."""
    return f"{TOPIC_ROOT}/{hub}/{ACK_LEVEL}/{agent}/stored"


def agent_prefix(hub: str, agent: str) -> str:
    """The topic prefix an agent may publish under (for ACLs)."""
    return f"{TOPIC_ROOT}/{hub}/{agent}/#"


def subscription(hub: str = "+") -> str:
    """The wildcard the collector subscribes to for one hub or all hubs."""
    return f"{TOPIC_ROOT}/{hub}/+/+"


def now_utc() -> datetime:
    return datetime.now(UTC)


# --- the agent's messages, without the models (tests/hubsense/test_wire.py: same bytes) -------

def wire_time(ts: datetime) -> str:
    """A timestamp as the models write it: UTC, ``Z``, microseconds only when there are any."""
    t = ts.astimezone(UTC)
    frac = f".{t.microsecond:06d}" if t.microsecond else ""
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}{frac}Z"


def _dumps(obj: dict) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def event_payload(hub: str, agent: str, boot: str, sensor: str, kind: SensorKind, state: SensorState,
                  ts: datetime, seq: int) -> bytes:
    """A ``SensorEvent`` as ``hubsense.protocol.encode`` writes it."""
    if state not in kind_spec(kind).states:
        raise ValueError(f"state {state.value!r} is not valid for a {kind.value} sensor")
    return _dumps({"v": SCHEMA_VERSION, "hub": hub, "agent": agent, "boot": boot, "sensor": sensor,
                   "kind": kind.value, "state": state.value, "ts": wire_time(ts), "seq": seq})


def status_payload(hub: str, agent: str, boot: str, state: AgentState, ts: datetime) -> bytes:
    """An ``AgentStatus`` as ``hubsense.protocol.encode`` writes it."""
    return _dumps({"v": SCHEMA_VERSION, "hub": hub, "agent": agent, "boot": boot, "state": state.value,
                   "ts": wire_time(ts)})


@dataclass(frozen=True)
class HeartbeatInfo:
    """A heartbeat's content (what :func:`heartbeat_payload` writes)."""

    hub: str
    agent: str
    boot: str
    ts: datetime
    seq: int
    uptime_s: float
    interval_s: float
    queue_depth: int = 0
    dropped: int = 0
    sensors: dict[str, SensorState] = field(default_factory=dict)


def heartbeat_payload(hb: HeartbeatInfo) -> bytes:
    """A ``Heartbeat`` as ``hubsense.protocol.encode`` writes it."""
    return _dumps({"v": SCHEMA_VERSION, "hub": hb.hub, "agent": hb.agent, "boot": hb.boot, "ts": wire_time(hb.ts),
                   "seq": hb.seq, "uptime_s": float(hb.uptime_s), "interval_s": float(hb.interval_s),
                   "queue_depth": hb.queue_depth, "dropped": hb.dropped,
                   "sensors": {k: v.value for k, v in hb.sensors.items()}})


@dataclass(frozen=True)
class StoredAck:
    """What an agent takes from a storage acknowledgement (``hubsense.protocol.StorageAck``)."""

    hub: str
    agent: str
    stored: tuple[tuple[str, int, int], ...]  # (boot, first, last) ranges
    resend: bool


_ACK_KEYS = frozenset({"v", "hub", "agent", "stored", "resend", "ts"})
_RANGE_KEYS = frozenset({"boot", "first", "last"})


def read_storage_ack(payload: bytes | str) -> StoredAck:
    """Read a ``StorageAck``; ValueError for anything the model would refuse (tests/hubsense/test_wire.py:
    whatever this accepts, the model accepts with the same content)."""
    obj = json.loads(payload, object_pairs_hook=_unique)
    if not isinstance(obj, dict) or not obj.keys() <= _ACK_KEYS or not {"hub", "agent", "ts"} <= obj.keys():
        raise ValueError("not a storage acknowledgement")
    if obj.get("v", SCHEMA_VERSION) != SCHEMA_VERSION or type(obj.get("v", SCHEMA_VERSION)) is not int:
        raise ValueError("v must be the integer 1")
    hub, agent, resend, ts = obj["hub"], obj["agent"], obj.get("resend", False), obj["ts"]
    if not (_is_id(hub) and _is_id(agent)) or type(resend) is not bool or not _is_time(ts):
        raise ValueError("bad hub, agent, resend or ts")
    stored = obj.get("stored", [])
    if not isinstance(stored, list) or len(stored) > MAX_ACK_RANGES:
        raise ValueError("stored must be a list of at most 256 ranges")
    return StoredAck(hub, agent, tuple(_range(r) for r in stored), resend)


def _unique(pairs: list[tuple[str, object]]) -> dict[str, object]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate key")
    return obj


def _is_id(value: object) -> bool:
    return isinstance(value, str) and ID_RE.match(value) is not None and "\n" not in value


def _is_wire_int(value: object) -> bool:
    return type(value) is int and 0 <= value <= MAX_WIRE_INT


def _is_time(value: object) -> bool:
    if not isinstance(value, str) or not TS_RE.match(value) or "\n" in value:
        return False
    try:
        datetime.fromisoformat(value).astimezone(UTC)
    except (ValueError, OverflowError):
        return False
    return True


def _range(obj: object) -> tuple[str, int, int]:
    if not isinstance(obj, dict) or obj.keys() != _RANGE_KEYS:
        raise ValueError("a stored range is {boot, first, last}")
    boot, first, last = obj["boot"], obj["first"], obj["last"]
    if not (isinstance(boot, str) and BOOT_RE.match(boot) and "\n" not in boot) or not (
            _is_wire_int(first) and _is_wire_int(last)) or last < first:
        raise ValueError("bad stored range")
    return boot, first, last
