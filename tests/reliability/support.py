"""Harness for the fault-injection tests: a test hub, the real agents on mock pins driven at a set
rate, a tap on their queue files (the reference stream), collectors as subprocesses or in-process,
and a loopback TCP proxy that can cut one client off from the broker.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, closing, contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
from gpiozero.pins.mock import MockFactory

from collector.engine import replay_timeline
from collector.model import ReceivedEvent, StateChange
from collector.settings import Settings
from edge.agent import Agent
from edge.sensors import active_level
from edge.settings import AgentSettings
from hubsense.config import Hub, load_hub
from hubsense.protocol import AgentState, AgentStatus, MessageKind, SensorEvent, encode, parse_message, topic
from hubsense.services import free_port
from tests.conftest import REPO
from tests.support import running_collector

HUBSENSE = REPO / ".venv" / "bin" / "hubsense"

HUB_TOML = """
id = "{hub}"
name = "Reliability test hub"
timezone = "Europe/Stockholm"
[[opening_hours]]
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
open = 00:00:00
close = 23:59:00
[[zones]]
id = "rum-a"
name = "Room A"
kind = "room"
capacity = 4
profile = {{ vacancy_timeout_s = 0.5, door_exit_window_s = 0.3 }}
[[zones]]
id = "rum-b"
name = "Room B"
kind = "room"
capacity = 4
profile = {{ vacancy_timeout_s = 0.5, door_exit_window_s = 0.3 }}
[[zones]]
id = "oppen"
name = "Open area"
kind = "open"
capacity = 10
profile = {{ vacancy_timeout_s = 0.5 }}
[[zones]]
id = "rum-c"
name = "Room C"
kind = "room"
capacity = 2
profile = {{ vacancy_timeout_s = 0.5, door_exit_window_s = 0.3 }}
[[agents]]
id = "rel-a"
[[agents.sensors]]
id = "a-door"
kind = "door"
pin = 22
zone = "rum-a"
[[agents.sensors]]
id = "a-pir"
kind = "pir"
pin = 4
zone = "rum-a"
[[agents.sensors]]
id = "b-door"
kind = "door"
pin = 23
zone = "rum-b"
[[agents]]
id = "rel-b"
[[agents.sensors]]
id = "b-pir"
kind = "pir"
pin = 4
zone = "rum-b"
[[agents.sensors]]
id = "open-pir"
kind = "pir"
pin = 5
zone = "oppen"
[[agents.sensors]]
id = "c-door"
kind = "door"
pin = 22
zone = "rum-c"
"""

Key = tuple[str, str, int]


def write_hub(tmp_path: Path, hub_id: str) -> tuple[Path, Hub]:
    path = tmp_path / f"{hub_id}.toml"
    path.write_text(HUB_TOML.format(hub=hub_id))
    return path, load_hub(path)


# -- agents on mock pins -----------------------------------------------------------------


@dataclass
class Fleet:
    """The hub's real agents, each on its own MockFactory, connected to ``port``."""

    hub: Hub
    port: int
    queue_dir: Path
    agents: dict[str, Agent] = field(default_factory=dict)
    pins: dict[str, MockFactory] = field(default_factory=dict)

    def start(self, ports: dict[str, int] | None = None) -> Fleet:
        for a in self.hub.agents:
            settings = AgentSettings(
                broker_port=(ports or {}).get(a.id, self.port), queue_path=self.queue_dir / f"{a.id}.sqlite3",
                reconnect_min_s=0.1, reconnect_max_s=0.5, heartbeat_interval_s=2.0, door_bounce_s=None,
                keepalive_s=5, queue_max_events=100_000,
            )
            self.pins[a.id] = MockFactory()
            self.agents[a.id] = Agent(self.hub, a.id, settings, pin_factory=self.pins[a.id]).start()
            tap(settings.queue_path)
        return self

    def sent(self) -> list[tuple[SensorEvent, datetime]]:
        """Every event the agents enqueued, as (event, its own ts), read from the queue taps."""
        out = []
        for a in self.hub.agents:
            with closing(sqlite3.connect(self.queue_dir / f"{a.id}.sqlite3")) as db:
                for topic_name, payload in db.execute("SELECT topic, payload FROM tap"):
                    event = parse_message(topic_name, payload)
                    out.append((event, event.ts))
        return out

    def wait_connected(self, timeout: float = 10.0) -> None:
        for agent in self.agents.values():
            assert agent.wait_connected(timeout), f"agent {agent.id} did not connect"

    def produced(self) -> set[Key]:
        """Every event the agents numbered: (agent, boot, 1..seq)."""
        return {(a.id, a.boot, s) for a in self.agents.values() for s in range(1, a.seq + 1)}

    def total(self) -> int:
        return sum(a.seq for a in self.agents.values())

    def wait_drained(self, timeout: float = 60.0) -> None:
        """Until every agent's queue is empty (all events acknowledged by the broker)."""
        deadline = time.monotonic() + timeout
        while any(a.queue is not None and a.queue.depth for a in self.agents.values()):
            assert time.monotonic() < deadline, {a.id: a.queue.depth for a in self.agents.values() if a.queue}
            time.sleep(0.05)

    def stop(self) -> None:
        for agent in self.agents.values():
            agent.stop()


