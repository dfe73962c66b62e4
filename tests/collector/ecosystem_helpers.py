"""Helpers for the ecosystem tests (Home Assistant, metrics): an agent-side MQTT
publisher and a recording subscriber, both real paho clients on the test broker."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import paho.mqtt.client as mqtt

from hubsense.protocol import (
    AgentState,
    AgentStatus,
    MessageKind,
    SensorEvent,
    SensorKind,
    SensorState,
    encode,
    topic,
)
from hubsense.services import Mosquitto, free_port

HUB, AGENT, SENSOR, ZONE = "stockholm", "sthlm-pi-entre", "lagerelden-pir", "lagerelden"


Login = tuple[str, str] | None


def _client(broker: Mosquitto, prefix: str, login: Login = None) -> mqtt.Client:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{prefix}-{free_port()}", protocol=mqtt.MQTTv5)
    if login:
        c.username_pw_set(*login)
    return c


class FakeAgent:
    """Publishes what a real agent publishes (status, events), validated by the protocol models."""

    def __init__(self, broker: Mosquitto, hub: str = HUB, agent: str = AGENT, login: Login = None) -> None:
        self.hub, self.agent, self.seq = hub, agent, 0
        self.client = _client(broker, "test-agent", login)
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def status(self, online: bool) -> None:
        msg = AgentStatus(hub=self.hub, agent=self.agent, boot="boot1",
                          state=AgentState.ONLINE if online else AgentState.OFFLINE, ts=datetime.now(UTC))
        self._publish(MessageKind.STATUS, encode(msg), retain=True)

    def motion(self, sensor: str = SENSOR, state: SensorState = SensorState.MOTION) -> None:
        self.seq += 1
        msg = SensorEvent(hub=self.hub, agent=self.agent, boot="boot1", sensor=sensor, kind=SensorKind.PIR,
                          state=state, ts=datetime.now(UTC), seq=self.seq)
        self._publish(MessageKind.EVENT, encode(msg))

    def raw(self, kind: MessageKind, payload: bytes, hub: str | None = None) -> None:
        self.client.publish(topic(hub or self.hub, self.agent, kind), payload, qos=1).wait_for_publish(5)

    def _publish(self, kind: MessageKind, payload: bytes, retain: bool = False) -> None:
        self.client.publish(topic(self.hub, self.agent, kind), payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        # clear the retained status so later tests on the shared broker start clean
        self._publish(MessageKind.STATUS, b"", retain=True)
        self.client.disconnect()
        self.client.loop_stop()


class Recorder:
    """Subscribes to topic filters and keeps the last payload (and retain flag) of every topic."""

    def __init__(self, broker: Mosquitto, *filters: str, login: Login = None) -> None:
        self.last: dict[str, tuple[str, bool]] = {}
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.client = _client(broker, "test-rec", login)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_connect = lambda c, *a: c.subscribe([(f, 1) for f in filters])
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        assert self.subscribed.wait(5), "no SUBACK"

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.last[message.topic] = (message.payload.decode(), bool(message.retain))

    def get(self, name: str) -> str | None:
        with self.lock:
            item = self.last.get(name)
        return item[0] if item else None

    def retained(self, name: str) -> bool:
        with self.lock:
            return self.last.get(name, ("", False))[1]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
