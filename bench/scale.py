"""Many hubs on one collector: offered events/s, collector CPU and RSS, and API latency at 2, 100 and
1,000 hubs (docs/scaling.md).

For each size N: N hub configs like ``firmware_config/stockholm.toml`` (12 zones, 4 agents, 26
sensors; ``hubsense simulate --hubs N``), a private Mosquitto, and ``hubsense collector`` (SQLite)
as its own process.  A load generator publishes what every agent of every hub would publish
(retained online status, heartbeats, sensor events, with per-agent boot and sequence numbers, over
MQTT v5 at QoS 1), following the simulator's visit patterns for a busy weekday hour
(``collector.simulate.hub_messages``), timed so that each hub sends ``--factor`` times the busy-hour
rate of 0.588 events/s (26 sensors); it does not run 4 x N agent processes.  Meanwhile one client
asks, in turn, ``/api/hubs``, one hub's zones, the network overview, ``/healthz`` (the baseline: a
route that does next to nothing, served the same way) and one statistics call (a week of utilisation
of one hub), about 20 requests a second (a few dashboards), and the collector process
is sampled with psutil (CPU % of one core over the load, API requests included; peak RSS).

Run: ``.venv/bin/python bench/scale.py [--hubs 2 100 1000] [--seconds 30] [--factor 1]``
The last line is JSON for the largest N: ``hubs``, ``cpu_pct``, ``rss_mb``, ``api_hubs_p99_ms``,
``network_p99_ms`` (and the other figures).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUSY_HOUR = (1, 9)  # a Tuesday, 09:00 local: one of the simulator's busiest hours
# The busy-hour rate of a hub like stockholm.toml (26 sensors), events per second: the figure the
# earlier scale measurement used (issue 21: 100 hubs at 10x = 588 events/s).  The simulator's visit
# patterns give the order of events; their timing is scaled to this rate.
BUSY_HOUR_EVENTS_PER_HUB_S = 0.588


@dataclass
class Latencies:
    ms: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.ms.setdefault(name, []).append(seconds * 1000)

    def p(self, name: str, q: float) -> float | None:
        values = sorted(self.ms.get(name, []))
        if not values:
            return None
        return values[min(len(values) - 1, int(q * len(values)))]


def busy_window(hub, seconds: float) -> tuple[datetime, datetime, datetime]:
    """(opening, 09:00, 09:00 + ``seconds``) of the Tuesday of last week, in the hub's local time: the
    simulation starts at opening so that people are already there when the measured window begins."""
    local = datetime.now(hub.tz)
    day = (local - timedelta(days=local.weekday() + 7 - BUSY_HOUR[0])).date()
    at = datetime(day.year, day.month, day.day, BUSY_HOUR[1], tzinfo=hub.tz).astimezone(UTC)
    opening = min(h.open for h in hub.hours_on(day))
    first = datetime.combine(day, opening, hub.tz).astimezone(UTC)
    return first, at, at + timedelta(seconds=seconds)


def plan(hubs: dict, hub_seconds: float, seed: int = 7) -> list[tuple[float, str, str, str, tuple | None]]:
    """Every hub's messages in the busy window as (offset s, kind, hub, agent, data), merged in time order."""
    import numpy as np

    from collector.simulate import hub_messages

    items = []
    for hub in hubs.values():
        first, start, end = busy_window(hub, hub_seconds)
        rng = np.random.default_rng([seed, sum(map(ord, hub.id))])
        t0 = start.timestamp()
        items += [(t - t0, kind, hub.id, agent, data) for t, _, kind, agent, data in hub_messages(rng, hub, first, end)
                  if t >= t0 and not kind.startswith("lost-") and kind != "offline"]
    items.sort(key=lambda item: item[0])
    return items


