from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from edge.agent import Agent
from edge.settings import AgentSettings
from hubsense import services
from hubsense.config import Hub
from hubsense.protocol import AgentState, MessageKind, SensorKind, SensorState, topic
from hubsense.services import Mosquitto, free_port
from tests.conftest import REPO
from tests.edge.conftest import Recorder, hub_toml, wait_for


@pytest.fixture
def agents() -> Iterator[list[Agent]]:
    """Agents a test starts; stopped at the end whatever happens."""
    made: list[Agent] = []
    yield made
    for agent in made:
        agent.stop()


def _agent(made: list[Agent], hub: Hub, agent_id: str, port: int, tmp_path: Path, factory: MockFactory,
           **settings) -> Agent:
    """An agent without a collector: PUBACK mode (storage acknowledgements are tested with the real
    collector in tests/reliability/test_acks.py)."""
    settings.setdefault("storage_ack", False)
    s = AgentSettings(broker_port=port, queue_path=tmp_path / f"{agent_id}.sqlite3", reconnect_min_s=0.1,
                      reconnect_max_s=0.5, **settings)
    agent = Agent(hub, agent_id, s, pin_factory=factory)
    made.append(agent)
    return agent.start()


def test_pir_events_are_valid_with_increasing_seq(hub, broker, recorder_factory, agents, tmp_path) -> None:
    rec = recorder_factory(broker.port, topic(hub.id, "sthlm-pi-entre", MessageKind.EVENT))
    pins = MockFactory()
    agent = _agent(agents, hub, "sthlm-pi-entre", broker.port, tmp_path, pins)
    pins.pin(4).drive_high()
    assert wait_for(lambda: agent.seq == 1)
    pins.pin(17).drive_high()
    assert wait_for(lambda: agent.seq == 2)
    pins.pin(4).drive_low()
    events = rec.wait_events(3)
    assert [(e.sensor, e.state, e.seq) for e in events] == [
        ("lagerelden-pir", SensorState.MOTION, 1),
        ("utsiktsplatsen-pir", SensorState.MOTION, 2),
        ("lagerelden-pir", SensorState.NO_MOTION, 3),
    ]
    assert {e.boot for e in events} == {agent.boot}
    assert all(e.kind is SensorKind.PIR and e.hub == hub.id and e.agent == "sthlm-pi-entre" for e in events)
    assert events[0].ts <= events[1].ts <= events[2].ts
    assert wait_for(lambda: agent.queue.depth == 0 and agent.delivered == 3)


def test_door_contact_events(hub, broker, recorder_factory, agents, tmp_path) -> None:
    rec = recorder_factory(broker.port, topic(hub.id, "sthlm-pi-skog", MessageKind.EVENT))
    pins = MockFactory()
    _agent(agents, hub, "sthlm-pi-skog", broker.port, tmp_path, pins)
    pins.pin(22).drive_low()  # magnet at the reed: door closed
    pins.pin(22).drive_high()
    events = rec.wait_events(2)
    assert [(e.sensor, e.kind, e.state) for e in events] == [
        ("oasen-door", SensorKind.DOOR, SensorState.CLOSED),
        ("oasen-door", SensorKind.DOOR, SensorState.OPEN),
    ]
    assert [e.seq for e in events] == [1, 2]


def _statuses(rec: Recorder) -> list[tuple[AgentState, bool]]:
    return [(m.parsed().state, m.retain) for m in rec.of_kind(MessageKind.STATUS)]


def test_retained_online_then_offline_on_clean_stop(hub, broker, recorder_factory, agents, tmp_path) -> None:
    status = topic(hub.id, "sthlm-pi-entre", MessageKind.STATUS)
    live = recorder_factory(broker.port, status)
    agent = _agent(agents, hub, "sthlm-pi-entre", broker.port, tmp_path, MockFactory())
    assert live.wait_until(lambda r: _statuses(r) == [(AgentState.ONLINE, False)])  # published live
    late = recorder_factory(broker.port, status)  # subscribes after the fact: sees the retained copy
    assert late.wait_until(lambda r: _statuses(r) == [(AgentState.ONLINE, True)])
    assert late.of_kind(MessageKind.STATUS)[0].parsed().boot == agent.boot
    agent.stop()
    assert late.wait_until(lambda r: len(_statuses(r)) == 2)
    assert _statuses(late)[1][0] is AgentState.OFFLINE
    later = recorder_factory(broker.port, status)
    assert later.wait_until(lambda r: _statuses(r) == [(AgentState.OFFLINE, True)])