def tap(queue_path: Path) -> None:
    """A trigger in the agent's own queue file copies every enqueued event to a ``tap`` table the
    agent never deletes from: the producer-side record of the stream, without touching the agent."""
    with closing(sqlite3.connect(queue_path, timeout=10)) as db:
        db.executescript(
            "CREATE TABLE IF NOT EXISTS tap (topic TEXT, payload BLOB);"
            "CREATE TRIGGER IF NOT EXISTS tap_events AFTER INSERT ON events "
            "BEGIN INSERT INTO tap VALUES (NEW.topic, NEW.payload); END;"
        )


class Driver:
    """Toggles the fleet's door pins (synchronous events) at ``rate`` events/s, and its PIR pins
    every ``pir_every_s`` (gpiozero samples those in a thread), until ``doors`` door toggles."""

    def __init__(self, fleet: Fleet, doors: int, rate: float, pir_every_s: float = 0.12, seed: int = 1,
                 door_spell_s: float = 0.7) -> None:
        self.fleet, self.doors, self.rate, self.pir_every_s = fleet, doors, rate, pir_every_s
        self.door_spell_s = door_spell_s
        self.random = random.Random(seed)
        self.done_doors = 0
        self.thread = threading.Thread(target=self._run, name="driver", daemon=True)
        self._stop = threading.Event()
        self._level: dict[tuple[str, int], bool] = {}

    def _sensors(self, kind: str) -> list[tuple[str, object]]:
        return [(a.id, s) for a in self.fleet.hub.agents for s in a.sensors if s.kind.value == kind]

    def _toggle(self, agent_id: str, sensor) -> None:
        key = (agent_id, sensor.pin)
        level = not self._level.get(key, not active_level(sensor) if sensor.kind.value == "door" else False)
        self._level[key] = level
        pin = self.fleet.pins[agent_id].pin(sensor.pin)
        pin.drive_high() if level else pin.drive_low()

    def start(self) -> Driver:
        self.thread.start()
        return self

    def _run(self) -> None:
        doors, pirs = self._sensors("door"), self._sensors("pir")
        start = time.monotonic()
        next_pir = start + self.pir_every_s
        for i in range(self.doors):
            if self._stop.is_set():
                return
            now = time.monotonic()
            # one door at a time, for ``door_spell_s``: the other rooms rest and can change state
            self._toggle(*doors[int((now - start) / self.door_spell_s) % len(doors)])
            self.done_doors = i + 1
            if now >= next_pir:
                self._toggle(*self.random.choice(pirs))
                next_pir = now + self.pir_every_s
            ahead = start + (i + 1) / self.rate - now
            if ahead > 0.002:
                time.sleep(ahead)

    def wait_progress(self, fraction: float, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.done_doors < fraction * self.doors:
            assert time.monotonic() < deadline and self.thread.is_alive(), "driver stalled"
            time.sleep(0.01)

    def join(self, timeout: float = 60.0) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "driver did not finish"
        time.sleep(0.3)  # the last PIR edge is sampled by gpiozero's thread (10 Hz)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(5)


# -- collectors as subprocesses -------------------------------------------------------------------------


@dataclass
class CollectorProcess:
    """``hubsense collector`` in a child process; ``env`` adds HUBSENSE_* settings."""

    config: Path
    mqtt_port: int
    db: Path
    client_id: str
    env: dict[str, str] = field(default_factory=dict)
    http_port: int = 0
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self, timeout: float = 60.0, wait_mqtt: bool = True) -> CollectorProcess:
        """Start it and wait until it is connected to the broker (or, ``wait_mqtt=False``, until its
        API answers: the broker may be down)."""
        self.http_port = self.http_port or free_port()
        env = {**os.environ, "HUBSENSE_MQTT_CLIENT_ID": self.client_id, "HUBSENSE_BATCH_WAIT_S": "0.02", **self.env}
        log = (self.db.parent / f"{self.client_id}.log").open("ab")
        self.proc = subprocess.Popen(
            [str(HUBSENSE), "collector", "--config", str(self.config), "--mqtt", f"127.0.0.1:{self.mqtt_port}",
             "--db", str(self.db), "--port", str(self.http_port), "--log-level", "WARNING"],
            stdout=log, stderr=log, env=env, cwd=self.db.parent,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not (self._connected() if wait_mqtt else self._answers()):
            assert self.proc.poll() is None, f"collector exited with {self.proc.returncode}"
            assert time.monotonic() < deadline, "collector did not connect"
            time.sleep(0.05)
        return self

    def _answers(self) -> bool:
        try:
            self.health()
            return True
        except (httpx.HTTPError, ValueError):
            return False

    def _connected(self) -> bool:
        try:
            return bool(self.health()["mqtt_connected"])
        except (httpx.HTTPError, ValueError):
            return False

    def health(self) -> dict:
        return httpx.get(self.url + "/healthz", timeout=2).json()

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=5)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)

    def _signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class InProcessCollector:
    """The same collector (``Collector.build``, MQTT ingest, API over uvicorn) in this process:
    no interpreter start-up, for the tests that do not kill the collector itself."""

    def __init__(self, broker_port: int, config: Path, db: Path, client_id: str, **settings) -> None:
        self.settings = Settings(
            config_paths=[config], mqtt_port=broker_port, mqtt_client_id=client_id, sqlite_path=db,
            http_port=free_port(), batch_wait_s=0.02, spool_path=db.parent / "spool.sqlite3", **settings,
        )
        self._stack = ExitStack()
        self.running = None

    def start(self) -> InProcessCollector:
        self.running = self._stack.enter_context(running_collector(self.settings))
        return self

    def health(self) -> dict:
        return self.running.get("/healthz").json()

    def stop(self) -> None:
        self._stack.close()


