"""Fault injection with real processes: broker, collector, network and database failures mid-stream.

Each test streams up to ~3,000 door events (plus PIR edges) from the real edge agents on mock
pins through a private Mosquitto to the collector (``hubsense collector`` as a subprocess where
the test kills or freezes it, in-process otherwise), injects one fault while the stream runs,
and then checks against what the agents enqueued (read through a trigger in their own queue
files, see ``support.Fleet.sent``) that

* every event the agents numbered, (agent, boot, 1..seq), is stored exactly once, with the
  content the agent sent (sensor, state, agent timestamp);
* the zone timeline rebuilt from the store equals the one rebuilt from what was sent
  (``replay_timeline``; receive times normalised, see ``support.timeline``).
"""

from __future__ import annotations

import secrets
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from datetime import datetime
from pathlib import Path

import pytest

from collector.model import ReceivedEvent
from collector.store.influx import InfluxStore
from hubsense.protocol import SensorEvent, parse_message
from hubsense.services import Influxd, Mosquitto
from tests.conftest import REPO
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
    tap,
    timeline,
    write_hub,
)
from tests.support import wait_for

pytestmark = pytest.mark.slow

DOORS = 3000  # door toggles per test; PIR edges come on top
RATE = 600.0  # door events per second


def _setup(broker: Mosquitto, tmp_path: Path, as_process: bool = False, **settings):
    """Hub config, collector (a subprocess where the test kills it, else in-process) and agents."""
    hub_id = f"rel-{secrets.token_hex(3)}"
    config, hub = write_hub(tmp_path, hub_id)
    db = tmp_path / "hubsense.sqlite3"
    if as_process:
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
    _figures_line(name, fleet.total(), collector, extra)


