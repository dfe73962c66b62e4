"""Memory and CPU footprint of the sensor agent, next to a bare paho + gpiozero process.

The agent (``edge.agent.Agent``, real code) runs in a child process on gpiozero
mock pins with the 8 sensors of ``stockholm/sthlm-pi-rum`` (4 PIR, 4 door),
connected to a private Mosquitto started here, with its SQLite queue on disk.  Like the process
``hubsense agent`` becomes after checking the config (edge/run.py), the child gets the agent's
layout from here (checked by the hub config models in this process) and never imports pydantic.
Measured with psutil on the child:

* RSS after start-up;
* CPU % of one core while idle (no sensor changes; heartbeats only) over ``--window`` s;
* CPU % of one core at ``--rate`` events/s (a thread in the child toggles the mock
  pins, which is counted too) over ``--window`` s; a subscriber here counts what
  arrives, so a silently stalled agent cannot look cheap.

Baseline row: a python process that only imports paho-mqtt and gpiozero.
Targets (issue 20): rss <= 35 MB, idle <= 0.5 % of a core.

Usage: ``.venv/bin/python bench/agent_footprint.py [--window 10] [--rate 10]``.
The last line printed is a JSON object with ``rss_mb``, ``idle_cpu_pct`` and ``busy_cpu_pct``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AGENT_ID = "sthlm-pi-rum"
BASELINE = "import paho.mqtt.client, gpiozero, sys; print('ready', flush=True); sys.stdin.readline()"


# -- child: the agent on mock pins -----------------------------------------------------


def child(port: int, queue_dir: str, layout_json: str) -> None:
    from gpiozero.pins.mock import MockFactory

    from edge.agent import Agent
    from edge.layout import AgentLayout
    from edge.settings import AgentSettings

    layout = AgentLayout.from_dict(json.loads(layout_json))
    pins = MockFactory()
    settings = AgentSettings(broker_port=port, queue_path=Path(queue_dir) / "queue.sqlite3",
                             client_id="bench-agent")
    agent = Agent(layout, AGENT_ID, settings, pin_factory=pins).start()
    if not agent.wait_connected(10):
        raise SystemExit("agent did not connect")
    rate = [0.0]
    stop = threading.Event()
    threading.Thread(target=_drive, args=(pins, layout.sensors, rate, stop), daemon=True).start()
    print("ready", flush=True)
    for line in sys.stdin:
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "rate":
            rate[0] = float(arg)
        elif cmd == "quit":
            break
        print(f"ok {agent.seq} {agent.delivered}", flush=True)
    stop.set()
    agent.stop()


def _drive(pins, sensors, rate: list[float], stop: threading.Event) -> None:
    """Toggle the sensors' pins round robin at ``rate[0]`` changes/s (each change is one event)."""
    i = 0
    next_at = time.monotonic()
    while not stop.is_set():
        if rate[0] <= 0:
            stop.wait(0.5)
            next_at = time.monotonic()
            continue
        sensor = sensors[i % len(sensors)]
        pin = pins.pin(sensor.pin)
        pin.drive_low() if pin.state else pin.drive_high()
        i += 1
        next_at += 1.0 / rate[0]
        stop.wait(max(0.0, next_at - time.monotonic()))


# -- parent: measure -----------------------------------------------------------------------


def _cpu_pct(proc, window_s: float) -> float:
    before = proc.cpu_times()
    t0 = time.monotonic()
    time.sleep(window_s)
    after = proc.cpu_times()
    used = (after.user - before.user) + (after.system - before.system)
    return 100.0 * used / (time.monotonic() - t0)


def _spawn(args: list[str]) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        raise SystemExit(f"child did not start: {line!r}")
    return proc


def _send(proc: subprocess.Popen, cmd: str) -> str:
    proc.stdin.write(cmd + "\n")
    proc.stdin.flush()
    return proc.stdout.readline().strip()


class _Counter:
    def __init__(self, port: int) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.n = 0
        self._sub = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: self._sub.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.client.subscribe(f"hubsense/stockholm/{AGENT_ID}/event", qos=1)
        if not self._sub.wait(5):
            raise SystemExit("no SUBACK")

    def _on_message(self, client, userdata, msg) -> None:
        self.n += 1

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def run(window_s: float = 10.0, rate: float = 10.0, settle_s: float = 2.0) -> dict:
    """Measure the agent and the baseline; returns rows and the summary figures."""
    import psutil

    from edge.layout import layout_of
    from hubsense.config import DEFAULT_CONFIG_DIR, load_hub
    from hubsense.services import Mosquitto

    layout = json.dumps(layout_of(load_hub(DEFAULT_CONFIG_DIR / "stockholm.toml"), AGENT_ID).to_dict())
    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto(Path(tmp) / "mosquitto").start()
        counter = _Counter(broker.port)
        base = _spawn(["-c", BASELINE])
        agent = _spawn([__file__, "--child", "--port", str(broker.port), "--queue-dir", tmp, "--layout", layout])
        try:
            time.sleep(settle_s)
            bp, ap = psutil.Process(base.pid), psutil.Process(agent.pid)
            base_idle = _cpu_pct(bp, min(window_s, 3.0))
            idle = _cpu_pct(ap, window_s)
            rss, base_rss = ap.memory_info().rss / 2**20, bp.memory_info().rss / 2**20
            _send(agent, f"rate {rate}")
            time.sleep(1.0)
            n0 = counter.n
            busy = _cpu_pct(ap, window_s)
            arrived = (counter.n - n0) / window_s
            _send(agent, "rate 0")
            rss_busy = ap.memory_info().rss / 2**20
        finally:
            for proc in (agent, base):
                try:
                    proc.stdin.write("quit\n")
                    proc.stdin.close()
                    proc.wait(10)
                except (OSError, subprocess.TimeoutExpired):
                    proc.kill()
            counter.close()
            broker.stop()
    return {
        "rows": [
            ("bare python + paho + gpiozero", base_rss, base_idle, None, None),
            (f"agent, 8 sensors, idle / {rate:g} ev/s", max(rss, rss_busy), idle, busy, arrived),
        ],
        "rss_mb": round(max(rss, rss_busy), 1),
        "idle_cpu_pct": round(idle, 2),
        "busy_cpu_pct": round(busy, 2),
        "events_per_s_arrived": round(arrived, 2),
    }


def _fmt(v: float | None, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--window", type=float, default=10.0, help="seconds per CPU measurement")
    ap.add_argument("--rate", type=float, default=10.0, help="events/s in the busy phase")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--queue-dir", help=argparse.SUPPRESS)
    ap.add_argument("--layout", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.port, args.queue_dir, args.layout)
        return
    result = run(args.window, args.rate)
    print(f"{'process':<36} {'RSS MB':>7} {'idle CPU %':>11} {'busy CPU %':>11} {'arrived ev/s':>13}")
    for name, rss, idle, busy, arrived in result["rows"]:
        print(f"{name:<36} {rss:>7.1f} {idle:>11.2f} {_fmt(busy, '11.2f'):>11} {_fmt(arrived, '13.1f'):>13}")
    print(f"targets: rss <= 35 MB ({'ok' if result['rss_mb'] <= 35 else 'MISSED'}), "
          f"idle <= 0.5 % ({'ok' if result['idle_cpu_pct'] <= 0.5 else 'MISSED'})")
    print(json.dumps({k: result[k] for k in ("rss_mb", "idle_cpu_pct", "busy_cpu_pct")}))


if __name__ == "__main__":
    main()
