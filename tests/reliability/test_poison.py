"""A poison message never blocks the messages behind it, over a real broker: it is counted,
acknowledged (so the broker does not redeliver it), and every valid message around it is stored."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt

from hubsense import protocol as p
from hubsense.services import Mosquitto
from tests.reliability.support import InProcessCollector, probe_subscribed, stored_events, write_hub
from tests.support import wait_for


def _event(hub: str, seq: int, **override) -> bytes:
    event = {"v": 1, "hub": hub, "agent": "rel-a", "boot": "poison1", "sensor": "a-door", "kind": "door",
             "state": "open" if seq % 2 else "closed", "ts": datetime.now(UTC).isoformat(), "seq": seq}
    return json.dumps({**event, **override}).encode()


def _poison(hub: str) -> dict[str, tuple[str, bytes]]:
    event_topic = p.topic(hub, "rel-a", p.MessageKind.EVENT)
    return {
        "bad_json": (event_topic, b"\xff\xfe{{{"),
        "schema": (event_topic, _event(hub, 1, ts="yesterday")),
        "too_large": (event_topic, _event(hub, 1, boot="x" * 5_000)),  # bigger ones the broker keeps from us
        "unknown_sensor": (event_topic, _event(hub, 1, sensor="b-pir", kind="pir", state="motion")),
        "unknown_agent": (p.topic(hub, "rel-zz", p.MessageKind.EVENT), _event(hub, 1, agent="rel-zz")),
        "topic_mismatch": (event_topic, _event(hub, 1, agent="rel-b")),
    }


def test_poison_messages_are_counted_acknowledged_and_never_block(private_broker: Mosquitto, tmp_path: Path) -> None:
    hub_id = f"rel-{secrets.token_hex(3)}"
    config, hub = write_hub(tmp_path, hub_id)
    db = tmp_path / "hubsense.sqlite3"
    client_id = f"poison-{hub_id}"
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    pub.connect("127.0.0.1", private_broker.port)
    pub.loop_start()
    poison = _poison(hub_id)
    n = 300
    try:
        first = InProcessCollector(private_broker.port, config, db, client_id).start()
        try:
            probe_subscribed(private_broker.port, hub, lambda: first.health()["received"])
            before = first.health()
            for seq in range(1, n + 1):
                if seq % 50 == 1:  # every poison kind, ahead of a run of valid events
                    for message in poison.values():
                        pub.publish(*message, qos=1)
                pub.publish(p.topic(hub_id, "rel-a", p.MessageKind.EVENT), _event(hub_id, seq), qos=1)
            wait_for(lambda: len(stored_events(db, hub_id)) >= n, timeout=30, interval=0.1)
            wait_for(lambda: sum(first.health()["rejected"].values()) >= 6 * len(poison), timeout=10)
            health = first.health()
        finally:
            first.stop()
        assert sorted(e.seq for e in stored_events(db, hub_id)) == list(range(1, n + 1))
        assert health["rejected"] == dict.fromkeys(poison, 6)
        assert health["accepted"] - before["accepted"] == n

        # same client id, persistent session: an unacknowledged poison message would come back now
        again = InProcessCollector(private_broker.port, config, db, client_id).start()
        try:
            pub.publish(p.topic(hub_id, "rel-a", p.MessageKind.EVENT), _event(hub_id, n + 1), qos=1)
            wait_for(lambda: len(stored_events(db, hub_id)) == n + 1, timeout=10)
            assert again.health()["rejected"] == {}
        finally:
            again.stop()
    finally:
        pub.disconnect()
        pub.loop_stop()