def _figures_line(name: str, n: int, collector, extra: str = "") -> None:
    """One line for docs/reliability.md (shown with ``pytest -s``)."""
    h = collector.health()
    print(f"\n[figures] {name}: {n} events stored exactly once; collector since (re)start: "
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
    hub, db, collector, fleet = _setup(private_broker, tmp_path, as_process=True)
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


def test_collectors_mqtt_process_sigkill_mid_stream(private_broker: Mosquitto, tmp_path: Path) -> None:
    """The collector's MQTT connection runs in a child process (collector/mqtt_child.py): killed
    mid-stream, it is started again, reconnects with the same session, and what it had forwarded but
    the collector had not acknowledged yet comes again from the broker."""
    hub, db, collector, fleet = _setup(private_broker, tmp_path)
    with running(collector, fleet):
        _start(private_broker, hub, collector, fleet)
        link = collector.running.collector.ingest.client
        first = link._proc
        driver = Driver(fleet, DOORS, RATE).start()
        driver.wait_progress(0.3)
        first.kill()
        wait_for(lambda: link._proc is not first and link.is_connected(), timeout=20)
        stored_at_kill = len(stored_events(db, hub.id))
        driver.join()
        assert _verify(hub, fleet, lambda: stored_events(db, hub.id)) >= DOORS
        assert 0 < stored_at_kill < fleet.total() and link.restarts == 1
        _figures("collector's MQTT process SIGKILL", fleet, collector, f"stored at the kill {stored_at_kill}")


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


def test_influxdb_down_with_a_full_spool_pushes_back_to_the_broker(
    private_broker: Mosquitto, tmp_path: Path
) -> None:
    """When the spool is full the collector stops acknowledging; the broker keeps the rest."""
    influxd = Influxd(tmp_path / "influxd").start()
    database = f"rel_{secrets.token_hex(3)}"
    hub, _db, collector, fleet = _setup(
        private_broker, tmp_path, store="influxdb", influx_url=influxd.url, influx_database=database,
        influx_timeout_s=2, spool_max_events=300,
    )
    reader = InfluxStore(influxd.url, database, raw_rp="hubsense_raw", create=False)
    with running(influxd, collector, fleet):
        _start(private_broker, hub, collector, fleet)
        driver = Driver(fleet, 1500, RATE).start()
        driver.wait_progress(0.2)
        influxd.stop()
        store = collector.running.collector.store
        wait_for(lambda: store.depth > 250, timeout=10)  # full (records are events, changes and health)
        driver.wait_progress(0.9)
        handled_while_full = collector.health()["received"]
        waiting_in_collector = collector.running.collector.ingest.waiting()
        influxd.start()
        driver.join()
        assert _verify(hub, fleet, lambda: list(reader.events(hub.id))) >= 1500
        # ingest paused, nothing acknowledged, and the broker held the rest back (its in-flight
        # window per client is 100 messages), so the collector's memory did not fill up either
        assert handled_while_full < 0.9 * fleet.total()
        assert waiting_in_collector <= 100, waiting_in_collector
        assert collector.health()["stored"] == fleet.total()  # a retried batch is not counted twice
        _figures("InfluxDB down, spool full", fleet, collector)


def _agent_child(config: Path, port: int, queue: Path, doors: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.agent_child", str(config), "rel-a", str(port), str(queue),
         str(doors), str(RATE)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO,
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _tapped(queue: Path) -> list[tuple[SensorEvent, datetime]]:
    with closing(sqlite3.connect(queue)) as db:
        rows = db.execute("SELECT topic, payload FROM tap").fetchall()
    return [(e, e.ts) for e in (parse_message(t, p) for t, p in rows)]


def test_agent_process_sigkill_and_restart_keeps_its_queue(private_broker: Mosquitto, tmp_path: Path) -> None:
    """The agent's on-disk queue survives a crash: a backlog built up while it was cut off is
    delivered by the next process (old boot), followed by the new boot's events."""
    hub, db, collector, _fleet = _setup(private_broker, tmp_path)
    proxy = TcpProxy(private_broker.port)
    queue = tmp_path / "rel-a.sqlite3"
    config = tmp_path / f"{hub.id}.toml"
    first = second = None
    with running(proxy, collector):
        try:
            collector.start()
            first = _agent_child(config, proxy.port, queue, 2000)
            tap(queue)
            first.stdin.write("go\n")
            first.stdin.flush()
            wait_for(lambda: len(_tapped(queue)) > 400, timeout=20)
            proxy.cut()  # from now on events only pile up in the queue file
            wait_for(lambda: len(_tapped(queue)) > 1200, timeout=20)
            first.kill()
            first.wait(5)
            backlog = len(_tapped(queue)) - len(stored_events(db, hub.id))
            proxy.restore()
            second = _agent_child(config, proxy.port, queue, 600)
            second.stdin.write("go\n")
            second.stdin.flush()
            assert second.stdout.readline().strip() == "done"
            sent = _tapped(queue)
            boots = sorted({e.boot for e, _ in sent})
            assert len(boots) == 2 and backlog > 300
            expected = {e.key for e, _ in sent}
            for boot in boots:  # every boot numbered its events 1..n without a gap
                seqs = sorted(s for (_, b, s) in expected if b == boot)
                assert seqs == list(range(1, len(seqs) + 1))
            wait_for(lambda: len(stored_events(db, hub.id)) >= len(expected), timeout=60, interval=0.25)
            stored = stored_events(db, hub.id)
            assert_exactly_once(stored, expected)
            assert timeline(hub, stored) == timeline(hub, sent)
            _figures_line("agent SIGKILL", len(expected), collector, f"backlog at the kill {backlog}")
        finally:
            for proc in (first, second):
                if proc is not None and proc.poll() is None:
                    proc.stdin.close()
                    proc.wait(10)


# -- the double fault: collector away and broker killed, in every order ------------------------------

# C: the collector is SIGKILLed (it loses the storage acknowledgements it had not sent yet);
# B: the broker is SIGKILLed without having saved anything since the collector subscribed, so it
#    loses every event it had acknowledged to an agent and not yet passed on (and its retained
#    acknowledgements);  c, b: each comes back.  Every order of the four steps where each comes back
#    after going down, with the stream running throughout.
ORDERS = ["CBbc", "CBcb", "CcBb", "BCbc", "BCcb", "BbCc"]


@pytest.mark.parametrize("order", ORDERS)
def test_collector_away_and_broker_killed_lose_nothing_in_any_order(tmp_path: Path, order: str) -> None:
    """Issue 19, defect 2: with the collector down for a while and then the broker SIGKILLed before
    its autosave, 11 % of the events were lost: the agents had dropped them on the broker's PUBACK.
    Now an agent keeps every event until the collector acknowledges it as stored."""
    broker = Mosquitto(tmp_path / "mosquitto", extra_config=["autosave_interval 3600"]).start()
    hub, db, collector, fleet = _setup(broker, tmp_path, as_process=True)
    doors = 1200
    with running(broker, collector, fleet):
        collector.start()
        probe_subscribed(broker.port, hub, lambda: collector.health()["received"])
        broker.stop()  # a clean stop saves the collector's session, as a snapshot would; nothing later
        broker.start()
        wait_for(collector._connected, timeout=30)
        fleet.start().wait_connected()
        driver = Driver(fleet, doors, 400.0).start()
        for i, step in enumerate(order):
            driver.wait_progress((i + 1) / (len(order) + 2))
            if step == "C":
                collector.kill()
            elif step == "B":
                broker.kill()
            elif step == "b":
                broker.start()
            else:
                collector.start(wait_mqtt=broker.proc is not None)
        driver.join()
        assert _verify(hub, fleet, lambda: stored_events(db, hub.id)) >= doors
        _figures(f"collector down and broker SIGKILL, order {order}", fleet, collector,
                 f"agents sent their unacknowledged events again {sum(a.resends for a in fleet.agents.values())} "
                 f"times; confirmed {sum(a.confirmed for a in fleet.agents.values())}")


def test_collector_away_longer_than_any_resend_window_then_broker_killed(tmp_path: Path) -> None:
    """The probe's repro, shortened: the collector is away for ~12 s while the agents publish (every
    event PUBACKed by the broker), then the broker is SIGKILLed before its autosave.  Agents that drop
    an event on the PUBACK, or re-send only what was PUBACKed in the last 10 s, lose most of them."""
    broker = Mosquitto(tmp_path / "mosquitto", extra_config=["autosave_interval 3600"]).start()
    hub, db, collector, fleet = _setup(broker, tmp_path, as_process=True)
    doors = 1000
    with running(broker, collector, fleet):
        collector.start()
        probe_subscribed(broker.port, hub, lambda: collector.health()["received"])
        broker.stop()  # saves the collector's session; nothing after this is saved
        broker.start()
        wait_for(collector._connected, timeout=30)
        fleet.start().wait_connected()
        collector.kill()
        Driver(fleet, doors, 90.0).start().join(60)  # ~11 s of events the broker holds for the collector
        time.sleep(1.0)
        broker.kill()
        broker.start()
        collector.start()
        assert _verify(hub, fleet, lambda: stored_events(db, hub.id)) >= doors
        _figures("collector away ~12 s, then broker SIGKILL", fleet, collector)
