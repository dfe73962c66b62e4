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
    InProcessCollector,
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


def _setup(broker: Mosquitto, tmp_path: Path, subprocess: bool = False, **settings):
    """Hub config, collector (a subprocess where the test kills it, else in-process) and agents."""
    hub_id = f"rel-{secrets.token_hex(3)}"
    config, hub = write_hub(tmp_path, hub_id)
    db = tmp_path / "hubsense.sqlite3"
    if subprocess:
        collector = CollectorProcess(config, broker.port, db, client_id=f"col-{hub_id}")
    else:
        collector = InProcessCollector(broker.port, config, db, f"col-{hub_id}", **settings)
    fleet = Fleet(hub, broker.port, tmp_path)
    return hub, db, collector, fleet


def _start(broker: Mosquitto, hub, collector: CollectorProcess | InProcessCollector, fleet: Fleet, **fleet_kw) -> None:
    collector.start()
    probe_subscribed(broker.port, hub, lambda: collector.health()["received"])
    fleet.start(**fleet_kw).wait_connected()


def _verify(hub, fleet: Fleet, read: Callable[[], list[ReceivedEvent]], timeout: float = 60.0) -> int:
    fleet.wait_drained(timeout)
    expected = fleet.produced()
    sent = fleet.sent()
    assert {e.key for e, _ in sent} == expected and len(sent) == len(expected)  # the reference is complete
    deadline = time.monotonic() + timeout
    while len(stored := read()) < len(expected) and time.monotonic() < deadline:
        time.sleep(0.25)
    assert_exactly_once(stored, expected)
    assert {(e.key, e.sensor, e.state, e.ts) for e in stored} == {(e.key, e.sensor, e.state, e.ts) for e, _ in sent}
    reference = timeline(hub, sent)
    assert len(reference) >= 5
    assert timeline(hub, stored) == reference
    return len(expected)


def _figures(name: str, fleet: Fleet, collector, extra: str = "") -> None:
    """One line for docs/reliability.md (shown with ``pytest -s``)."""
    h = collector.health()
    print(f"\n[figures] {name}: {fleet.total()} events stored exactly once; collector since (re)start: "
          f"received {h['received']}, duplicates dropped {h['duplicates']}; {extra}")


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
        assert all(a.connect_failures for a in fleet.agents.values())  # they did see the outage
        _figures("broker SIGKILL", fleet, collector)


def test_collector_sigkill_and_restart_mid_stream(private_broker: Mosquitto, tmp_path: Path) -> None:
    hub, db, collector, fleet = _setup(private_broker, tmp_path, subprocess=True)
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
        _figures("collector SIGKILL", fleet, collector, f"stored before the kill {stored_before}")


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
        _figures("agent cut off", fleet, collector, f"backlog in rel-a's queue {backlog}")


def test_influxdb_down_and_restarted_mid_stream(private_broker: Mosquitto, tmp_path: Path) -> None:
    influxd = Influxd(tmp_path / "influxd").start()
    database = f"rel_{secrets.token_hex(3)}"
    hub, _db, collector, fleet = _setup(
        private_broker, tmp_path, store="influxdb", influx_url=influxd.url, influx_database=database,
        influx_timeout_s=2,
    )
    reader = InfluxStore(influxd.url, database, raw_rp="hubsense_raw", create=False)

    def read() -> list[ReceivedEvent]:
        return list(reader.events(hub.id))

    with running(influxd, collector, fleet):
        _start(private_broker, hub, collector, fleet)
        driver = Driver(fleet, DOORS, RATE).start()
        driver.wait_progress(0.3)
        influxd.stop()  # SIGTERM; the collector spools to disk and keeps acknowledging MQTT
        spooled = wait_for(lambda: collector.running.collector.store.depth, timeout=10)
        driver.wait_progress(0.7)
        influxd.start()
        driver.join()
        assert _verify(hub, fleet, read) >= DOORS
        assert spooled > 0 and collector.running.collector.store.depth == 0
        _figures("InfluxDB down", fleet, collector)
