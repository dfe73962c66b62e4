"""Fault injection with real processes: broker, collector and network failures mid-stream.

Each test streams several thousand events from the real edge agents (mock pins) and checks
that every event the agents numbered is stored exactly once and that the zone timeline
rebuilt from the store equals the one rebuilt from an independent recording of the stream.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import pytest

from hubsense.services import Mosquitto
from tests.reliability.support import (
    CollectorProcess,
    Driver,
    Fleet,
    assert_exactly_once,
    probe_subscribed,
    running,
    stored_events,
    timeline,
    write_hub,
)
from tests.support import wait_for

pytestmark = pytest.mark.slow

DOORS = 3000  # door toggles per test; PIR edges come on top
RATE = 600.0  # door events per second


def _setup(broker: Mosquitto, tmp_path: Path):
    hub_id = f"rel-{secrets.token_hex(3)}"
    config, hub = write_hub(tmp_path, hub_id)
    db = tmp_path / "hubsense.sqlite3"
    collector = CollectorProcess(config, broker.port, db, client_id=f"col-{hub_id}")
    fleet = Fleet(hub, broker.port, tmp_path)
    return hub, db, collector, fleet


def _start(broker, hub, collector, fleet) -> None:
    collector.start()
    probe_subscribed(broker.port, hub, lambda: collector.health()["received"])
    fleet.start().wait_connected()


def _verify(hub, db, fleet, timeout: float = 20.0) -> int:
    """Everything numbered by the agents is stored exactly once; same timeline as what they sent."""
    fleet.wait_drained(timeout)
    expected = fleet.produced()
    sent = fleet.sent()
    assert {e.key for e, _ in sent} == expected and len(sent) == len(expected)  # the reference is complete
    wait_for(lambda: len(stored_events(db, hub.id)) >= len(expected), timeout=timeout, interval=0.2)
    stored = stored_events(db, hub.id)
    assert_exactly_once(stored, expected)
    reference = timeline(hub, sent)
    print("timeline changes", len(reference))
    assert len(reference) > 50
    assert timeline(hub, stored) == reference
    return len(expected)


def test_broker_sigkill_mid_stream(private_broker: Mosquitto, tmp_path: Path) -> None:
    hub, db, collector, fleet = _setup(private_broker, tmp_path)
    with running(collector, fleet):
        _start(private_broker, hub, collector, fleet)
        driver = Driver(fleet, DOORS, RATE).start()
        driver.wait_progress(0.3)
        private_broker.kill()
        time.sleep(1.0)  # the agents keep queueing while the broker is away
        private_broker.start()
        driver.join()
        n = _verify(hub, db, fleet)
    assert n >= DOORS
