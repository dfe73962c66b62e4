"""End-to-end latency: an event published to Mosquitto → the zone change visible on the collector's
Server-Sent-Event stream, at a steady publish rate (default 1,000 events/s).

The collector is the real ``hubsense collector`` process (SQLite store).  A generated hub has
``zones`` open zones with one PIR each (short timeout); the publisher (paho, QoS 1, exactly
the agent's payloads) sends, for each zone in turn, ``motion`` then ``no_motion``, each zone
every ``zones / (rate / 2)`` seconds, so every motion finds its zone free again and turns it
occupied.  The latency of a change is the SSE receive time minus the event's timestamp (the
publish time; one clock, one machine).  Baseline in the same run: the broker's own delivery
latency to a bare paho subscriber for the same stream.

Run: .venv/bin/python bench/latency.py [--rate R] [--seconds S]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import orjson
import paho.mqtt.client as mqtt

from hubsense import protocol as p
from hubsense.services import Mosquitto, free_port

ROOT = Path(__file__).resolve().parent.parent

HUB = "latency"
SENSORS_PER_AGENT = 20


def hub_toml(zones: int) -> str:
    lines = [f'id = "{HUB}"', 'name = "Latency bench hub"', 'timezone = "Europe/Stockholm"',
             '[[opening_hours]]', 'days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]',
             "open = 00:00:00", "close = 23:59:00"]
    for z in range(zones):
        lines += ["[[zones]]", f'id = "z{z}"', f'name = "Zone {z}"', 'kind = "open"', "capacity = 4",
                  "profile = { vacancy_timeout_s = 0.2 }"]
    for a in range(0, zones, SENSORS_PER_AGENT):
        lines += ["[[agents]]", f'id = "a{a // SENSORS_PER_AGENT}"']
        for i, z in enumerate(range(a, min(a + SENSORS_PER_AGENT, zones))):
            lines += ["[[agents.sensors]]", f'id = "s{z}"', 'kind = "pir"', f"pin = {i}", f'zone = "z{z}"']
    return "\n".join(lines) + "\n"


def start_collector(workdir: Path, broker: Mosquitto, config: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/hubsense"), "collector", "--config", str(config), "--mqtt", f"127.0.0.1:{broker.port}",
         "--db", str(workdir / "latency.sqlite3"), "--port", str(port), "--log-level", "WARNING"],
        env={"HUBSENSE_MQTT_CLIENT_ID": "bench-latency", "HUBSENSE_TOKENS_PATH": str(workdir / "tokens.json"),
             "PATH": "/usr/bin:/bin"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).json().get("mqtt_connected"):
                return proc, url
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("collector did not start")


class SseReader(threading.Thread):
    """Collects (receive time, zone, state, since) from /api/stream."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.rows: list[tuple[float, str, str, str | None]] = []
        self.ready = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.stream("GET", self.url + f"/api/stream?hub={HUB}", timeout=None) as response:
            self.response = response
            try:
                for line in response.iter_lines():
                    if line.startswith("retry:"):
                        self.ready.set()
                    elif line.startswith("data: "):
                        z = orjson.loads(line[6:])
                        self.rows.append((time.time(), z["id"], z["state"], z["since"]))
                    if self.stop.is_set():
                        return
            except httpx.HTTPError:
                if not self.stop.is_set():
                    raise


class BareSubscriber:
    """The broker's own latency: a paho subscriber that stamps each event on arrival."""

    def __init__(self, broker: Mosquitto) -> None:
        self.latencies: list[float] = []
        self.ready = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_connect = lambda c, *_: c.subscribe(f"hubsense/{HUB}/+/event", qos=1)
        self.client.on_subscribe = lambda *_: self.ready.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def _on_message(self, client, userdata, msg) -> None:
        payload = orjson.loads(msg.payload)
        if payload["state"] == "motion":
            sent = datetime.fromisoformat(payload["ts"]).timestamp()
            self.latencies.append((time.time() - sent) * 1000)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def publish_stream(broker: Mosquitto, zones: int, rate: float, seconds: float) -> dict[tuple[str, str], float]:
    """Publish at ``rate`` events/s; returns the send time of each motion by (zone, ts string)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    boot, seq, now = "lat1", {}, datetime.now(UTC)
    for a in range(0, zones, SENSORS_PER_AGENT):
        agent = f"a{a // SENSORS_PER_AGENT}"
        seq[agent] = 0
        status = p.AgentStatus(hub=HUB, agent=agent, boot=boot, state=p.AgentState.ONLINE, ts=now)
        client.publish(p.topic(HUB, agent, p.MessageKind.STATUS), p.encode(status), qos=1).wait_for_publish(5)
    time.sleep(0.5)
    sent: dict[tuple[str, str], float] = {}
    interval = 1.0 / rate
    start = time.perf_counter()
    total = int(rate * seconds)
    for i in range(total):
        z = (i // 2) % zones
        agent = f"a{z // SENSORS_PER_AGENT}"
        seq[agent] += 1
        state = p.SensorState.MOTION if i % 2 == 0 else p.SensorState.NO_MOTION
        target = start + i * interval
        delay = target - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        ts = datetime.now(UTC)
        ev = p.SensorEvent(hub=HUB, agent=agent, boot=boot, sensor=f"s{z}", kind=p.SensorKind.PIR, state=state,
                           ts=ts, seq=seq[agent])
        client.publish(p.topic(HUB, agent, p.MessageKind.EVENT), p.encode(ev), qos=1)
        if state is p.SensorState.MOTION:
            sent[(f"z{z}", ts.isoformat().replace("+00:00", "Z"))] = ts.timestamp()
    achieved = total / (time.perf_counter() - start)
    time.sleep(1.0)
    client.disconnect()
    client.loop_stop()
    return sent, achieved


def run(rate: float, seconds: float, zones: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        config = workdir / f"{HUB}.toml"
        config.write_text(hub_toml(zones))
        broker = Mosquitto(workdir / "broker").start()
        proc = None
        try:
            proc, url = start_collector(workdir, broker, config)
            reader = SseReader(url)
            reader.start()
            bare = BareSubscriber(broker)
            if not (reader.ready.wait(10) and bare.ready.wait(10)):
                raise RuntimeError("subscribers not ready")
            sent, achieved = publish_stream(broker, zones, rate, seconds)
            reader.stop.set()
            reader.response.close()
            bare.close()
        finally:
            if proc:
                proc.terminate()
                proc.wait(10)
            broker.stop()
    latencies = [(t - sent[(zone, since)]) * 1000 for t, zone, state, since in reader.rows
                 if state == "occupied" and (zone, since) in sent]
    if len(latencies) < 0.9 * len(sent):
        raise RuntimeError(f"only {len(latencies)} of {len(sent)} changes seen on the stream")
    ours = np.percentile(latencies, [50, 99])
    broker_only = np.percentile(bare.latencies, [50, 99])
    print(f"{achieved:,.0f} events/s for {seconds:.0f} s over {zones} zones; {len(latencies)} changes matched")
    print(f"{'path':42} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"{'publish → Mosquitto → bare paho':42} {broker_only[0]:8.2f} {broker_only[1]:8.2f}")
    print(f"{'publish → collector → SSE stream':42} {ours[0]:8.2f} {ours[1]:8.2f}")
    return {"p50_ms": round(float(ours[0]), 2), "p99_ms": round(float(ours[1]), 2), "rate": round(achieved)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--zones", type=int, default=1000)
    args = parser.parse_args()
    print(json.dumps(run(args.rate, args.seconds, args.zones)))


if __name__ == "__main__":
    main()
