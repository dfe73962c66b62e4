"""Simulated hub: the REAL agents on gpiozero mock pins, driven by a day of visitors.

Only the pins are fake: each agent gets its own :class:`MockFactory`, and a
driver thread replays :func:`edge.scenario.plan_day` on them, ``speed`` times
faster than real time (closed hours are skipped).  Events are stamped by the
agents' ``clock`` (real UTC time by default, so a live collector accepts them).
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from edge.agent import Agent
from edge.scenario import Change, Timing, day_start, next_opening, plan_day
from edge.sensors import active_level
from edge.settings import AgentSettings
from hubsense.config import Hub, Sensor
from hubsense.protocol import SensorState, kind_spec, now_utc

log = logging.getLogger(__name__)

LEAD_IN_S = 300.0  # simulated seconds before opening time at which a new day starts


def drive(factory: MockFactory, sensor: Sensor, state: SensorState) -> None:
    """Set a mock pin to the level the real sensor would have in ``state``."""
    active = state is kind_spec(sensor.kind).active
    pin = factory.pin(sensor.pin)
    if active == active_level(sensor):
        pin.drive_high()
    else:
        pin.drive_low()


def default_start(hub: Hub, now: datetime) -> datetime:
    """Now (in the hub's time zone) if the hub is open, else shortly before its next opening."""
    local = now.astimezone(hub.tz)
    opening = next_opening(hub, local)
    return local if opening <= local else opening - timedelta(seconds=LEAD_IN_S)


class SimClock:
    """Simulated time: ``anchor`` plus ``speed`` times the real time elapsed since re-anchoring."""

    def __init__(self, anchor: datetime, speed: float) -> None:
        self.speed = speed
        self.jump(anchor)

    def jump(self, anchor: datetime) -> None:
        self._anchor, self._real = anchor, time.monotonic()

    def now(self) -> datetime:
        return self._anchor + timedelta(seconds=(time.monotonic() - self._real) * self.speed)


class HubSimulation:
    """Agents of one hub on mock pins plus the scenario driver; see :func:`run_simulated_hub`."""

    def __init__(
        self,
        hub: Hub,
        settings: AgentSettings,
        speed: float,
        seed: int | None,
        agent_ids: list[str] | None = None,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self.hub = hub
        self.speed = speed
        self.rng = random.Random(seed)
        self.timing = Timing.for_speed(speed)
        ids = agent_ids or [a.id for a in hub.agents]
        self.agents: list[Agent] = []
        self.pins: dict[str, tuple[MockFactory, Sensor]] = {}
        suffix = secrets.token_hex(3)
        for agent_id in ids:
            factory = MockFactory()
            update: dict[str, object] = {"client_id": f"hubsense-sim-{hub.id}-{agent_id}-{suffix}"}
            if settings.queue_path is not None and settings.queue_path.is_dir():
                update["queue_path"] = settings.queue_path / f"queue-{hub.id}-{agent_id}.sqlite3"
            s = settings.replace(**update)
            self.agents.append(Agent(hub, agent_id, s, pin_factory=factory, clock=clock))
            for sensor in hub.agent(agent_id).sensors:
                self.pins[sensor.id] = (factory, sensor)
        self.changes = 0

    def start(self) -> None:
        for agent in self.agents:
            agent.start()
        for factory, sensor in self.pins.values():  # every sensor starts at rest (doors closed)
            drive(factory, sensor, kind_spec(sensor.kind).rest)

    def stop(self) -> None:
        """Stop all agents at once (each waits for its broker's last acknowledgements)."""
        threads = [threading.Thread(target=a.stop, name=f"stop-{a.id}") for a in self.agents]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def apply(self, change: Change) -> None:
        target = self.pins.get(change.sensor)
        if target is not None:
            drive(*target, change.state)
            self.changes += 1

    def run(self, stop: threading.Event, start: datetime | None = None) -> None:
        """Replay days until ``stop`` is set."""
        sim = SimClock(start or default_start(self.hub, now_utc()), self.speed)
        while not stop.is_set():
            local = sim.now().astimezone(self.hub.tz)
            day, midnight = local.date(), day_start(self.hub, local.date())
            plan = plan_day(self.hub, day, self.rng, self.timing)
            elapsed = (local - midnight).total_seconds()
            past = [c for c in plan if c.at < elapsed]
            for change in {c.sensor: c for c in past}.values():  # the state each sensor is in by now
                self.apply(change)
            for change in plan[len(past):]:
                wait = (midnight + timedelta(seconds=change.at) - sim.now()).total_seconds() / self.speed
                if wait > 0 and stop.wait(wait):
                    return
                self.apply(change)
            opening = next_opening(self.hub, day_start(self.hub, day + timedelta(days=1)))
            sim.jump(opening - timedelta(seconds=LEAD_IN_S))
            log.info("simulation %s: day %s done (%d changes so far)", self.hub.id, day, self.changes)


def run_simulated_hub(
    hub: Hub,
    broker_host: str,
    broker_port: int,
    speed: float,
    seed: int | None,
    stop_event: threading.Event,
    *,
    agent_ids: list[str] | None = None,
    start: datetime | None = None,
    settings: AgentSettings | None = None,
    clock: Callable[[], datetime] = now_utc,
) -> int:
    """Run all (or ``agent_ids``) agents of ``hub`` on mock pins until ``stop_event`` is set.

    Blocks; returns the number of pin changes driven.  ``settings`` is the base
    for every agent (broker host/port are taken from the arguments; the queue
    is in memory unless ``settings.queue_path`` names a directory).
    """
    base = settings or AgentSettings(heartbeat_interval_s=30)
    update: dict[str, object] = {"broker_host": broker_host, "broker_port": broker_port}
    if base.queue_path is None:
        update["queue_path"] = Path(":memory:")
    sim = HubSimulation(hub, base.replace(**update), speed, seed, agent_ids, clock)
    sim.start()
    try:
        sim.run(stop_event, start)
    finally:
        sim.stop()
    return sim.changes


def start_simulated_hubs(hubs: dict[str, Hub], broker_port: int, speed: float,
                         stop_event: threading.Event) -> list[threading.Thread]:
    """Every hub's agents on mock pins against a loopback broker, one thread per hub (seeded 1, 2, …),
    until ``stop_event`` is set (the demo, the screenshot script)."""
    threads = []
    for i, hub in enumerate(hubs.values()):
        t = threading.Thread(target=run_simulated_hub, args=(hub, "127.0.0.1", broker_port, speed, i + 1, stop_event),
                             name=f"sim-{hub.id}", daemon=True)
        t.start()
        threads.append(t)
    return threads
