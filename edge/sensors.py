"""gpiozero devices for the configured sensors, and pin factory selection.

Each kind's row in :data:`hubsense.protocol.SENSOR_KINDS` says how its pin is read and what
it reports.  A ``sampled`` kind (PIR) is a :class:`gpiozero.InputDevice` (active = motion) read
``pir_sample_hz`` times a second, like gpiozero's ``MotionSensor`` with its default single-sample
queue, but every sampled sensor of the agent is read by ONE thread (:class:`_Sampler`):
``MotionSensor`` runs a thread per sensor, and four PIRs waking ten times a second each were most
of an idle agent's CPU.  A ``contact`` kind (door reed contact) is a debounced
:class:`gpiozero.DigitalInputDevice` (edge-triggered, no thread) whose active state means the reed
is closed, i.e. the magnet on the door is near: the door is closed.  With the default pull-up the
closed reed pulls the pin to ground.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gpiozero import DigitalInputDevice, InputDevice
from gpiozero.pins import Factory

from hubsense.wire import Device, SensorState, kind_spec

if TYPE_CHECKING:  # a hubsense.config.Sensor, or the running agent's edge.layout.SensorPin: the same fields
    from edge.layout import SensorPin as Sensor

Listener = Callable[["Sensor", SensorState], None]
log = logging.getLogger(__name__)

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


def make_device(sensor: Sensor, pin_factory: Factory | None, door_bounce_s: float | None = 0.05):
    """A sampled kind's plain input (read by the bank's sampler), or a contact's edge-triggered device."""
    pull_up = sensor.effective_pull_up
    active_state = sensor.active_high if pull_up is None else None
    if kind_spec(sensor.kind).device is Device.SAMPLED:
        return InputDevice(sensor.pin, pull_up=pull_up, active_state=active_state, pin_factory=pin_factory)
    return DigitalInputDevice(
        sensor.pin, pull_up=pull_up, active_state=active_state, bounce_time=door_bounce_s or None,
        pin_factory=pin_factory,
    )


class _Sampler:
    """Reads every sampled sensor ``hz`` times a second in one thread and calls ``listener`` on a
    change.  The first reading of each only sets its state (no event), as gpiozero's first sample does."""

    def __init__(self, devices: list[tuple[Sensor, InputDevice]], listener: Listener, hz: float) -> None:
        self.devices = devices
        self.listener = listener
        self.period = 1.0 / hz
        self.ready = threading.Event()  # the first reading is taken
        self._stop = threading.Event()
        self._last: dict[str, bool] = {}
        self._thread = threading.Thread(target=self._run, name="pir-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self._sample()
        self.ready.set()
        while not self._stop.wait(self.period):
            try:
                self._sample()
            except Exception:  # a pin read or a listener failed: keep sampling the others
                log.exception("sampling the PIR sensors failed")

    def _sample(self) -> None:
        for sensor, device in self.devices:
            active = bool(device.is_active)
            last = self._last.get(sensor.id)
            self._last[sensor.id] = active
            if last is not None and active != last:
                spec = kind_spec(sensor.kind)
                self.listener(sensor, spec.active if active else spec.idle)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(5)


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
    _sampler: _Sampler | None = field(default=None, init=False)

    def open(self, ready_timeout: float = 2.0) -> SensorBank:
        try:
            sampled = []
            for sensor in self.sensors:
                device = make_device(sensor, self.pin_factory, self.door_bounce_s)
                self.devices[sensor.id] = device
                spec = kind_spec(sensor.kind)
                if spec.device is Device.SAMPLED:
                    sampled.append((sensor, device))
                else:
                    device.when_activated = self._callback(sensor, spec.active)
                    device.when_deactivated = self._callback(sensor, spec.idle)
            if sampled:
                self._sampler = _Sampler(sampled, self.listener, self.pir_sample_hz)
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
        """Wait until the PIRs' first reading is taken.

        Until then a change has no earlier state to compare with, so a change
        right after start would be lost.
        """
        return self._sampler is None or self._sampler.ready.wait(timeout)

    def states(self) -> dict[str, SensorState]:
        """Current state of every sensor, read from the devices."""
        return {s.id: state_of(s, bool(self.devices[s.id].is_active)) for s in self.sensors if s.id in self.devices}

    def close(self) -> None:
        if self._sampler is not None:
            self._sampler.close()
            self._sampler = None
        for device in self.devices.values():
            device.close()
        self.devices.clear()