def test_last_will_when_agent_dies(hub, broker, recorder_factory, tmp_path) -> None:
    """A killed agent process never says goodbye: the broker publishes its Last Will."""
    config = tmp_path / "hub.toml"
    config.write_text(hub_toml(hub))
    rec = recorder_factory(broker.port, topic(hub.id, "sthlm-pi-rum", MessageKind.STATUS))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hubsense.cli", "agent", "--config", str(config), "--agent", "sthlm-pi-rum",
         "--broker", f"127.0.0.1:{broker.port}", "--pin-factory", "mock", "--queue", str(tmp_path / "q")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        assert rec.wait_until(lambda r: (AgentState.ONLINE, False) in _statuses(r), 15), proc.stderr
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)
        proc.stderr.close()
    assert rec.wait_until(lambda r: _statuses(r)[-1:] == [(AgentState.OFFLINE, False)], 5)


def test_heartbeats_carry_states_and_queue(hub, broker, recorder_factory, agents, tmp_path) -> None:
    rec = recorder_factory(broker.port, topic(hub.id, "sthlm-pi-entre", MessageKind.HEARTBEAT))
    pins = MockFactory()
    agent = _agent(agents, hub, "sthlm-pi-entre", broker.port, tmp_path, pins, heartbeat_interval_s=0.2)
    assert rec.wait_until(lambda r: len(r.heartbeats()) >= 1)
    first = rec.heartbeats()[0]
    assert first.sensors == {s: SensorState.NO_MOTION for s in
                             ("lagerelden-pir", "utsiktsplatsen-pir", "rastplatsen-pir")}
    assert first.interval_s == 0.2 and first.boot == agent.boot
    pins.pin(27).drive_high()
    assert rec.wait_until(lambda r: r.heartbeats()[-1].sensors["rastplatsen-pir"] is SensorState.MOTION)
    beats = rec.heartbeats()
    assert beats[-1].seq == 1 and beats[-1].queue_depth == 0 and beats[-1].dropped == 0
    assert len(beats) >= 2 and all(a.uptime_s < b.uptime_s for a, b in itertools.pairwise(beats))


def _start_again(broker: Mosquitto) -> None:
    """Restart a stopped broker on its old port.

    ``Mosquitto.start`` refuses a port with connections in TIME_WAIT (its check
    binds without SO_REUSEADDR); mosquitto itself binds with it, so skip the check.
    """
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(services, "port_in_use", lambda *a, **k: False)
        broker.start()


def _toggle_door(pins: MockFactory, pin: int, n: int) -> None:
    for i in range(n):
        (pins.pin(pin).drive_low if i % 2 == 0 else pins.pin(pin).drive_high)()


def test_events_while_broker_down_arrive_in_order(hub, private_broker, recorder_factory, agents, tmp_path) -> None:
    rec = recorder_factory(private_broker.port, topic(hub.id, "sthlm-pi-rum", MessageKind.EVENT),
                           client_id=f"rec-{hub.id}", persistent=True)
    pins = MockFactory()
    agent = _agent(agents, hub, "sthlm-pi-rum", private_broker.port, tmp_path, pins)
    _toggle_door(pins, 17, 4)
    assert len(rec.wait_events(4)) == 4
    assert wait_for(lambda: agent.queue.depth == 0)
    private_broker.stop()
    assert wait_for(lambda: not agent.connected)
    _toggle_door(pins, 6, 30)
    assert agent.queue.depth == 30
    _start_again(private_broker)
    events = rec.wait_events(34, timeout=15)
    # QoS 1 is at-least-once: a resend may duplicate (the collector de-duplicates by seq),
    # but first arrivals must be complete and in order.
    assert list(dict.fromkeys(e.seq for e in events)) == list(range(1, 35))
    assert wait_for(lambda: agent.queue.depth == 0)


def test_bound_drops_oldest_while_offline(hub, private_broker, recorder_factory, agents, tmp_path) -> None:
    port = private_broker.port
    rec = recorder_factory(port, f"hubsense/{hub.id}/sthlm-pi-rum/+", client_id=f"rec-{hub.id}", persistent=True)
    private_broker.stop()
    pins = MockFactory()
    agent = _agent(agents, hub, "sthlm-pi-rum", port, tmp_path, pins, queue_max_events=5,
                   heartbeat_interval_s=0.2)
    _toggle_door(pins, 17, 12)
    assert (agent.queue.depth, agent.queue.dropped) == (5, 7)
    _start_again(private_broker)
    rec.wait_events(5, timeout=10)
    assert list(dict.fromkeys(e.seq for e in rec.events())) == [8, 9, 10, 11, 12]
    assert rec.wait_until(lambda r: any(h.dropped == 7 and h.queue_depth == 0 for h in r.heartbeats()), 5)
    assert agent.delivered == 5


