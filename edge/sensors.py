"""gpiozero devices for the configured sensors, and pin factory selection.

Each kind's row in :data:`hubsense.protocol.SENSOR_KINDS` says how its pin is read and what
it reports.  A ``sampled`` kind (PIR) becomes a :class:`gpiozero.MotionSensor` (active =
motion); a ``contact`` kind (door reed contact) a debounced :class:`gpiozero.DigitalInputDevice`
whose active state means the reed is closed, i.e. the magnet on the door is near: the door is
closed.  With the default pull-up the closed reed pulls the pin to ground.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gpiozero import DigitalInputDevice, MotionSensor
from gpiozero.pins import Factory

from hubsense.config import Sensor
from hubsense.protocol import Device, SensorState, kind_spec

Listener = Callable[[Sensor, SensorState], None]

_FACTORIES = {
    "mock": ("gpiozero.pins.mock", "MockFactory"),
    "lgpio": ("gpiozero.pins.lgpio", "LGPIOFactory"),
    "rpigpio": ("gpiozero.pins.rpigpio", "RPiGPIOFactory"),
    "native": ("gpiozero.pins.native", "NativeFactory"),
}

class PinFactoryError(RuntimeError):
    pass


def make_pin_factory(name: str | None = None) -> Factory | None:
    """A pin factory by name, else from ``$GPIOZERO_PIN_FACTORY``, else None (gpiozero's default)."""
    name = name or os.environ.get("GPIOZERO_PIN_FACTORY") or None
    if name is None:
        return None
    try:
        module_name, cls_name = _FACTORIES[name.lower()]
    except KeyError:
        raise PinFactoryError(f"unknown pin factory {name!r}; choose one of {', '.join(_FACTORIES)}") from None
    try:
        module = __import__(module_name, fromlist=[cls_name])
        return getattr(module, cls_name)()
    except Exception as exc:  # the libraries raise all sorts off a Pi
        raise PinFactoryError(f"pin factory {name!r} is not usable here: {exc}") from exc


def active_level(sensor: Sensor) -> bool:
    """The pin level (True = high) at which the sensor is active (motion / door closed)."""
    pull_up = sensor.effective_pull_up
    if pull_up is None:
        return bool(sensor.active_high)
    return not pull_up


def state_of(sensor: Sensor, active: bool) -> SensorState:
    spec = kind_spec(sensor.kind)
    return spec.active if active else spec.idle


def make_device(sensor: Sensor, pin_factory: Factory | None, door_bounce_s: float | None = 0.05,
                pir_sample_hz: float = 10.0):
    pull_up = sensor.effective_pull_up
    active_state = sensor.active_high if pull_up is None else None
    if kind_spec(sensor.kind).device is Device.SAMPLED:
        return MotionSensor(sensor.pin, pull_up=pull_up, active_state=active_state, sample_rate=pir_sample_hz,
                            pin_factory=pin_factory)
    return DigitalInputDevice(
        sensor.pin, pull_up=pull_up, active_state=active_state, bounce_time=door_bounce_s or None,
        pin_factory=pin_factory,
    )


@dataclass
class SensorBank:
    """The devices of one agent; calls ``listener(sensor, new_state)`` on every change.

    Callbacks run on gpiozero's threads (a sampling thread per PIR, the pin
    factory's event thread for doors), so the listener must be thread-safe.
    """

    sensors: list[Sensor]
    listener: Listener
    pin_factory: Factory | None = None
    door_bounce_s: float | None = 0.05
    pir_sample_hz: float = 10.0
    devices: dict[str, object] = field(default_factory=dict, init=False)

    def open(self, ready_timeout: float = 2.0) -> SensorBank:
        try:
            for sensor in self.sensors:
                device = make_device(sensor, self.pin_factory, self.door_bounce_s, self.pir_sample_hz)
                self.devices[sensor.id] = device
                spec = kind_spec(sensor.kind)
                device.when_activated = self._callback(sensor, spec.active)
                device.when_deactivated = self._callback(sensor, spec.idle)
            self.wait_ready(ready_timeout)
        except BaseException:
            self.close()
            raise
        return self

    def _callback(self, sensor: Sensor, state: SensorState) -> Callable[[], None]:
        def fire() -> None:
            self.listener(sensor, state)

        return fire

    def wait_ready(self, timeout: float) -> bool:
        """Wait until every PIR's sampling thread has taken its first sample.

        Until then gpiozero swallows the first edge (it has no earlier state to
        compare with), so a change right after start would be lost.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(getattr(d, "_last_active", True) is not None for d in self.devices.values()):
                return True
            time.sleep(0.02)
        return False

    def states(self) -> dict[str, SensorState]:
        """Current state of every sensor, read from the devices."""
        return {s.id: state_of(s, bool(self.devices[s.id].is_active)) for s in self.sensors if s.id in self.devices}

    def close(self) -> None:
        for device in self.devices.values():
            device.close()
        self.devices.clear()
