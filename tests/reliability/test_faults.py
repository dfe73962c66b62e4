"""Fault injection with real processes: broker, collector, network and database failures mid-stream.

Each test streams ~3,000 door events (plus PIR edges) from the real edge agents on mock pins
through a private Mosquitto to ``hubsense collector`` running as a subprocess, injects one
fault while the stream runs, and then checks against what the agents enqueued (read through a
trigger in their own queue files, see ``support.Fleet.sent``) that

* every event the agents numbered, (agent, boot, 1..seq), is stored exactly once, with the
  content the agent sent (sensor, state, agent timestamp);
* the zone timeline rebuilt from the store equals the one rebuilt from what was sent
  (``replay_timeline``; receive times normalised, see ``support.timeline``).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from collector.model import ReceivedEvent
from collector.store.influx import InfluxStore
from hubsense.services import Influxd, Mosquitto
from tests.reliability.support import (
    CollectorProcess,
    Driver,
    Fleet,
    TcpProxy,
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


def _setup(broker: Mosquitto, tmp_path: Path, **env: str):
    hub_id = f"rel-{secrets.token_hex(3)}"
    config, hub = write_hub(tmp_path, hub_id)
    db = tmp_path / "hubsense.sqlite3"
    collector = CollectorProcess(config, broker.port, db, client_id=f"col-{hub_id}", env=env)
    fleet = Fleet(hub, broker.port, tmp_path)
    return hub, db, collector, fleet


def _start(broker: Mosquitto, hub, collector: CollectorProcess, fleet: Fleet, **fleet_kw) -> None:
    collector.start()
    probe_subscribed(broker.port, hub, lambda: collector.health()["received"])
    fleet.start(**fleet_kw).wait_connected()


def _verify(hub, fleet: Fleet, read: Callable[[], list[ReceivedEvent]], timeout: float = 20.0) -> int:
    fleet.wait_drained(timeout)
    expected = fleet.produced()
    sent = fleet.sent()
    assert {e.key for e, _ in sent} == expected and len(sent) == len(expected)  # the reference is complete
    wait_for(lambda: len(read()) >= len(expected), timeout=timeout, interval=0.25)
    stored = read()
    assert_exactly_once(stored, expected)
    assert {(e.key, e.sensor, e.state, e.ts) for e in stored} == {(e.key, e.sensor, e.state, e.ts) for e, _ in sent}
    reference = timeline(hub, sent)
    assert len(reference) >= 5
    assert timeline(hub, stored) == reference
    return len(expected)


def test_broker_sigkill_and_restart_mid_stream(private_broker: Mosquitto, tmp_path: Path) -> None:
    hub, db, collector, fleet = _setup(private_broker, tmp_path)
    with running(collector, fleet):
        _start(private_broker, hub, collector, fleet)
        driver = Driver(fleet, DOORS, RATE).start()
        driver.wait_progress(0.3)
        private_broker.kill()
        time.sleep(1.0)  # the agents keep queueing while the broker is away
        private_broker.start()
        driver.join()
        assert _verify(hub, fleet, lambda: stored_events(db, hub.id)) >= DOORS


def test_collector_sigkill_and_restart_mid_stream(private_broker: Mosquitto, tmp_path: Path) -> None:
    hub, db, collector, fleet = _setup(private_broker, tmp_path)
    with running(collector, fleet):
        _start(private_broker, hub, collector, fleet)
        driver = Driver(fleet, DOORS, RATE).start()
        driver.wait_progress(0.3)
        collector.kill()  # unacknowledged messages stay with the broker, new ones queue in the session
        stored_before = len(stored_events(db, hub.id))
        driver.wait_progress(0.6)
        collector.start()
        driver.join()
        assert _verify(hub, fleet, lambda: stored_events(db, hub.id)) >= DOORS
        assert 0 < stored_before < fleet.total()  # the kill really was mid-stream


def test_agent_cut_off_from_broker_then_reconnected(private_broker: Mosquitto, tmp_path: Path) -> None:
    hub, db, collector, fleet = _setup(private_broker, tmp_path)
    proxy = TcpProxy(private_broker.port)  # agent rel-a reaches the broker only through this
    with running(proxy, collector, fleet):
        _start(private_broker, hub, collector, fleet, ports={"rel-a": proxy.port})
        cut_agent = fleet.agents["rel-a"]
        driver = Driver(fleet, DOORS, RATE).start()
        driver.wait_progress(0.2)
        proxy.cut()
        wait_for(lambda: not cut_agent.connected, timeout=5)
        driver.wait_progress(0.7)  # a few seconds of events go to rel-a's queue only
        backlog = cut_agent.queue.depth
        proxy.restore()
        driver.join()
        assert _verify(hub, fleet, lambda: stored_events(db, hub.id)) >= DOORS
        assert backlog > 200 and cut_agent.connected


def test_influxdb_down_and_restarted_mid_stream(private_broker: Mosquitto, tmp_path: Path) -> None:
    influxd = Influxd(tmp_path / "influxd").start()
    database = f"rel_{secrets.token_hex(3)}"
    hub, _db, collector, fleet = _setup(
        private_broker, tmp_path, HUBSENSE_STORE="influxdb", HUBSENSE_INFLUX_URL=influxd.url,
        HUBSENSE_INFLUX_DATABASE=database, HUBSENSE_SPOOL_PATH=str(tmp_path / "spool.sqlite3"),
        HUBSENSE_INFLUX_TIMEOUT_S="2",
    )
    reader = InfluxStore(influxd.url, database, raw_rp="hubsense_raw", create=False)

    def read() -> list[ReceivedEvent]:
        return list(reader.events(hub.id))

    with running(influxd, collector, fleet):
        _start(private_broker, hub, collector, fleet)
        driver = Driver(fleet, DOORS, RATE).start()
        driver.wait_progress(0.3)
        influxd.stop()  # SIGTERM; the collector spools to disk and keeps acknowledging MQTT
        driver.wait_progress(0.7)
        assert (tmp_path / "spool.sqlite3").exists()
        influxd.start()
        driver.join()
        assert _verify(hub, fleet, read, timeout=25) >= DOORS