def test_queue_survives_agent_restart(hub, private_broker, recorder_factory, agents, tmp_path) -> None:
    port = private_broker.port
    private_broker.stop()
    first = _agent(agents, hub, "sthlm-pi-rum", port, tmp_path, MockFactory())
    _toggle_door(first.pin_factory, 19, 6)
    first.stop()
    _start_again(private_broker)
    rec = recorder_factory(port, topic(hub.id, "sthlm-pi-rum", MessageKind.EVENT))
    pins = MockFactory()
    second = _agent(agents, hub, "sthlm-pi-rum", port, tmp_path, pins)
    _toggle_door(pins, 19, 2)
    events = rec.wait_events(8)
    assert second.boot != first.boot
    assert [(e.boot, e.seq) for e in events] == [(first.boot, i) for i in range(1, 7)] + [
        (second.boot, 1), (second.boot, 2)]


def test_reconnects_with_backoff_when_broker_starts_late(hub, tmp_path, recorder_factory, agents) -> None:
    port = free_port()
    agent = _agent(agents, hub, "sthlm-pi-entre", port, tmp_path, MockFactory())
    assert wait_for(lambda: agent.connect_failures >= 3)
    assert not agent.connected
    assert "Connection refused" in (agent.last_error or "")
    late = Mosquitto(tmp_path / "late", port=port).start()
    try:
        assert agent.wait_connected(5)
        assert agent.last_error is None
    finally:
        agent.stop()
        late.stop()


def _save_broker_state(broker) -> None:
    """Make Mosquitto write its persistence file now (SIGUSR1) and wait until it has."""
    db = broker.workdir / "data" / "mosquitto.db"
    before = db.stat().st_mtime_ns if db.exists() else 0
    time.sleep(0.05)  # a new mtime must be distinguishable from the old one
    broker.proc.send_signal(signal.SIGUSR1)
    assert wait_for(lambda: db.exists() and db.stat().st_mtime_ns > before)


def test_in_flight_events_are_resent_in_order_after_broker_crash(
    hub, private_broker, recorder_factory, agents, tmp_path
) -> None:
    """Events handed to paho but never acknowledged (broker frozen, then killed) are resent
    first after the reconnect, ahead of the events queued while the broker was away."""
    rec = recorder_factory(private_broker.port, topic(hub.id, "sthlm-pi-rum", MessageKind.EVENT),
                           client_id=f"rec-{hub.id}", persistent=True)
    pins = MockFactory()
    agent = _agent(agents, hub, "sthlm-pi-rum", private_broker.port, tmp_path, pins)
    assert agent.wait_connected(5)
    _save_broker_state(private_broker)  # the recorder's persistent session must survive the kill
    private_broker.proc.send_signal(signal.SIGSTOP)
    _toggle_door(pins, 17, 6)
    assert wait_for(lambda: agent.queue.depth == 6 and agent.queue.pending == 0)  # all with paho, unacked
    private_broker.kill()
    assert wait_for(lambda: not agent.connected)
    _toggle_door(pins, 6, 6)
    _start_again(private_broker)
    events = rec.wait_events(12, timeout=15)
    assert list(dict.fromkeys(e.seq for e in events)) == list(range(1, 13))
    assert wait_for(lambda: agent.queue.depth == 0)


def test_reconnect_delay_doubles_up_to_the_maximum(hub, tmp_path, agents) -> None:
    port = free_port()  # nothing listens: every attempt is refused at once
    s = AgentSettings(broker_port=port, queue_path=tmp_path / "q.sqlite3", reconnect_min_s=0.05,
                      reconnect_max_s=0.4)
    agent = Agent(hub, "sthlm-pi-entre", s, pin_factory=MockFactory())
    agents.append(agent)
    agent.start()
    time.sleep(2.0)
    # delays 0.05, 0.1, 0.2, 0.4, 0.4, ...: about 7 attempts in 2 s (a fixed 0.05 s would make ~40)
    assert 5 <= agent.connect_failures <= 10


def test_network_loop_feeds_systemd_watchdog_even_while_broker_is_away(
    hub, tmp_path, agents, monkeypatch
) -> None:
    import socket

    from edge import systemd

    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(3)
    monkeypatch.setattr(systemd, "_default", systemd.Notifier(path, "800000"))  # WatchdogSec=0.8 s
    s = AgentSettings(broker_port=free_port(), queue_path=tmp_path / "q.sqlite3", reconnect_min_s=5,
                      reconnect_max_s=5)  # backoff far longer than the watchdog timeout
    agent = Agent(hub, "sthlm-pi-entre", s, pin_factory=MockFactory())
    agents.append(agent)
    agent.start()
    try:
        pings = [sock.recv(64) for _ in range(2)]  # pings within the first (5 s) backoff pause
    finally:
        sock.close()
    assert pings == [b"WATCHDOG=1"] * 2 and agent.connect_failures == 1
