"""Helpers for the edge tests: a recording MQTT subscriber and hubs with unique ids."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hubsense.config import Hub
from hubsense.protocol import Heartbeat, MessageKind, SensorEvent, parse_message, parse_topic


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retain: bool

    @property
    def kind(self) -> MessageKind:
        return parse_topic(self.topic)[2]

    def parsed(self):
        return parse_message(self.topic, self.payload)


class Recorder:
    """A paho subscriber that records every message; ``start`` returns after the SUBACK."""

    def __init__(self, port: int, topic: str, client_id: str = "", persistent: bool = False,
                 auth: tuple[str, str] | None = None) -> None:
        self.port, self.topic = port, topic
        self.messages: list[Received] = []
        self._cond = threading.Condition()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.on_connect = self._on_connect
        if auth:
            self.client.username_pw_set(*auth)
        self.persistent = persistent

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if not flags.session_present:
            client.subscribe(self.topic, qos=1)

    def _on_message(self, client, userdata, msg) -> None:
        with self._cond:
            self.messages.append(Received(msg.topic, msg.payload, bool(msg.retain)))
            self._cond.notify_all()

    def start(self) -> Recorder:
        props = None
        if self.persistent:
            from paho.mqtt.packettypes import PacketTypes
            from paho.mqtt.properties import Properties

            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 3600
        self.client.reconnect_delay_set(0.1, 0.5)
        self.client.connect("127.0.0.1", self.port, clean_start=not self.persistent, properties=props)
        self.client.loop_start()
        assert self._subscribed.wait(5), "no SUBACK"
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def of_kind(self, kind: MessageKind) -> list[Received]:
        with self._cond:
            return [m for m in self.messages if m.kind is kind]

    def events(self) -> list[SensorEvent]:
        return [m.parsed() for m in self.of_kind(MessageKind.EVENT)]

    def heartbeats(self) -> list[Heartbeat]:
        return [m.parsed() for m in self.of_kind(MessageKind.HEARTBEAT)]

    def wait_until(self, predicate: Callable[[Recorder], bool], timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            time.sleep(0.02)
        return predicate(self)

    def wait_events(self, n: int, timeout: float = 5.0) -> list[SensorEvent]:
        self.wait_until(lambda r: len(r.of_kind(MessageKind.EVENT)) >= n, timeout)
        return self.events()


def unique_hub(hub: Hub) -> Hub:
    """The same layout under a fresh hub id, so tests sharing a broker never see each other."""
    return Hub.model_validate({**hub.model_dump(), "id": f"t-{secrets.token_hex(4)}"})


def hub_toml(hub: Hub) -> str:
    """Write the hub config back as TOML (only what the agent needs: hours, zones, agents)."""
    def val(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return str(v)
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k} = {val(x)}" for k, x in v.items() if x is not None) + "}"
        return json.dumps(str(v), ensure_ascii=False)

    data = hub.model_dump(mode="json", exclude_none=True)
    lines = [f"{k} = {val(data[k])}" for k in ("id", "name", "timezone")]
    for table in ("opening_hours", "zones", "agents"):
        for item in data[table]:
            lines.append(f"[[{table}]]")
            lines += [f"{k} = {val(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@pytest.fixture
def hub(stockholm: Hub) -> Hub:
    return unique_hub(stockholm)


@pytest.fixture
def recorder_factory() -> Iterator[Callable[..., Recorder]]:
    made: list[Recorder] = []

    def make(port: int, topic: str, **kw) -> Recorder:
        rec = Recorder(port, topic, **kw).start()
        made.append(rec)
        return rec

    yield make
    for rec in made:
        rec.stop()
