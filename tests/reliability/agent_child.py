"""A real agent in a child process (so a test can SIGKILL it): mock pins, on-disk queue.

``python -m tests.reliability.agent_child CONFIG AGENT PORT QUEUE DOORS RATE``: prints ``ready`` once
connected, waits for ``go`` on stdin, then toggles the agent's door pins DOORS times at RATE per
second, prints ``done`` and keeps running (delivering its queue) until stdin closes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from edge.agent import Agent
from edge.settings import AgentSettings
from hubsense.config import load_hub


def main(config: str, agent_id: str, port: str, queue: str, doors: str, rate: str) -> None:
    hub = load_hub(Path(config))
    pins = MockFactory()
    settings = AgentSettings(broker_port=int(port), queue_path=Path(queue), door_bounce_s=None,
                             reconnect_min_s=0.1, reconnect_max_s=0.5, keepalive_s=5, queue_max_events=100_000)
    agent = Agent(hub, agent_id, settings, pin_factory=pins).start()
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return
    door_pins = [s.pin for s in hub.agent(agent_id).sensors if s.kind.value == "door"]
    start = time.monotonic()
    for i in range(int(doors)):
        pin = pins.pin(door_pins[i % len(door_pins)])
        pin.drive_low() if pin.state else pin.drive_high()
        ahead = start + (i + 1) / float(rate) - time.monotonic()
        if ahead > 0.002:
            time.sleep(ahead)
    print("done", flush=True)
    sys.stdin.read()
    agent.stop()


if __name__ == "__main__":
    main(*sys.argv[1:7])
