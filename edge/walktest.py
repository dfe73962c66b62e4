"""Walk test: show every sensor change live, without a broker, to verify wiring.

An installer runs ``hubsense agent --check --config ... --agent ...`` on the Pi,
walks past each PIR and opens each door, and watches the lines appear.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from datetime import datetime

from edge.sensors import SensorBank
from hubsense.config import Agent, Sensor
from hubsense.protocol import SensorState, now_utc


def _where(sensor: Sensor) -> str:
    return sensor.zone + (f"/{sensor.desk}" if sensor.desk else "")


def _widths(sensors: list[Sensor]) -> tuple[int, int]:
    """Column widths that fit every sensor of the agent (id, zone[/desk])."""
    return max(len(s.id) for s in sensors), max(len(_where(s)) for s in sensors)


def describe(sensor: Sensor, widths: tuple[int, int] = (26, 28)) -> str:
    return f"{sensor.id:<{widths[0]}}  {sensor.kind.value:<4}  pin {sensor.pin:>2}  {_where(sensor):<{widths[1]}}"


def format_line(ts: datetime, sensor: Sensor, state: SensorState, widths: tuple[int, int] = (26, 28)) -> str:
    stamp = ts.astimezone().strftime("%H:%M:%S.%f")[:-3]
    return f"{stamp}  {sensor.id:<{widths[0]}}  {_where(sensor):<{widths[1]}}  {state.value.upper()}"


def walk_lines(
    agent: Agent,
    pin_factory=None,
    stop: threading.Event | None = None,
    clock: Callable[[], datetime] = now_utc,
    poll_s: float = 0.2,
) -> Iterator[str]:
    """Yield a header, each sensor's initial state, then one line per change until ``stop`` is set.

    The sensors are open while the generator runs and closed when it is closed
    or exhausted.
    """
    stop = stop or threading.Event()
    changes: queue.Queue[tuple[datetime, Sensor, SensorState]] = queue.Queue()
    bank = SensorBank(agent.sensors, lambda s, st: changes.put((clock(), s, st)), pin_factory)
    bank.open()
    try:
        yield f"walk test of agent {agent.id}: {len(agent.sensors)} sensors (Ctrl-C to end)"
        widths = _widths(agent.sensors)
        states = bank.states()
        for sensor in agent.sensors:
            yield f"  {describe(sensor, widths)}  now {states[sensor.id].value.upper()}"
        while not stop.is_set():
            try:
                ts, sensor, state = changes.get(timeout=poll_s)
            except queue.Empty:
                continue
            yield format_line(ts, sensor, state, widths)
    finally:
        bank.close()
