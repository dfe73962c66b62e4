"""Soak test: a compressed hour of a large hub at 10x its event rate; is memory flat?

Numbers (docs/reliability.md):

* large hub = 200 sensors: 20 agents (Raspberry Pis) x 5 rooms x (1 PIR + 1 door);
* its busy-hour rate = 1 event per sensor per minute = 3.3 events/s; the soak runs 10x that,
  33.3 events/s of hub time, i.e. 120,000 events for one hub hour;
* compressed ``--compress`` times (default 30): the hour takes 2 minutes at ~1,000 events/s.

Real processes: a private Mosquitto, ``hubsense collector`` (SQLite store) and one child process
running the hub's 20 real ``edge.agent.Agent`` objects on gpiozero mock pins (each with its own
on-disk queue), whose pins a driver thread toggles at the target rate.  The RSS of the collector
and of the agent process is sampled every second with psutil.  Growth = mean RSS of the last
quarter minus mean RSS of the first quarter of the samples after a warm-up (the first 20 %).

Baseline, in the same run: an idle collector and an idle agent process (same code, same hub,
their own broker, no sensor changes), sampled the same way: the noise floor of "flat".

Usage: ``.venv/bin/python bench/soak.py [--hub-minutes 60] [--compress 30]``.
The last line printed is a JSON object with ``collector_rss_growth_mb`` and ``agent_rss_growth_mb``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AGENTS = 20
ROOMS_PER_AGENT = 5
SENSORS = AGENTS * ROOMS_PER_AGENT * 2  # 200
LARGE_HUB_EVENTS_PER_SENSOR_MIN = 1.0
SOAK_FACTOR = 10.0
HUB_RATE = SENSORS * LARGE_HUB_EVENTS_PER_SENSOR_MIN / 60.0 * SOAK_FACTOR  # events per hub second
WARMUP_FRACTION = 0.2
HUB_ID = "soakhub"


def hub_toml() -> str:
    lines = [f'id = "{HUB_ID}"', 'name = "Soak hub"', 'timezone = "UTC"', "[[opening_hours]]",
             'days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]', "open = 00:00:00", "close = 23:59:00"]
    for a in range(AGENTS):
        for r in range(ROOMS_PER_AGENT):
            lines += ["[[zones]]", f'id = "room-{a}-{r}"', f'name = "Room {a}.{r}"', 'kind = "room"', "capacity = 4"]
    for a in range(AGENTS):
        lines += ["[[agents]]", f'id = "pi-{a}"']
        for r in range(ROOMS_PER_AGENT):
            for kind, pin in (("pir", 4 + r), ("door", 17 + r)):
                lines += ["[[agents.sensors]]", f'id = "{kind}-{a}-{r}"', f'kind = "{kind}"', f"pin = {pin}",
                          f'zone = "room-{a}-{r}"']
    return "\n".join(lines) + "\n"


# -- child: the hub's agents on mock pins ----------------------------------------------------------


def child(config: str, port: int, queue_dir: str, rate: float, duration: float) -> None:
    from gpiozero.pins.mock import MockFactory

    from edge.agent import Agent
    from edge.settings import AgentSettings
    from hubsense.config import load_hub

    hub = load_hub(Path(config))
    pins = {a.id: MockFactory() for a in hub.agents}
    agents = [
        Agent(hub, a.id, AgentSettings(broker_port=port, queue_path=Path(queue_dir) / f"{a.id}.sqlite3",
                                       door_bounce_s=None, heartbeat_interval_s=10, queue_max_events=200_000),
              pin_factory=pins[a.id]).start()
        for a in hub.agents
    ]
    if not all(a.wait_connected(20) for a in agents):
        raise SystemExit("agents did not connect")
    stop = threading.Event()
    if rate > 0:
        threading.Thread(target=_drive, args=(hub, pins, rate, duration, stop), daemon=True).start()
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "quit":
            break
        seq = sum(a.seq for a in agents)
        depth = sum(a.queue.depth for a in agents if a.queue)
        print(f"{seq} {depth}", flush=True)
    stop.set()
    for a in agents:
        a.stop()


def _drive(hub, pins, rate: float, duration: float, stop: threading.Event) -> None:
    """Door pins round robin (synchronous events); every 10th change a PIR pin instead."""
    doors = [(a.id, s.pin) for a in hub.agents for s in a.sensors if s.kind.value == "door"]
    pirs = [(a.id, s.pin) for a in hub.agents for s in a.sensors if s.kind.value == "pir"]
    start = time.monotonic()
    i = 0
    while not stop.is_set() and time.monotonic() - start < duration:
        agent, pin_no = pirs[(i // 10) % len(pirs)] if i % 10 == 9 else doors[i % len(doors)]
        pin = pins[agent].pin(pin_no)
        pin.drive_low() if pin.state else pin.drive_high()
        i += 1
        if i % 1000 == 0:  # gpiozero's MockPin keeps every change in a test-history list: not ours
            for agent_id, n in doors + pirs:
                pins[agent_id].pin(n).clear_states()
        ahead = start + i / rate - time.monotonic()
        if ahead > 0.002:
            stop.wait(ahead)


# -- parent ------------------------------------------------------------------------------------------------


@dataclass
class Sampled:
    name: str
    pid: int
    rss_mb: list[float] = field(default_factory=list)

    def sample(self) -> None:
        import psutil

        self.rss_mb.append(psutil.Process(self.pid).memory_info().rss / 2**20)

    def growth(self) -> float:
        kept = self.rss_mb[int(len(self.rss_mb) * WARMUP_FRACTION):]
        q = max(1, len(kept) // 4)
        return statistics.fmean(kept[-q:]) - statistics.fmean(kept[:q])

    def row(self) -> str:
        return (f"| {self.name:<22} | {self.rss_mb[0]:7.1f} | {max(self.rss_mb):7.1f} | {self.rss_mb[-1]:7.1f} | "
                f"{self.growth():+7.2f} |")


def _spawn_agents(config: Path, port: int, queue_dir: Path, rate: float, duration: float) -> subprocess.Popen:
    queue_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", str(config), str(port), str(queue_dir), str(rate), str(duration)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        raise SystemExit(f"agent process did not start: {line!r}")
    return proc


def _ask(proc: subprocess.Popen) -> tuple[int, int]:
    proc.stdin.write("stats\n")
    proc.stdin.flush()
    seq, depth = proc.stdout.readline().split()
    return int(seq), int(depth)


def _spawn_collector(config: Path, port: int, workdir: Path, name: str):
    import httpx

    from hubsense.services import free_port

    http = free_port()
    env = {**os.environ, "HUBSENSE_MQTT_CLIENT_ID": f"soak-{name}"}
    log = (workdir / f"{name}.log").open("ab")
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "hubsense"), "collector", "--config", str(config), "--mqtt",
         f"127.0.0.1:{port}", "--db", str(workdir / f"{name}.sqlite3"), "--port", str(http),
         "--log-level", "WARNING"], stdout=log, stderr=log, env=env, cwd=workdir,
    )
    url = f"http://127.0.0.1:{http}/healthz"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url, timeout=2).json()["mqtt_connected"]:
                return proc, url
        except (httpx.HTTPError, ValueError):
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise SystemExit(f"collector {name} did not start")
        time.sleep(0.2)


def run(hub_minutes: float = 60.0, compress: float = 30.0, interval: float = 1.0) -> dict:
    import httpx

    from hubsense.services import Mosquitto

    duration = hub_minutes * 60.0 / compress
    rate = HUB_RATE * compress
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="hubsense-soak-") as tmp:
        work = Path(tmp)
        config = work / f"{HUB_ID}.toml"
        config.write_text(hub_toml())
        busy_broker = Mosquitto(work / "mqtt-busy").start()
        idle_broker = Mosquitto(work / "mqtt-idle").start()
        try:
            collector, url = _spawn_collector(config, busy_broker.port, work, "collector")
            idle_collector, _ = _spawn_collector(config, idle_broker.port, work, "idle-collector")
            procs += [collector, idle_collector]
            idle_agents = _spawn_agents(config, idle_broker.port, work / "q-idle", 0.0, duration)
            procs.append(idle_agents)
            agents = _spawn_agents(config, busy_broker.port, work / "q-busy", rate, duration)
            procs.append(agents)
            sampled = [Sampled("collector", collector.pid), Sampled("agent process (20 Pis)", agents.pid),
                       Sampled("baseline: idle collector", idle_collector.pid),
                       Sampled("baseline: idle agents", idle_agents.pid)]
            started = time.monotonic()
            while time.monotonic() - started < duration:
                for s in sampled:
                    s.sample()
                time.sleep(interval)
            elapsed = time.monotonic() - started
            time.sleep(1.0)  # the driver started a moment after the sampling: let it finish
            produced, _ = _ask(agents)
            deadline = time.monotonic() + 120
            while (stored := httpx.get(url, timeout=5).json()["stored"]) < produced and time.monotonic() < deadline:
                time.sleep(0.5)
            _, depth = _ask(agents)
        finally:
            for p in procs:
                if p.stdin:
                    try:
                        p.stdin.write("quit\n")
                        p.stdin.close()
                    except OSError:
                        pass
                else:
                    p.terminate()
            for p in procs:
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
            busy_broker.stop()
            idle_broker.stop()
    return {
        "rows": [s.row() for s in sampled],
        "samples": len(sampled[0].rss_mb),
        "duration_s": round(duration, 1),
        "target_rate": round(rate, 1),
        "produced": produced,
        "achieved_rate": round(produced / elapsed, 1),
        "stored": stored,
        "agent_queue_depth": depth,
        "collector_rss_growth_mb": round(sampled[0].growth(), 2),
        "agent_rss_growth_mb": round(sampled[1].growth(), 2),
        "baseline_collector_growth_mb": round(sampled[2].growth(), 2),
        "baseline_agent_growth_mb": round(sampled[3].growth(), 2),
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        config, port, queue_dir, rate, duration = sys.argv[2:7]
        child(config, int(port), queue_dir, float(rate), float(duration))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hub-minutes", type=float, default=60.0, help="hub time to simulate (default: an hour)")
    ap.add_argument("--compress", type=float, default=30.0, help="hub seconds per wall second (default 30)")
    args = ap.parse_args()
    r = run(args.hub_minutes, args.compress)
    print(f"Large hub: {SENSORS} sensors ({AGENTS} agents); busy rate {HUB_RATE / SOAK_FACTOR:.1f} events/s; "
          f"soak at {SOAK_FACTOR:.0f}x = {HUB_RATE:.1f} events/s of hub time")
    print(f"{args.hub_minutes:.0f} hub minutes in {r['duration_s']} s: target {r['target_rate']} events/s, achieved "
          f"{r['achieved_rate']}; {r['produced']} events produced, {r['stored']} stored, "
          f"{r['agent_queue_depth']} still queued at the agents; {r['samples']} RSS samples each")
    print("| process                | RSS start | RSS max | RSS end | growth MB |")
    print("|---|---|---|---|---|")
    for row in r["rows"]:
        print(row)
    print(json.dumps({"collector_rss_growth_mb": r["collector_rss_growth_mb"],
                      "agent_rss_growth_mb": r["agent_rss_growth_mb"]}))


if __name__ == "__main__":
    main()
