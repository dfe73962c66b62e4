from __future__ import annotations

import queue

import pytest
from gpiozero.pins.mock import MockFactory

from edge.sensors import PinFactoryError, SensorBank, active_level, make_pin_factory
from hubsense.config import Sensor
from hubsense.protocol import SensorKind, SensorState


def _bank(sensors: list[Sensor]) -> tuple[SensorBank, MockFactory, queue.Queue]:
    factory = MockFactory()
    changes: queue.Queue = queue.Queue()
    bank = SensorBank(sensors, lambda s, st: changes.put((s.id, st)), factory).open()
    return bank, factory, changes


def test_pir_motion_and_no_motion() -> None:
    bank, factory, changes = _bank([Sensor(id="p", kind=SensorKind.PIR, pin=4, zone="z")])
    try:
        assert bank.states() == {"p": SensorState.NO_MOTION}
        factory.pin(4).drive_high()
        assert changes.get(timeout=2) == ("p", SensorState.MOTION)
        factory.pin(4).drive_low()
        assert changes.get(timeout=2) == ("p", SensorState.NO_MOTION)
    finally:
        bank.close()


def test_door_reed_closed_means_door_closed() -> None:
    """Default pull-up: the closed reed (magnet near) pulls the pin low = door closed."""
    bank, factory, changes = _bank([Sensor(id="d", kind=SensorKind.DOOR, pin=22, zone="z")])
    try:
        assert bank.states() == {"d": SensorState.OPEN}  # pulled up, reed open
        factory.pin(22).drive_low()
        assert changes.get(timeout=1) == ("d", SensorState.CLOSED)
        factory.pin(22).drive_high()
        assert changes.get(timeout=1) == ("d", SensorState.OPEN)
    finally:
        bank.close()


def test_floating_pin_uses_active_high() -> None:
    door = Sensor(id="d", kind=SensorKind.DOOR, pin=22, zone="z", active_high=True)
    assert active_level(door) is True
    bank, factory, changes = _bank([door])
    try:
        factory.pin(22).drive_high()
        assert changes.get(timeout=1) == ("d", SensorState.CLOSED)
    finally:
        bank.close()


def test_active_levels() -> None:
    assert active_level(Sensor(id="p", kind=SensorKind.PIR, pin=4, zone="z")) is True
    assert active_level(Sensor(id="d", kind=SensorKind.DOOR, pin=4, zone="z")) is False
    assert active_level(Sensor(id="p", kind=SensorKind.PIR, pin=4, zone="z", active_high=False)) is False


def test_pin_factory_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    assert make_pin_factory(None) is None
    assert isinstance(make_pin_factory("mock"), MockFactory)
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
    assert isinstance(make_pin_factory(None), MockFactory)
    with pytest.raises(PinFactoryError, match="unknown pin factory"):
        make_pin_factory("pigeon")
    with pytest.raises(PinFactoryError, match="not usable"):
        make_pin_factory("rpigpio")  # no RPi.GPIO off a Pi
