"""Small paho-mqtt v5 helpers for the security tests: connect, publish and see PUBACK reasons, collect."""

from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt

from hubsense.services import free_port


@dataclass
class Probe:
    """A connected (or refused) client that records what happened to it."""

    client: mqtt.Client
    connack: mqtt.ReasonCode | None = None
    connected: threading.Event = field(default_factory=threading.Event)
    subscribed: threading.Event = field(default_factory=threading.Event)
    puback: dict[int, mqtt.ReasonCode] = field(default_factory=dict)
    received: list[tuple[str, bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def publish(self, topic: str, payload: bytes = b"x", timeout: float = 5.0) -> mqtt.ReasonCode:
        """Publish at QoS 1 and return the broker's PUBACK reason code (135: not authorised)."""
        info = self.client.publish(topic, payload, qos=1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if info.mid in self.puback:
                    return self.puback[info.mid]
            time.sleep(0.005)
        raise TimeoutError(f"no PUBACK for {topic}")

    def wait_for(self, topic: str, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if any(t == topic for t, _ in self.received):
                    return
            time.sleep(0.005)
        raise TimeoutError(f"{topic} never arrived; got {self.topics()}")

    def topics(self) -> list[str]:
        with self.lock:
            return [t for t, _ in self.received]

    def subscribe(self, topic: str, timeout: float = 5.0) -> None:
        self.subscribed.clear()
        self.client.subscribe(topic, qos=1)
        assert self.subscribed.wait(timeout), "no SUBACK"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def connect(port: int, username: str | None = None, password: str | None = None, *,
            tls: dict | None = None, timeout: float = 5.0) -> Probe:
    """Connect and wait for the CONNACK (or for the TLS handshake to fail)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"probe-{free_port()}",
                         protocol=mqtt.MQTTv5)
    probe = Probe(client)
    if username is not None:
        client.username_pw_set(username, password)
    if tls is not None:
        client.tls_set(cert_reqs=ssl.CERT_REQUIRED, **tls)

    def on_connect(c, u, flags, rc, props):
        probe.connack = rc
        probe.connected.set()

    def on_publish(c, u, mid, rc, props):
        with probe.lock:
            probe.puback[mid] = rc

    def on_message(c, u, msg):
        with probe.lock:
            probe.received.append((msg.topic, msg.payload))

    client.on_connect = on_connect
    client.on_publish = on_publish
    client.on_message = on_message
    client.on_subscribe = lambda c, u, mid, rcs, props: probe.subscribed.set()
    try:
        client.connect("127.0.0.1", port)
    except (ssl.SSLError, OSError):
        return probe  # refused during the TLS handshake: connack stays None
    deadline = time.monotonic() + timeout  # drive the loop by hand until the CONNACK: a refused
    while not probe.connected.is_set() and time.monotonic() < deadline:  # client never waits 1 s in select
        if client.loop(timeout=0.02) != mqtt.MQTT_ERR_SUCCESS:
            break  # connection closed by the broker
    if probe.connack is not None and not probe.connack.is_failure:
        client.loop_start()
    return probe
