"""Ingest throughput: the collector (validate → engine → SQLite, acks after commit) against a bare
paho-mqtt subscriber that only counts and ``mosquitto_sub``, on the same broker and stream at QoS 1.

Method: each subscriber first opens a persistent MQTT session (fixed client id, clean start off)
and goes away; then the stream (N sensor events of the real Stockholm layout, valid payloads
with proper (agent, boot, seq)) is published once with ``mosquitto_pub -l -q 1``, so the broker
queues the same N messages for every subscriber; finally each subscriber reconnects in turn and
drains its backlog.  The rate is N divided by the time from connect to the last message counted
(for the collector: stored and committed).  This measures what a subscriber sustains, not how
fast a publisher can push.

Run: .venv/bin/python bench/ingest.py [--events N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from collector.handler import IngestCounters
from collector.ingest import Ingest
from collector.live import LiveState
from collector.settings import Settings
from collector.store.sqlite import SqliteStore
from hubsense import protocol as p
from hubsense.config import DEFAULT_CONFIG_DIR, Hub, load_hub
from hubsense.services import Mosquitto

SUBSCRIPTION = "hubsense/+/+/+"


def make_stream(hub: Hub, n: int) -> dict[str, list[bytes]]:
    """N valid event payloads spread over the hub's agents, grouped by topic."""
    by_topic: dict[str, list[bytes]] = {}
    sensors = [(a, s) for a in hub.agents for s in a.sensors]
    seq = {a.id: 0 for a in hub.agents}
    t0 = datetime.now(UTC) - timedelta(hours=1)
    for i in range(n):
        agent, sensor = sensors[i % len(sensors)]
        seq[agent.id] += 1
        spec = p.kind_spec(sensor.kind)
        state = spec.active if (i // len(sensors)) % 2 == 0 else spec.idle
        msg = p.SensorEvent(hub=hub.id, agent=agent.id, boot="bench1", sensor=sensor.id, kind=sensor.kind,
                            state=state, ts=t0 + timedelta(milliseconds=10 * i), seq=seq[agent.id])
        by_topic.setdefault(p.topic(hub.id, agent.id, p.MessageKind.EVENT), []).append(p.encode(msg))
    return by_topic


def publish(broker: Mosquitto, stream: dict[str, list[bytes]]) -> float:
    started = time.perf_counter()
    procs = [
        subprocess.Popen(["mosquitto_pub", "-p", str(broker.port), "-q", "1", "-t", topic, "-l"],
                         stdin=subprocess.PIPE)
        for topic in stream
    ]
    for proc, lines in zip(procs, stream.values(), strict=True):
        proc.stdin.write(b"\n".join(lines) + b"\n")
        proc.stdin.close()
    for proc in procs:
        proc.wait(120)
    return time.perf_counter() - started


def _v5_client(client_id: str, **kw) -> mqtt.Client:
    return mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, **kw)


def _connect_props() -> Properties:
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    return props


def open_paho_session(broker: Mosquitto, client_id: str) -> None:
    done = threading.Event()
    client = _v5_client(client_id)
    client.on_connect = lambda c, *_: c.subscribe(SUBSCRIPTION, qos=1)
    client.on_subscribe = lambda *_: done.set()
    client.connect("127.0.0.1", broker.port, clean_start=False, properties=_connect_props())
    client.loop_start()
    assert done.wait(10)
    client.disconnect()
    client.loop_stop()


def drain_paho(broker: Mosquitto, n: int) -> float:
    count = 0
    done = threading.Event()

    def on_message(*_a) -> None:
        nonlocal count
        count += 1
        if count >= n:
            done.set()

    client = _v5_client("bench-paho")
    client.on_message = on_message
    started = time.perf_counter()
    client.connect("127.0.0.1", broker.port, clean_start=False, properties=_connect_props())
    client.loop_start()
    if not done.wait(300):
        raise RuntimeError(f"paho received only {count} of {n}")
    elapsed = time.perf_counter() - started
    client.disconnect()
    client.loop_stop()
    return elapsed


def open_mosquitto_sub_session(broker: Mosquitto) -> None:
    subprocess.run(["mosquitto_sub", "-p", str(broker.port), "-V", "mqttv5", "-i", "bench-msub", "-c", "-x", "3600",
                    "-q", "1", "-t", SUBSCRIPTION, "-E"], check=True, timeout=10)


def drain_mosquitto_sub(broker: Mosquitto, n: int) -> float:
    started = time.perf_counter()
    subprocess.run(["mosquitto_sub", "-p", str(broker.port), "-V", "mqttv5", "-i", "bench-msub", "-c", "-x", "3600",
                    "-q", "1", "-t", SUBSCRIPTION, "-C", str(n)], check=True, timeout=300, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def collector_ingest(broker: Mosquitto, workdir: Path, hub: Hub) -> Ingest:
    settings = Settings(mqtt_port=broker.port, mqtt_client_id="bench-collector",
                        sqlite_path=workdir / "bench.sqlite3", config_paths=[])
    store = SqliteStore(settings.sqlite_path)
    return Ingest(settings, LiveState({hub.id: hub}), store, IngestCounters())


def drain_collector(ingest: Ingest, n: int) -> float:
    started = time.perf_counter()
    ingest.start()
    deadline = time.monotonic() + 300
    while ingest.counters.stored < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"collector stored only {ingest.counters.stored} of {n}")
        time.sleep(0.005)
    elapsed = time.perf_counter() - started
    ingest.stop()
    return elapsed


def run(n: int) -> dict:
    hub = load_hub(DEFAULT_CONFIG_DIR / "stockholm.toml")
    stream = make_stream(hub, n)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        broker = Mosquitto(workdir / "broker").start()
        try:
            ingest = collector_ingest(broker, workdir, hub)
            ingest.start()  # open the collector's persistent session, then go away
            assert ingest.wait_ready(10)
            ingest.stop()
            ingest = collector_ingest(broker, workdir, hub)
            open_paho_session(broker, "bench-paho")
            open_mosquitto_sub_session(broker)
            publish_s = publish(broker, stream)
            results = {
                "mosquitto_sub": n / drain_mosquitto_sub(broker, n),
                "paho (count only)": n / drain_paho(broker, n),
                "collector (validate+engine+SQLite)": n / drain_collector(ingest, n),
            }
            stored = ingest.store.event_count()
            ingest.store.close()
        finally:
            broker.stop()
    if stored != n:
        raise RuntimeError(f"collector stored {stored} events, expected {n}")
    print(f"{n} events, QoS 1, published in {publish_s:.1f} s ({n / publish_s:,.0f}/s)")
    print(f"{'subscriber':40} {'events/s':>10}")
    for name, rate in results.items():
        print(f"{name:40} {rate:10,.0f}")
    collector = results["collector (validate+engine+SQLite)"]
    paho = results["paho (count only)"]
    return {
        "events_per_s": round(collector),
        "paho_events_per_s": round(paho),
        "mosquitto_sub_events_per_s": round(results["mosquitto_sub"]),
        "ratio_vs_paho": round(collector / paho, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    print(json.dumps(run(args.events)))


if __name__ == "__main__":
    main()