def probe_subscribed(port: int, hub: Hub, counters, timeout: float = 10.0) -> None:
    """Publish 'online' statuses for the hub's agents until ``counters()['received']`` moves:
    then the collector's subscription is in place (its SUBACK is not visible from outside)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        before = counters()
        deadline = time.monotonic() + timeout
        while counters() == before:
            assert time.monotonic() < deadline, "collector never received the probe"
            for a in hub.agents:
                status = AgentStatus(hub=hub.id, agent=a.id, boot="probe", state=AgentState.ONLINE,
                                     ts=datetime.now(UTC))
                client.publish(topic(hub.id, a.id, MessageKind.STATUS), encode(status), qos=1).wait_for_publish(5)
            time.sleep(0.1)
    finally:
        client.disconnect()
        client.loop_stop()


# -- a loopback proxy that can cut a client off ---------------------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:port to 127.0.0.1:target.  ``cut()`` drops every connection and refuses
    new ones (closes them at once) until ``restore()``: a network partition, loopback only."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.open = True
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name="proxy", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._socks += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    def cut(self) -> None:
        self.open = False
        with self._lock:
            socks, self._socks = self._socks, []
        for s in socks:
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def restore(self) -> None:
        self.open = True

    def close(self) -> None:
        self.cut()
        self.server.close()


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


# -- checks ---------------------------------------------------------------------------------------------


def stored_events(db: Path, hub: str) -> list[ReceivedEvent]:
    from collector.store.sqlite import SqliteStore

    store = SqliteStore(db)
    try:
        return list(store.events(hub))
    finally:
        store.close()


def timeline(hub: Hub, events: Iterable[ReceivedEvent | tuple[SensorEvent, datetime]]) -> list[StateChange]:
    """The zone timeline of a set of events, with receive time set to the agent's ``ts``.

    Receive times differ between any two runs (faults or not) and only feed liveness and the
    skew rule (not exercised here, docs/reliability.md), so both sides are normalised alike."""
    normal = []
    for e in events:
        if isinstance(e, ReceivedEvent):
            normal.append(replace(e, received=e.ts))
        else:
            normal.append(ReceivedEvent.from_message(e[0], e[0].ts))
    return replay_timeline(hub, normal)


def assert_exactly_once(stored: list[ReceivedEvent], expected: set[Key]) -> None:
    keys = [e.key for e in stored]
    assert len(keys) == len(set(keys)), "an event is stored twice"
    missing, extra = expected - set(keys), set(keys) - expected
    assert not missing and not extra, f"missing {len(missing)} e.g. {sorted(missing)[:3]}, extra {len(extra)}"


@contextmanager
def running(*things) -> Iterator[None]:
    """Stop (in reverse order) whatever has a ``stop`` method, even when the test fails."""
    try:
        yield
    finally:
        for thing in reversed(things):
            with suppress(Exception):
                thing.stop()
