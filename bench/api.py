"""API throughput: ``GET /api/hubs/{hub}/zones`` against a bare FastAPI endpoint returning a constant,
served the same way (uvicorn, one worker, in a subprocess) and loaded the same way (``wrk``, from
Debian's ``wrk`` package) with 1 and 100 concurrent connections.

The collector app is the real one (``Collector.build``) over a SQLite store and live state fed through
the real message handler: the Stockholm hub with its agents online and some zones occupied.

Run: .venv/bin/python bench/api.py [--seconds S]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from hubsense.services import free_port

ROOT = Path(__file__).resolve().parent.parent

SERVER = r'''
import sys
from datetime import UTC, datetime
from pathlib import Path
sys.path.insert(0, {root!r})
import uvicorn
from fastapi import FastAPI

kind, port, tmp = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
if kind == "bare":
    app = FastAPI()

    @app.get("/const")
    async def const() -> dict:
        return {{"ok": True}}
else:
    from collector.handler import MessageHandler, Outcome
    from collector.live import LiveState
    from collector.service import Collector
    from collector.settings import Settings
    from collector.store.sqlite import SqliteStore
    from hubsense import protocol as p
    from hubsense.config import DEFAULT_CONFIG_DIR, load_hub

    hub = load_hub(DEFAULT_CONFIG_DIR / "stockholm.toml")
    live = LiveState({{hub.id: hub}})
    handler, out, now = MessageHandler(live), Outcome(), datetime.now(UTC)
    for agent in hub.agents:
        status = p.AgentStatus(hub=hub.id, agent=agent.id, boot="b", state=p.AgentState.ONLINE, ts=now)
        handler.handle(p.topic(hub.id, agent.id, p.MessageKind.STATUS), p.encode(status), now, out)
        for seq, sensor in enumerate(agent.sensors[::2], 1):
            state = p.kind_spec(sensor.kind).active
            ev = p.SensorEvent(hub=hub.id, agent=agent.id, boot="b", sensor=sensor.id, kind=sensor.kind,
                               state=state, ts=now, seq=seq)
            handler.handle(p.topic(hub.id, agent.id, p.MessageKind.EVENT), p.encode(ev), now, out)
    settings = Settings(sqlite_path=tmp / "api.sqlite3", config_paths=[DEFAULT_CONFIG_DIR])
    app = Collector.build(settings, SqliteStore(settings.sqlite_path), live=live, mqtt=False).app
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
'''


def serve(kind: str, tmp: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER.format(root=str(ROOT)), kind, str(port), str(tmp)])
    path = "/const" if kind == "bare" else "/api/hubs/stockholm/zones"
    url = f"http://127.0.0.1:{port}{path}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{kind} server did not start")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(url: str, connections: int, seconds: int) -> tuple[float, float]:
    """(requests/s, p99 ms) from one wrk run."""
    threads = min(2, connections)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{errors.group(1)} error responses from {url}")
    return rps, float(value) * _UNITS[unit]


def run(seconds: int) -> dict:
    if not shutil.which("wrk"):
        raise SystemExit("bench/api.py needs wrk: apt-get install -y wrk")
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("bare", "zones"):
            proc, url = serve(kind, Path(tmp))
            try:
                wrk(url, 10, 1)  # warm-up
                for conns in (1, 100):
                    rows[(kind, conns)] = wrk(url, conns, seconds)
            finally:
                proc.terminate()
                proc.wait(10)
    print(f"{'endpoint':32} {'clients':>7} {'req/s':>9} {'p99 ms':>8}")
    for (kind, conns), (rps, p99) in rows.items():
        name = "bare FastAPI constant" if kind == "bare" else "GET /api/hubs/stockholm/zones"
        print(f"{name:32} {conns:7} {rps:9,.0f} {p99:8.2f}")
    ratios = {c: rows[("zones", c)][0] / rows[("bare", c)][0] for c in (1, 100)}
    print("ratio vs bare: " + ", ".join(f"{c} client(s) {r:.2f}" for c, r in ratios.items()))
    return {
        "rps": round(rows[("zones", 100)][0]),
        "rps_1_client": round(rows[("zones", 1)][0]),
        "ratio_vs_bare": round(min(ratios.values()), 3),
        "p99_ms": round(rows[("zones", 100)][1], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    print(json.dumps(run(parser.parse_args().seconds)))


if __name__ == "__main__":
    main()
