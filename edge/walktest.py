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


def describe(sensor: Sensor) -> str:
    where = f"zone {sensor.zone}" + (f" desk {sensor.desk}" if sensor.desk else "")
    return f"{sensor.id:<26} {sensor.kind.value:<4} pin {sensor.pin:>2}  {where}"


def format_line(ts: datetime, sensor: Sensor, state: SensorState) -> str:
    stamp = ts.astimezone().strftime("%H:%M:%S.%f")[:-3]
    where = sensor.zone + (f"/{sensor.desk}" if sensor.desk else "")
    return f"{stamp}  {sensor.id:<26} {where:<28} {state.value.upper()}"


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
        states = bank.states()
        for sensor in agent.sensors:
            yield f"  {describe(sensor)}  now {states[sensor.id].value.upper()}"
        while not stop.is_set():
            try:
                ts, sensor, state = changes.get(timeout=poll_s)
            except queue.Empty:
                continue
            yield format_line(ts, sensor, state)
    finally:
        bank.close()
