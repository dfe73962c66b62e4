"""The agent keeps every event until the collector acknowledges it as stored (real Mosquitto, real
collector in this process, the real agent on mock pins)."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from edge.agent import Agent
from edge.settings import AgentSettings
from hubsense.services import Mosquitto
from tests.reliability.support import InProcessCollector, stored_events, write_hub
from tests.support import wait_for

pytestmark = pytest.mark.slow


def _doors(pins: MockFactory, n: int) -> None:
    """``n`` door events: each drive flips the reed contact."""
    pin = pins.pin(22)
    for _ in range(n):
        (pin.drive_low if pin.state else pin.drive_high)()


def test_events_leave_the_queue_only_once_stored(private_broker: Mosquitto, tmp_path: Path) -> None:
    hub_id = f"ack-{secrets.token_hex(3)}"
    config, hub = write_hub(tmp_path, hub_id)
    db = tmp_path / "hubsense.sqlite3"
    client_id = f"col-{hub_id}"
    pins = MockFactory()
    agent = Agent(hub, "rel-a", AgentSettings(broker_port=private_broker.port, queue_path=tmp_path / "q.sqlite3",
                                              reconnect_min_s=0.1, reconnect_max_s=0.5, door_bounce_s=None,
                                              queue_max_events=15), pin_factory=pins)
    collector = InProcessCollector(private_broker.port, config, db, client_id).start()
    try:
        agent.start()
        assert agent.wait_connected(10)
        _doors(pins, 10)
        wait_for(lambda: agent.seq == 10 and agent.queue.depth == 0, timeout=15)
        assert agent.confirmed == 10
        collector.stop()  # its persistent session keeps collecting at the broker

        _doors(pins, 10)
        wait_for(lambda: agent.delivered >= 20, timeout=15)  # the broker has them (PUBACK) ...
        assert agent.queue.depth == 10  # ... but nothing is stored, so the agent keeps them
        _doors(pins, 10)  # over the bound (15): the oldest are dropped and counted
        assert (agent.queue.depth, agent.queue.dropped) == (15, 5)

        collector = InProcessCollector(private_broker.port, config, db, client_id).start()
        wait_for(lambda: agent.queue.depth == 0, timeout=20)
        stored = sorted(e.seq for e in stored_events(db, hub_id))
        assert stored == list(range(1, 31))  # the broker still had the dropped ones for the collector
        assert agent.heartbeat().dropped == 5
    finally:
        agent.stop()
        collector.stop()
