"""Abuse: what a hostile peer on the hub network costs the collector (issue 19's black-box probe).

Real processes: a private Mosquitto (no size limit of its own, so the collector's own protection is
measured) and ``hubsense collector`` (SQLite, the Stockholm and Östersund hubs) in a subprocess whose
RSS is sampled.  Three measurements:

* **slow connections**: a helper process keeps ``--slow`` connections (5,000) open that send the
  start of a request and then one header byte every ~2 s (reopening each one the server closes),
  while this process times ``GET /api/hubs/stockholm/zones`` one after another; p99 against the
  same requests without the slow connections (baseline, same run);
* **64 MB header**: one request whose header is ``--header-mb`` long, sent as fast as the server
  takes it; collector RSS growth (MB) a second later;
* **100 MB MQTT message**: one ``--mqtt-mb`` message published (QoS 1) on an agent's event topic;
  collector RSS growth (MB) after the broker has taken it.

Before the fixes the probe measured: the API unavailable under ~20,000 slow connections (887 of 887
requests failed), +61 MB for one 64 MB header, +297 MB for one 100 MB message.

Run: .venv/bin/python bench/abuse.py [--slow N] [--header-mb M] [--mqtt-mb K] [--requests R]
The last line printed is a JSON object with ``api_p99_ms_under_slow_conns``,
``rss_growth_mb_big_header`` and ``rss_growth_mb_big_mqtt``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The slow clients, in a process of their own (asyncio): open N connections, trickle a header byte
# on each every ~2 s, reopen what the server closes; print how many are open once a second.
SLOW = r'''
import asyncio, random, resource, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
open_now = 0

async def one():
    global open_now
    while True:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.5)
            continue
        open_now += 1
        try:
            writer.write(b"GET /api/hubs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            while not reader.at_eof():
                await writer.drain()
                writer.write(b"a")
                try:
                    await asyncio.wait_for(reader.read(1024), 2.0 + random.random())
                except asyncio.TimeoutError:
                    continue
                break
        except OSError:
            pass
        finally:
            open_now -= 1
            writer.close()

async def main():
    tasks = []
    for i in range(n):
        tasks.append(asyncio.create_task(one()))
        if i % 200 == 199:
            await asyncio.sleep(0.05)
    while True:
        print(open_now, flush=True)
        await asyncio.sleep(1)

asyncio.run(main())
'''


def _rss_mb(pid: int) -> float:
    import psutil

    return psutil.Process(pid).memory_info().rss / 2**20


def _settled_rss(pid: int, seconds: float = 1.0) -> float:
    time.sleep(seconds)
    return _rss_mb(pid)


def _spawn_collector(port: int, workdir: Path) -> tuple[subprocess.Popen, str]:
    import httpx

    from hubsense.services import free_port

    http = free_port()
    log = (workdir / "collector.log").open("ab")
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "hubsense"), "collector", "--mqtt", f"127.0.0.1:{port}",
         "--db", str(workdir / "hubsense.sqlite3"), "--port", str(http), "--log-level", "ERROR"],
        stdout=log, stderr=log, cwd=workdir, env={**os.environ, "HUBSENSE_MQTT_CLIENT_ID": "abuse-collector"},
    )
    url = f"http://127.0.0.1:{http}"
    deadline = time.monotonic() + 60
    while True:
        with suppress(httpx.HTTPError, ValueError):
            if httpx.get(url + "/healthz", timeout=2).json()["mqtt_connected"]:
                return proc, url
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise SystemExit("the collector did not start")
        time.sleep(0.2)


def _p99(url: str, n: int) -> tuple[float, int]:
    """p99 latency (ms) of ``n`` sequential GETs on fresh connections, and how many answered 200."""
    import httpx

    times, ok = [], 0
    # a new TCP connection for every request: that is where a server full of slow connections hurts
    with httpx.Client(timeout=10, limits=httpx.Limits(max_keepalive_connections=0)) as client:
        for _ in range(n):
            started = time.perf_counter()
            with suppress(httpx.HTTPError):
                ok += client.get(url + "/api/hubs/stockholm/zones").status_code == 200
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return times[min(len(times) - 1, int(0.99 * len(times)))], ok


def _slow_load(port: int, n: int) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, "-c", SLOW, str(port), str(n)], stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    best = 0
    while time.monotonic() < deadline:  # until (nearly) all are open, or it stops growing
        line = proc.stdout.readline()
        if not line:
            break
        best = max(best, int(line))
        if best >= 0.98 * n:
            break
    return proc, best


def _big_header(port: int, size: int) -> tuple[int, str]:
    """Send one request with a ``size``-byte header; (bytes the server took, its status line)."""
    sent, status = 0, ""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        chunk = b"a" * (1 << 20)
        with suppress(OSError):
            while sent < size:
                sock.sendall(chunk)
                sent += len(chunk)
            sock.sendall(b"\r\n\r\n")
        with suppress(OSError):
            status = sock.recv(200).split(b"\r\n", 1)[0].decode("latin-1")
    return sent, status or "(closed)"


def _big_mqtt(port: int, size: int) -> str:
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        info = client.publish("hubsense/stockholm/sthlm-pi-entre/event", b"x" * size, qos=1)
        info.wait_for_publish(120)
        return "PUBACKed by the broker" if info.is_published() else "not acknowledged"
    finally:
        client.disconnect()
        client.loop_stop()


def run(slow: int = 5000, header_mb: int = 64, mqtt_mb: int = 100, requests: int = 300) -> dict:
    from hubsense.services import Mosquitto

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory(prefix="hubsense-abuse-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        broker = Mosquitto(work / "mosquitto").start()
        stack.callback(broker.stop)
        collector, url = _spawn_collector(broker.port, work)
        stack.callback(collector.kill)
        http_port = int(url.rsplit(":", 1)[1])
        _p99(url, 20)  # warm-up
        base_p99, base_ok = _p99(url, requests)

        load, opened = _slow_load(http_port, slow)
        stack.callback(load.kill)
        rss_loaded = _rss_mb(collector.pid)
        p99, ok = _p99(url, requests)
        load.kill()
        load.wait()

        before = _settled_rss(collector.pid, 2.0)
        sent, status = _big_header(http_port, header_mb << 20)
        header_growth = _settled_rss(collector.pid) - before

        before = _settled_rss(collector.pid)
        mqtt_result = _big_mqtt(broker.port, mqtt_mb << 20)
        mqtt_growth = _settled_rss(collector.pid, 2.0) - before
        received = __import__("httpx").get(url + "/healthz", timeout=5).json()["received"]

    rows = [
        ("GET zones p99, no load (baseline)", f"{base_p99:.1f} ms", f"{base_ok}/{requests} answered"),
        (f"GET zones p99, {slow:,} slow clients ({opened:,} connected at once)", f"{p99:.1f} ms",
         f"{ok}/{requests} answered; collector RSS {rss_loaded:.0f} MB"),
        (f"one {header_mb} MB request header", f"RSS {header_growth:+.1f} MB",
         f"server took {sent / 2**20:.1f} MB, answered {status!r}"),
        (f"one {mqtt_mb} MB MQTT message (QoS 1)", f"RSS {mqtt_growth:+.1f} MB",
         f"{mqtt_result}; messages the collector received: {received}"),
    ]
    return {"rows": rows, "api_p99_ms_under_slow_conns": round(p99, 1), "api_p99_ms_baseline": round(base_p99, 1),
            "answered_under_slow_conns": ok, "requests": requests, "slow_open": opened,
            "rss_growth_mb_big_header": round(header_growth, 1), "rss_growth_mb_big_mqtt": round(mqtt_growth, 1),
            "header_status": status}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--slow", type=int, default=5000, help="slow connections kept open")
    p.add_argument("--header-mb", type=int, default=64, help="size of the big request header")
    p.add_argument("--mqtt-mb", type=int, default=100, help="size of the big MQTT message")
    p.add_argument("--requests", type=int, default=300, help="timed requests per measurement")
    args = p.parse_args()
    r = run(args.slow, args.header_mb, args.mqtt_mb, args.requests)
    width = max(len(row[0]) for row in r["rows"])
    print(f"{'measurement':{width}}  {'result':>14}  notes")
    for name, result, note in r["rows"]:
        print(f"{name:{width}}  {result:>14}  {note}")
    print(json.dumps({k: r[k] for k in ("api_p99_ms_under_slow_conns", "rss_growth_mb_big_header",
                                        "rss_growth_mb_big_mqtt")}))


if __name__ == "__main__":
    main()
