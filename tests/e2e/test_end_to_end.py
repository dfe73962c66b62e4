"""Agent on mock pins → Mosquitto → collector → API, with real processes and sockets."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from edge.agent import Agent
from edge.settings import AgentSettings
from hubsense.config import DEFAULT_CONFIG_DIR, load_hub
from hubsense.services import Mosquitto
from tests.support import collector_settings, running_collector, wait_for

DOCS = Path(__file__).resolve().parents[2] / "docs"

HUB_TOML = """
id = "testhub"
name = "Test hub"
timezone = "Europe/Stockholm"
[[opening_hours]]
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
open = 00:00:00
close = 23:59:00
[[zones]]
id = "rastplatsen"
name = "Rastplatsen"
kind = "open"
capacity = 4
profile = { vacancy_timeout_s = 1.5 }
[[agents]]
id = "test-pi"
[[agents.sensors]]
id = "rast-pir"
kind = "pir"
pin = 4
zone = "rastplatsen"
"""


def _zone_state(running, hub: str, zone: str) -> str:
    return running.get(f"/api/hubs/{hub}/zones/{zone}").json()["state"]


def test_agent_to_api_occupied_then_free_after_timeout(private_broker: Mosquitto, tmp_path: Path) -> None:
    config = tmp_path / "testhub.toml"
    config.write_text(HUB_TOML)
    hub = load_hub(config)
    broker = private_broker  # its own broker: retained messages of other tests cannot add rejections
    settings = collector_settings(broker, tmp_path, config_paths=[config])
    factory = MockFactory()
    agent_settings = AgentSettings(broker_port=broker.port, queue_path=Path(":memory:"), heartbeat_interval_s=1)
    with running_collector(settings) as running, Agent(hub, "test-pi", agent_settings, pin_factory=factory) as agent:
        assert agent.wait_connected(5)
        wait_for(lambda: _zone_state(running, "testhub", "rastplatsen") != "unknown")
        assert _zone_state(running, "testhub", "rastplatsen") == "free"
        time.sleep(0.3)  # gpiozero's MotionSensor samples in a thread; its first edge needs a moment
        pin = factory.pin(4)
        pin.drive_high()
        wait_for(lambda: _zone_state(running, "testhub", "rastplatsen") == "occupied", timeout=3)
        pin.drive_low()
        started = time.monotonic()
        wait_for(lambda: _zone_state(running, "testhub", "rastplatsen") == "free", timeout=5)
        assert time.monotonic() - started >= 0.2  # freed by the timeout, not at once
        zone = running.get("/api/hubs/testhub/zones/rastplatsen").json()
        assert zone["last_confirmed"] is not None
        health = running.get("/healthz").json()
        assert health["mqtt_connected"] and health["stored"] >= 2 and health["rejected"] == {}


def _doc_commands() -> list[str]:
    text = (DOCS / "protocol.md").read_text()
    return re.findall(r"```sh\n(.*?)\n```", text, re.S)


def test_mosquitto_pub_exactly_as_documented(broker: Mosquitto, tmp_path: Path) -> None:
    """The shell commands in docs/protocol.md, run as written (only the port differs)."""
    commands = _doc_commands()
    event_cmd = next(c for c in commands if "lagerelden-pir" in c)
    status_cmd = next(c for c in commands if "/status" in c)
    settings = collector_settings(broker, tmp_path, config_paths=[DEFAULT_CONFIG_DIR])
    with running_collector(settings) as running:
        for cmd in (status_cmd, event_cmd):
            subprocess.run(["bash", "-c", cmd.replace("-p 1883", f"-p {broker.port}")], check=True, timeout=10)
        published = time.monotonic()
        wait_for(lambda: _zone_state(running, "stockholm", "lagerelden") == "occupied", timeout=1.0)
        assert time.monotonic() - published < 1.0
        # clean up the retained status so other tests sharing the broker start clean
        subprocess.run(["mosquitto_pub", "-p", str(broker.port), "-r", "-n", "-t",
                        "hubsense/stockholm/sthlm-pi-entre/status"], check=True, timeout=10)

