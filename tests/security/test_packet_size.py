"""A huge MQTT message never reaches the collector's memory (issue 19, defect 4).

Before, the payload size was checked after the whole message was in memory: 100 MB from any agent
credential raised the collector's RSS by ~300 MB.  Now the collector's CONNECT carries an MQTT v5
Maximum Packet Size, so the broker drops anything bigger for it unread, and the provisioned broker
options disconnect a client that sends a packet over 64 KiB before reading it.
"""

from __future__ import annotations

import json
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from hubsense.config import DEFAULT_CONFIG_DIR, Hub
from hubsense.protocol import BROKER_MAX_PACKET_BYTES, MAX_PACKET_BYTES, MAX_PAYLOAD_BYTES
from hubsense.provision import COLLECTOR_USER, provision
from hubsense.services import Mosquitto
from tests.security.conftest import secured_broker
from tests.security.mqtt import connect
from tests.security.test_provision import agent_login, collector_login
from tests.support import collector_settings, running_collector, wait_for

pytestmark = pytest.mark.slow


def _status(agent: str = "sthlm-pi-entre") -> bytes:
    return json.dumps({"v": 1, "hub": "stockholm", "agent": agent, "boot": "size", "state": "offline",
                       "ts": datetime.now(UTC).isoformat()}).encode()


def test_the_broker_keeps_oversized_messages_from_the_collector(broker: Mosquitto, tmp_path: Path) -> None:
    """Even on a broker without a size limit (the test broker), the collector is sent nothing over its
    Maximum Packet Size: a 1 MB message never arrives, the valid one behind it does."""
    settings = collector_settings(broker, tmp_path, config_paths=[DEFAULT_CONFIG_DIR / "stockholm.toml"],
                                  mqtt_client_id=f"size-{secrets.token_hex(3)}")
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    try:
        with running_collector(settings) as running:
            counters = running.collector.ingest.counters
            topic = "hubsense/stockholm/sthlm-pi-entre/event"
            pub.publish(topic, b"x" * (MAX_PACKET_BYTES + 1), qos=1).wait_for_publish(10)
            pub.publish(topic, b"x" * (1 << 20), qos=1).wait_for_publish(10)
            pub.publish(topic, b"x" * (MAX_PAYLOAD_BYTES + 1), qos=1).wait_for_publish(10)  # fits a packet
            pub.publish("hubsense/stockholm/sthlm-pi-entre/status", _status(), qos=1).wait_for_publish(10)
            wait_for(lambda: counters.snapshot()["accepted"] >= 1, timeout=10)
            snap = counters.snapshot()
            assert snap["received"] == 2 and snap["rejected"] == {"too_large": 1}, snap
    finally:
        pub.disconnect()
        pub.loop_stop()


def test_the_provisioned_broker_disconnects_a_client_sending_a_huge_packet(tmp_path: Path, stockholm: Hub) -> None:
    creds = tmp_path / "creds"
    provision([stockholm], creds)
    broker = secured_broker(tmp_path / "mosquitto", creds).start()
    user, password = collector_login(creds)
    settings = collector_settings(broker, tmp_path, mqtt_username=user, mqtt_password=password,
                                  mqtt_client_id=COLLECTOR_USER, config_paths=[DEFAULT_CONFIG_DIR / "stockholm.toml"])
    try:
        with running_collector(settings) as running:
            agent = connect(broker.port, *agent_login(creds, "stockholm", "sthlm-pi-entre"))
            dropped = threading.Event()  # paho reconnects by itself: watch the disconnect, not the state
            agent.client.on_disconnect = lambda *a: dropped.set()
            lost = agent.client.publish("hubsense/stockholm/sthlm-pi-entre/event", b"x" * (BROKER_MAX_PACKET_BYTES + 1),
                                        qos=1)
            assert dropped.wait(10)  # disconnected by the broker
            assert lost.mid not in agent.puback
            agent.close()
            again = connect(broker.port, *agent_login(creds, "stockholm", "sthlm-pi-entre"))
            assert not again.publish("hubsense/stockholm/sthlm-pi-entre/status", _status()).is_failure
            counters = running.collector.ingest.counters
            wait_for(lambda: counters.snapshot()["received"] >= 1, timeout=10)
            assert counters.snapshot()["received"] == 1 and counters.snapshot()["accepted"] == 1
            again.close()
    finally:
        broker.stop()
