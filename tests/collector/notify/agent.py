"""A pretend sensor agent for the notification tests: real protocol messages over a real broker."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt

from hubsense.protocol import AgentState, AgentStatus, Heartbeat, MessageKind, SensorEvent, encode, topic


class FakeAgent:
    def __init__(self, port: int, hub: str, agent: str) -> None:
        self.hub, self.agent = hub, agent
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"notify-test-{secrets.token_hex(4)}")
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.boot = secrets.token_hex(4)
        self.seq = 0

    def _send(self, kind: MessageKind, msg, retain: bool = False) -> None:
        self.client.publish(topic(self.hub, self.agent, kind), encode(msg), qos=1, retain=retain).wait_for_publish(5)

    def online(self, interval_s: float = 30.0, sensors: dict | None = None, skew_s: float = 0.0) -> None:
        now = datetime.now(UTC) + timedelta(seconds=skew_s)
        self._send(MessageKind.STATUS, AgentStatus(hub=self.hub, agent=self.agent, boot=self.boot,
                                                   state=AgentState.ONLINE, ts=now))
        self.heartbeat(interval_s, sensors, skew_s)

    def heartbeat(self, interval_s: float = 30.0, sensors: dict | None = None, skew_s: float = 0.0) -> None:
        self._send(MessageKind.HEARTBEAT, Heartbeat(
            hub=self.hub, agent=self.agent, boot=self.boot, ts=datetime.now(UTC) + timedelta(seconds=skew_s),
            seq=self.seq, uptime_s=1.0, interval_s=interval_s, sensors=sensors or {}))

    def offline(self) -> None:
        self._send(MessageKind.STATUS, AgentStatus(hub=self.hub, agent=self.agent, boot=self.boot,
                                                   state=AgentState.OFFLINE, ts=datetime.now(UTC)))

    def event(self, sensor: str, kind: str, state: str) -> None:
        self.seq += 1
        self._send(MessageKind.EVENT, SensorEvent(hub=self.hub, agent=self.agent, boot=self.boot, sensor=sensor,
                                                  kind=kind, state=state, ts=datetime.now(UTC), seq=self.seq))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
