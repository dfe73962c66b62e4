"""The running agent (edge/run.py) carries nothing it does not need: no pydantic (the config and
settings were checked before ``hubsense agent`` replaced itself), and never a collector dependency."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hubsense.config import DEFAULT_CONFIG_DIR
from tests.conftest import REPO

# Never on a Pi: the collector's dependencies, and pydantic (and the models that need it).
FORBIDDEN = ("pydantic", "pydantic_core", "fastapi", "starlette", "uvicorn", "numpy", "orjson", "httpx",
             "prometheus_client", "icalendar", "collector", "hubsense.config", "hubsense.protocol")

RUN_AN_AGENT = """
import json, sys, tempfile, time
from pathlib import Path
from gpiozero.pins.mock import MockFactory
from edge.agent import Agent
from edge.layout import AgentLayout
from edge.run import main  # what 'hubsense agent' becomes
from edge.settings import AgentSettings

layout = AgentLayout.from_dict(json.loads(sys.argv[1]))
pins = MockFactory()
agent = Agent(layout, layout.id, AgentSettings(broker_port=1, queue_path=Path(tempfile.mkdtemp()) / "q"),
              pin_factory=pins).start()
for sensor in layout.sensors:
    pin = pins.pin(sensor.pin)
    pin.drive_low() if pin.state else pin.drive_high()
time.sleep(0.3)
agent.heartbeat()
agent.stop()
print(" ".join(sorted(sys.modules)))
"""


def _layout_json() -> str:
    import json

    from edge.layout import layout_of
    from hubsense.config import load_hub

    return json.dumps(layout_of(load_hub(DEFAULT_CONFIG_DIR / "stockholm.toml"), "sthlm-pi-rum").to_dict())


def test_running_an_agent_imports_no_pydantic_and_no_collector_dependency() -> None:
    out = subprocess.run([sys.executable, "-c", RUN_AN_AGENT, _layout_json()], capture_output=True, text=True,
                         cwd=REPO, timeout=60, check=True).stdout.split()
    assert "edge.agent" in out and "gpiozero" in out and "paho.mqtt.client" in out
    loaded = [m for m in out if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert loaded == []


def test_hubsense_agent_becomes_a_process_without_them(broker, tmp_path: Path) -> None:
    """The real command: after its checks the same process (same PID) runs edge.run, maps no
    pydantic_core / numpy / orjson library, and the password is not on its command line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "hubsense.cli", "agent", "--config", str(DEFAULT_CONFIG_DIR / "stockholm.toml"),
         "--agent", "sthlm-pi-rum", "--broker", f"127.0.0.1:{broker.port}", "--pin-factory", "mock",
         "--username", "u", "--password", "s3cret-pw", "--queue", str(tmp_path / "q.sqlite3")],
        env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        cmdline = ""
        while "edge.run" not in cmdline:
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.05)
            cmdline = Path(f"/proc/{proc.pid}/cmdline").read_text().replace("\0", " ")
        time.sleep(1.0)  # running: sensors open, connected
        maps = Path(f"/proc/{proc.pid}/maps").read_text()
        assert "s3cret-pw" not in cmdline
        assert "libsqlite3" in maps  # the queue's: the maps list the shared libraries loaded
        assert not [lib for lib in ("pydantic_core", "numpy", "orjson", "_uvloop", "httptools") if lib in maps]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "started" in err and "Traceback" not in err