class Publisher:
    """Publishes as the agents would: statuses retained, events numbered per agent and boot."""

    def __init__(self, port: int, hubs: dict) -> None:
        import paho.mqtt.client as mqtt

        self.hubs = hubs
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="scale-load", protocol=mqtt.MQTTv5)
        self.client.max_queued_messages_set(0)
        self.client.max_inflight_messages_set(1000)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.seq: dict[tuple[str, str], int] = {}
        self.states: dict[tuple[str, str], dict] = {}
        self.events = 0
        # one boot id per agent, as real agents have (random per start): the generated hubs reuse agent
        # ids, and an event's identity in the store is (agent, boot, seq)
        self.boot = f"scale-{os.getpid()}"

    def _boot(self, hub: str, agent: str) -> str:
        return f"{self.boot}-{hub}"

    def _send(self, hub: str, agent: str, kind, message, retain: bool = False) -> None:
        from hubsense import protocol as p

        self.client.publish(p.topic(hub, agent, kind), p.encode(message), qos=1, retain=retain)

    def online(self) -> None:
        from hubsense import protocol as p

        now = datetime.now(UTC)
        for hub in self.hubs.values():
            for agent in hub.agents:
                self.states[(hub.id, agent.id)] = {s.id: p.kind_spec(s.kind).rest for s in agent.sensors}
                self._send(hub.id, agent.id, p.MessageKind.STATUS, p.AgentStatus(
                    hub=hub.id, agent=agent.id, boot=self._boot(hub.id, agent.id), state=p.AgentState.ONLINE, ts=now),
                    retain=True)
                self.heartbeat(hub.id, agent.id)

    def heartbeat(self, hub: str, agent: str) -> None:
        from hubsense import protocol as p

        self._send(hub, agent, p.MessageKind.HEARTBEAT, p.Heartbeat(
            hub=hub, agent=agent, boot=self._boot(hub, agent), ts=datetime.now(UTC), seq=self.seq.get((hub, agent), 0),
            uptime_s=1.0, interval_s=300.0, sensors=self.states[(hub, agent)]))

    def event(self, hub: str, agent: str, data: tuple) -> None:
        from hubsense import protocol as p

        sensor, kind, state = data
        key = (hub, agent)
        self.seq[key] = self.seq.get(key, 0) + 1
        self.states[key][sensor] = state
        self._send(hub, agent, p.MessageKind.EVENT, p.SensorEvent(
            hub=hub, agent=agent, boot=self._boot(hub, agent), sensor=sensor, kind=kind, state=state,
            ts=datetime.now(UTC), seq=self.seq[key]))
        self.events += 1

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def drive(pub: Publisher, items: list, speed: float, seconds: float, stop: threading.Event) -> float:
    """Publish ``items`` at ``speed`` hub seconds per second for ``seconds``; returns the wall time it took."""
    start = time.monotonic()
    for offset, kind, hub, agent, data in items:
        due = start + offset / speed
        ahead = due - time.monotonic()
        if ahead > 0.002 and stop.wait(ahead):
            break
        if time.monotonic() - start > seconds:
            break
        if kind == "event":
            pub.event(hub, agent, data)
        elif kind == "heartbeat":
            pub.heartbeat(hub, agent)
    return time.monotonic() - start


def ask(url: str, hubs: list[str], lat: Latencies, stop: threading.Event, stats_every: int = 10,
        rate: float = 20.0) -> None:
    """About ``rate`` requests a second (a few dashboards open), in turn: /api/hubs, a hub's zones, the
    network overview, and every ``stats_every`` rounds a week of one hub's utilisation."""
    import httpx

    today = datetime.now(UTC).date()
    week = f"start={today - timedelta(days=7)}&end={today}&bucket=day"
    with httpx.Client(base_url=url, timeout=30) as client:
        i = 0
        while not stop.is_set():
            hub = hubs[i % len(hubs)]
            calls = [("api_hubs", "/api/hubs"), ("zones", f"/api/hubs/{hub}/zones"), ("network", "/api/network/hubs"),
                     ("healthz", "/healthz")]  # the baseline: a route that does next to nothing
            if i % stats_every == 0:
                calls.append(("stats", f"/api/hubs/{hub}/utilisation?{week}"))
            for name, path in calls:
                t = time.perf_counter()
                r = client.get(path)
                lat.add(name, time.perf_counter() - t)
                if r.status_code != 200:
                    raise SystemExit(f"{path}: {r.status_code} {r.text[:200]}")
                stop.wait(1 / rate)
            i += 1


def start_collector(config: Path, port: int, work: Path) -> tuple[subprocess.Popen, str, float]:
    import httpx

    from hubsense.services import free_port

    http = free_port()
    log = (work / "collector.log").open("ab")
    started = time.monotonic()
    env = {**os.environ, "HUBSENSE_MQTT_CLIENT_ID": "scale-collector",
           "HUBSENSE_TOKENS_PATH": str(work / "tokens.json")}
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "hubsense"), "collector", "--config", str(config), "--mqtt", f"127.0.0.1:{port}",
         "--db", str(work / "db.sqlite3"), "--port", str(http), "--log-level", "WARNING"],
        stdout=log, stderr=log, env=env, cwd=work)
    url = f"http://127.0.0.1:{http}"
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=2).json()["mqtt_connected"]:
                return proc, url, time.monotonic() - started
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise SystemExit(f"the collector did not start; see {work / 'collector.log'}")
        time.sleep(0.2)


