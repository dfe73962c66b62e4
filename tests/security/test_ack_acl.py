"""Storage acknowledgements go to one agent only (provisioned ACL, real Mosquitto)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from hubsense.protocol import StorageAck, StoredRange, ack_topic, encode
from hubsense.provision import MONITOR_USER
from hubsense.services import Mosquitto
from tests.security.mqtt import connect
from tests.security.test_provision import agent_login, collector_login, passwords

NOT_AUTHORIZED = 135


def test_only_the_agent_reads_its_acknowledgements_and_only_the_collector_writes_them(
        secure_broker: Mosquitto, creds: Path) -> None:
    entre, skog = (connect(secure_broker.port, *agent_login(creds, "stockholm", a))
                   for a in ("sthlm-pi-entre", "sthlm-pi-skog"))
    monitor = connect(secure_broker.port, MONITOR_USER, passwords(creds)[MONITOR_USER])
    collector = connect(secure_broker.port, *collector_login(creds))
    topic = ack_topic("stockholm", "sthlm-pi-entre")
    try:
        entre.subscribe(topic)
        for spy in (skog, monitor):
            spy.subscribe("hubsense/stockholm/_ack/#")
        ack = StorageAck(hub="stockholm", agent="sthlm-pi-entre", ts=datetime.now(UTC),
                         stored=[StoredRange(boot="b1", first=1, last=5)])
        assert not collector.publish(topic, encode(ack)).is_failure
        entre.wait_for(topic)
        # nobody else may confirm an agent's events (that would make it delete unstored ones)
        assert skog.publish(topic, encode(ack)).value == NOT_AUTHORIZED
        assert entre.publish(topic, encode(ack)).value == NOT_AUTHORIZED
        time.sleep(0.2)  # the broker delivers to every subscriber in the same pass
        assert skog.topics() == [] and monitor.topics() == []
        assert entre.topics() == [topic]
    finally:
        for probe in (entre, skog, monitor, collector):
            probe.close()
