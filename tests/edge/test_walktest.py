from __future__ import annotations

import threading

from gpiozero.pins.mock import MockFactory

from edge.walktest import walk_lines
from hubsense.config import Hub


def test_walk_test_prints_each_change(stockholm: Hub) -> None:
    agent = stockholm.agent("sthlm-pi-skog")
    factory, stop = MockFactory(), threading.Event()
    lines = walk_lines(agent, factory, stop, poll_s=0.05)
    try:
        assert "sthlm-pi-skog" in next(lines)
        initial = [next(lines) for _ in agent.sensors]
        assert any("oasen-door" in line and "OPEN" in line for line in initial)
        factory.pin(22).drive_low()
        line = next(lines)
        assert "oasen-door" in line and "oasen" in line and line.endswith("CLOSED")
        factory.pin(27).drive_high()
        line = next(lines)
        assert "oasen-pir" in line and line.endswith("MOTION")
    finally:
        stop.set()
        lines.close()
    assert not factory.pin(22).when_changed  # sensors closed with the generator


def test_walk_test_shows_desk(stockholm: Hub) -> None:
    agent = stockholm.agent("sthlm-pi-desk")
    factory, stop = MockFactory(), threading.Event()
    lines = walk_lines(agent, factory, stop, poll_s=0.05)
    try:
        for _ in range(len(agent.sensors) + 1):
            next(lines)
        factory.pin(4).drive_high()
        assert "skrivbordet/desk-01" in next(lines)
    finally:
        stop.set()
        lines.close()