def run(n: int, seconds: float, factor: float) -> dict:
    import httpx
    import psutil

    from collector.fleet import write_hub_configs
    from hubsense.config import load_hubs
    from hubsense.services import Mosquitto

    with tempfile.TemporaryDirectory(prefix=f"hubsense-scale-{n}-") as tmp:
        work = Path(tmp)
        config = work / "config"
        write_hub_configs(n, config)
        hubs = load_hubs([config])
        items = plan(hubs, 3600)  # the busy hour; timed so that the events come at factor x the busy-hour rate
        natural = sum(1 for item in items if item[1] == "event") / 3600 / n
        speed = factor * BUSY_HOUR_EVENTS_PER_HUB_S / natural
        broker = Mosquitto(work / "mqtt").start()
        proc = None
        try:
            proc, url, startup_s = start_collector(config, broker.port, work)
            pub = Publisher(broker.port, hubs)
            pub.online()
            time.sleep(1.0)
            collector = psutil.Process(proc.pid)
            stop = threading.Event()
            lat = Latencies()
            asker = threading.Thread(target=ask, args=(url, list(hubs), lat, stop), daemon=True)
            rss: list[float] = []
            sampler = threading.Thread(target=_sample_rss, args=(collector, rss, stop), daemon=True)
            cpu0, t0 = collector.cpu_times(), time.monotonic()
            asker.start()
            sampler.start()
            events0 = pub.events
            wall = drive(pub, items, speed, seconds, stop)
            cpu1, t1 = collector.cpu_times(), time.monotonic()
            stop.set()
            asker.join(30)
            sampler.join(5)
            offered = (pub.events - events0) / wall
            time.sleep(2.0)  # let the collector drain
            health = httpx.get(url + "/healthz", timeout=10).json()
            pub.close()
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(30)
            broker.stop()
    cpu = ((cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)) / (t1 - t0) * 100
    return {
        "hubs": n, "events_per_s_offered": round(offered, 1), "cpu_pct": round(cpu, 1),
        "rss_mb": round(max(rss), 1) if rss else None, "startup_s": round(startup_s, 2),
        "api_hubs_p99_ms": _r(lat.p("api_hubs", 0.99)), "api_hubs_p50_ms": _r(lat.p("api_hubs", 0.5)),
        "zones_p99_ms": _r(lat.p("zones", 0.99)), "network_p99_ms": _r(lat.p("network", 0.99)),
        "network_p50_ms": _r(lat.p("network", 0.5)), "stats_p99_ms": _r(lat.p("stats", 0.99)),
        "healthz_p50_ms": _r(lat.p("healthz", 0.5)), "healthz_p99_ms": _r(lat.p("healthz", 0.99)),
        "requests": sum(len(v) for v in lat.ms.values()), "stored": health.get("stored"),
        "rejected": sum(health.get("rejected", {}).values()), "received": health.get("received"),
        "duplicates": health.get("duplicates"), "events_published": pub.events,
    }


def _sample_rss(proc, out: list[float], stop: threading.Event) -> None:
    while not stop.is_set():
        out.append(proc.memory_info().rss / 2**20)
        stop.wait(0.5)


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hubs", type=int, nargs="+", default=[2, 100, 1000], help="hub counts (default 2 100 1000)")
    parser.add_argument("--seconds", type=float, default=30.0, help="load duration per size (default 30)")
    parser.add_argument("--factor", type=float, default=1.0, help="times the busy-hour rate (default 1)")
    args = parser.parse_args()
    results = [run(n, args.seconds, args.factor) for n in args.hubs]
    print("| hubs | offered events/s | collector CPU % | RSS MB | startup s | /api/hubs p50 / p99 ms | zones p99 ms "
          "| /network p50 / p99 ms | statistics p99 ms | baseline /healthz p50 / p99 ms | stored | rejected |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['hubs']} | {r['events_per_s_offered']} | {r['cpu_pct']} | {r['rss_mb']} | {r['startup_s']} | "
              f"{r['api_hubs_p50_ms']} / {r['api_hubs_p99_ms']} | {r['zones_p99_ms']} | {r['network_p50_ms']} / "
              f"{r['network_p99_ms']} | {r['stats_p99_ms']} | {r['healthz_p50_ms']} / {r['healthz_p99_ms']} | "
              f"{r['stored']} | {r['rejected']} |")
    print(json.dumps(max(results, key=lambda r: r["hubs"])))


if __name__ == "__main__":
    main()
