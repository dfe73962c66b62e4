"""Runtime settings of one sensor agent (broker, credentials, TLS, queue, timing).

The hub layout (which sensor is on which pin) comes from the hub config file;
these are the settings that differ per installation or per run.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

PIN_FACTORIES = ("mock", "lgpio", "rpigpio", "native")


class AgentSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    broker_host: str = Field("127.0.0.1", description="MQTT broker host name or address.")
    broker_port: int = Field(1883, ge=1, le=65535, description="MQTT broker TCP port.")
    client_id: str | None = Field(
        None, description="MQTT client id; default 'hubsense-{hub}-{agent}'."
    )
    username: str | None = Field(None, description="MQTT user name (broker password file / ACL).")
    password: str | None = Field(None, description="MQTT password; only sent with a user name.")
    ca_file: Path | None = Field(None, description="CA certificate file: connect over TLS when set.")
    certfile: Path | None = Field(None, description="Client certificate file for TLS client authentication.")
    keyfile: Path | None = Field(None, description="Private key file of the client certificate.")
    keepalive_s: int = Field(
        30, ge=5, le=3600, description="MQTT keepalive: the broker fires the Last Will after ~1.5x this "
        "much silence from a dead agent."
    )
    heartbeat_interval_s: float = Field(
        60.0, gt=0, le=3600, description="Seconds between heartbeats while connected."
    )
    reconnect_min_s: float = Field(0.5, gt=0, description="First delay before reconnecting after a failure.")
    reconnect_max_s: float = Field(
        60.0, gt=0, description="Longest reconnect delay; the delay doubles after each failure up to this."
    )
    queue_path: Path | None = Field(
        None, description="SQLite file of the store-and-forward queue; ':memory:' for none (events are lost "
        "on restart); default $XDG_STATE_HOME/hubsense/queue-{hub}-{agent}.sqlite3."
    )
    storage_ack: bool = Field(
        True, description="Keep each event until the collector says it is durably stored (its acknowledgements "
        "on hubsense/{hub}/_ack/{agent}/stored; the broker ACL must let this agent read that topic).  False: "
        "delete it on the broker's PUBACK, which a broker crash can turn into a loss (docs/reliability.md)."
    )
    queue_max_events: int = Field(
        10_000, ge=1, description="Queue bound: past it the oldest undelivered events are dropped (counted)."
    )
    pin_factory: str | None = Field(
        None, description="gpiozero pin factory: mock, lgpio, rpigpio or native; default "
        "$GPIOZERO_PIN_FACTORY, else gpiozero's own choice."
    )
    pir_sample_hz: float = Field(
        10.0, gt=0, le=100, description="How often gpiozero samples each PIR (a thread per PIR; gpiozero's "
        "default 10 Hz).  PIR modules hold their output high for seconds, so 4-5 Hz misses nothing on real "
        "hardware and halves the sampling CPU; pulses shorter than two periods may be missed."
    )
    door_bounce_s: float | None = Field(
        0.05, ge=0, description="Software debounce of door reed contacts in seconds (None: off)."
    )

    @model_validator(mode="after")
    def _check(self) -> AgentSettings:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be >= reconnect_min_s")
        if self.pin_factory is not None and self.pin_factory not in PIN_FACTORIES:
            raise ValueError(f"pin_factory must be one of {', '.join(PIN_FACTORIES)}")
        if (self.certfile is None) != (self.keyfile is None):
            raise ValueError("set both certfile and keyfile, or neither")
        if self.certfile is not None and self.ca_file is None:
            raise ValueError("a client certificate needs ca_file (TLS) too")
        return self

    def resolved_client_id(self, hub: str, agent: str) -> str:
        return self.client_id or f"hubsense-{hub}-{agent}"

    def resolved_queue_path(self, hub: str, agent: str) -> str:
        """The SQLite path of the queue (a str, since ':memory:' is not a file)."""
        if self.queue_path is not None:
            return str(self.queue_path)
        state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
        return str(state / "hubsense" / f"queue-{hub}-{agent}.sqlite3")
