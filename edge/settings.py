"""Runtime settings of one sensor agent (broker, credentials, TLS, queue, timing).

The hub layout (which sensor is on which pin) comes from the hub config file;
these are the settings that differ per installation or per run.

A frozen dataclass checked in ``__post_init__`` rather than a pydantic model: the running agent
never imports pydantic (about 10 MB on a Raspberry Pi, docs/raspberry-pi.md).  Like the models,
every field has a description, unknown fields are refused (TypeError) and a bad value raises
ValueError naming the field.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

PIN_FACTORIES = ("mock", "lgpio", "rpigpio", "native")
_PATHS = ("ca_file", "certfile", "keyfile", "queue_path")


def _doc(description: str) -> dict[str, str]:
    return {"description": description}


@dataclass(frozen=True)
class AgentSettings:
    broker_host: str = field(default="127.0.0.1", metadata=_doc("MQTT broker host name or address."))
    broker_port: int = field(default=1883, metadata=_doc("MQTT broker TCP port (1-65535)."))
    client_id: str | None = field(default=None, metadata=_doc("MQTT client id; default 'hubsense-{hub}-{agent}'."))
    username: str | None = field(default=None, metadata=_doc("MQTT user name (broker password file / ACL)."))
    password: str | None = field(default=None, metadata=_doc("MQTT password; only sent with a user name."))
    ca_file: Path | None = field(default=None, metadata=_doc("CA certificate file: connect over TLS when set."))
    certfile: Path | None = field(
        default=None, metadata=_doc("Client certificate file for TLS client authentication."))
    keyfile: Path | None = field(default=None, metadata=_doc("Private key file of the client certificate."))
    keepalive_s: int = field(default=30, metadata=_doc(
        "MQTT keepalive (5-3600 s): the broker fires the Last Will after ~1.5x this much silence from a dead "
        "agent."))
    heartbeat_interval_s: float = field(
        default=60.0, metadata=_doc("Seconds between heartbeats while connected (up to 3600)."))
    reconnect_min_s: float = field(default=0.5, metadata=_doc("First delay before reconnecting after a failure."))
    reconnect_max_s: float = field(default=60.0, metadata=_doc(
        "Longest reconnect delay; the delay doubles after each failure up to this."))
    queue_path: Path | None = field(default=None, metadata=_doc(
        "SQLite file of the store-and-forward queue; ':memory:' for none (events are lost on restart); default "
        "$XDG_STATE_HOME/hubsense/queue-{hub}-{agent}.sqlite3."))
    storage_ack: bool = field(default=True, metadata=_doc(
        "Keep each event until the collector says it is durably stored (its acknowledgements on "
        "hubsense/{hub}/_ack/{agent}/stored; the broker ACL must let this agent read that topic).  False: delete "
        "it on the broker's PUBACK, which a broker crash can turn into a loss (docs/reliability.md)."))
    queue_max_events: int = field(default=10_000, metadata=_doc(
        "Queue bound: past it the oldest undelivered events are dropped (counted)."))
    pin_factory: str | None = field(default=None, metadata=_doc(
        "gpiozero pin factory: mock, lgpio, rpigpio or native; default $GPIOZERO_PIN_FACTORY, else gpiozero's "
        "own choice."))
    pir_sample_hz: float = field(default=10.0, metadata=_doc(
        "How often gpiozero samples each PIR (a thread per PIR; gpiozero's default 10 Hz, at most 100).  PIR "
        "modules hold their output high for seconds, so 4-5 Hz misses nothing on real hardware and halves the "
        "sampling CPU; pulses shorter than two periods may be missed."))
    door_bounce_s: float | None = field(default=0.05, metadata=_doc(
        "Software debounce of door reed contacts in seconds (None: off)."))

    def __post_init__(self) -> None:
        for name in _PATHS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, name, Path(value))
        for problem in self._problems():
            raise ValueError(problem)

    def _problems(self) -> list[str]:
        out = [f"{name}: {why}" for name, ok, why in (
            ("broker_port", _int(self.broker_port) and 1 <= self.broker_port <= 65535, "must be 1-65535"),
            ("keepalive_s", _int(self.keepalive_s) and 5 <= self.keepalive_s <= 3600, "must be 5-3600"),
            ("heartbeat_interval_s", _num(self.heartbeat_interval_s) and 0 < self.heartbeat_interval_s <= 3600,
             "must be > 0 and <= 3600"),
            ("reconnect_min_s", _num(self.reconnect_min_s) and self.reconnect_min_s > 0, "must be > 0"),
            ("reconnect_max_s", _num(self.reconnect_max_s) and self.reconnect_max_s > 0, "must be > 0"),
            ("queue_max_events", _int(self.queue_max_events) and self.queue_max_events >= 1, "must be >= 1"),
            ("pir_sample_hz", _num(self.pir_sample_hz) and 0 < self.pir_sample_hz <= 100, "must be > 0 and <= 100"),
            ("door_bounce_s", self.door_bounce_s is None or (_num(self.door_bounce_s) and self.door_bounce_s >= 0),
             "must be >= 0 or None"),
            ("pin_factory", self.pin_factory is None or self.pin_factory in PIN_FACTORIES,
             f"must be one of {', '.join(PIN_FACTORIES)}"),
        ) if not ok]
        if not out and self.reconnect_max_s < self.reconnect_min_s:
            out.append("reconnect_max_s must be >= reconnect_min_s")
        if (self.certfile is None) != (self.keyfile is None):
            out.append("certfile, keyfile: set both certfile and keyfile, or neither")
        if self.certfile is not None and self.ca_file is None:
            out.append("ca_file: a client certificate needs ca_file (TLS) too")
        return out

    def replace(self, **changes: object) -> AgentSettings:
        """A copy with these fields changed (checked again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        """Plain values (paths as text), for handing the settings to the running agent (edge/run.py)."""
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}

    @classmethod
    def descriptions(cls) -> dict[str, str]:
        return {f.name: f.metadata.get("description", "") for f in fields(cls)}

    def resolved_client_id(self, hub: str, agent: str) -> str:
        return self.client_id or f"hubsense-{hub}-{agent}"

    def resolved_queue_path(self, hub: str, agent: str) -> str:
        """The SQLite path of the queue (a str, since ':memory:' is not a file)."""
        if self.queue_path is not None:
            return str(self.queue_path)
        state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
        return str(state / "hubsense" / f"queue-{hub}-{agent}.sqlite3")


def _int(value: object) -> bool:
    return type(value) is int


def _num(value: object) -> bool:
    return type(value) in (int, float) and value == value  # not NaN
