"""API throughput: ``GET /api/hubs/{hub}/zones`` with every security layer on, against a bare FastAPI
endpoint returning a constant, both served by the same HTTP server and loaded the same way.

The baseline ("bare"): ``FastAPI()`` with one route, ``async def const() -> dict: return {"ok": True}``,
no middleware, no dependencies.  Both apps run under the collector's own server configuration
(:func:`collector.httpserver.server_config`: uvicorn with httptools and uvloop, one worker, and the
collector's HTTP limits: header size and deadline, connection cap, keep-alive), each in a subprocess
of its own, with the same settings.

The collector app is the real one (``Collector.build``) over a SQLite store and live state fed through
the real message handler (the Stockholm hub with its agents online and some zones occupied), with:
``public_live_view = false`` and a manager token present, so the live view needs a token; requests
carry a kiosk token limited to the Stockholm hub (hub scope checked on every request); trusted hosts,
security headers, body limits as configured by default.  The bench checks that the zones route
answers 401 without the token and that its answer carries the security headers.

``wrk`` (Debian's ``wrk`` package) loads each with 1 and 100 connections; both servers run during the
whole bench and the runs alternate (bare, zones, bare, zones, ...) for ``--rounds`` rounds, so a
neighbour's load hits both alike.  Reported: the median of each, ``ratio_vs_bare`` = zones / bare
requests per second at 100 connections (median of the rounds' ratios), and both p99 latencies.
A plain ``GET`` of the zones route is answered after the guard without FastAPI's parameter
resolution (``collector.api.security.plain_get``); ``ratio_vs_bare_with_query`` is the same route
with ``?format=json``, which takes FastAPI's full path like every other route.

Run: .venv/bin/python bench/api.py [--seconds S] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from collector.auth import Role, create_token
from hubsense.services import free_port

ROOT = Path(__file__).resolve().parent.parent
ZONES_PATH = "/api/hubs/stockholm/zones"

SERVER = r'''
import sys
from datetime import UTC, datetime
from pathlib import Path
sys.path.insert(0, {root!r})
import uvicorn
from fastapi import FastAPI

from collector.httpserver import server_config
from collector.settings import Settings
from hubsense.config import DEFAULT_CONFIG_DIR

kind, port, tmp = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
settings = Settings(sqlite_path=tmp / f"{{kind}}.sqlite3", config_paths=[DEFAULT_CONFIG_DIR], http_port=port,
                    tokens_path=tmp / "tokens.json", public_live_view=False)
if kind == "bare":
    app = FastAPI()

    @app.get("/const")
    async def const() -> dict:
        return {{"ok": True}}
else:
    from collector.handler import MessageHandler, Outcome
    from collector.live import LiveState
    from collector.service import Collector
    from collector.store.sqlite import SqliteStore
    from hubsense import protocol as p
    from hubsense.config import load_hub

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
    app = Collector.build(settings, SqliteStore(settings.sqlite_path), live=live, mqtt=False).app
uvicorn.Server(server_config(app, settings)).run()
'''


def serve(kind: str, tmp: Path, token: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER.format(root=str(ROOT)), kind, str(port), str(tmp)])
    url = f"http://127.0.0.1:{port}{'/const' if kind == 'bare' else ZONES_PATH}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, headers=_auth(token), timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{kind} server did not start")


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def check_secured(url: str, token: str) -> None:
    """The zones route needs the token and answers with the security headers (the layers are on)."""
    if (status := httpx.get(url, timeout=5).status_code) != 401:
        raise RuntimeError(f"{url} without a token answered {status}, not 401: the guard is not on")
    answer = httpx.get(url, headers=_auth(token), timeout=5)
    for header in ("content-security-policy", "x-content-type-options", "x-frame-options"):
        if header not in answer.headers:
            raise RuntimeError(f"{url}: no {header} header: the security middleware is not on")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(url: str, connections: int, seconds: int, token: str) -> tuple[float, float]:
    """(requests/s, p99 ms) from one wrk run."""
    threads = min(2, connections)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "-H", f"Authorization: Bearer {token}", url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{errors.group(1)} error responses from {url}")
    return rps, float(value) * _UNITS[unit]


def run(seconds: int, rounds: int) -> dict:
    if not shutil.which("wrk"):
        raise SystemExit("bench/api.py needs wrk: apt-get install -y wrk (or make bench-debs)")
    runs: dict[tuple[str, int], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tokens = Path(tmp) / "tokens.json"
        create_token(tokens, Role.MANAGER, "bench manager")
        token, _ = create_token(tokens, Role.KIOSK, "bench kiosk", ("stockholm",))
        servers = {kind: serve(kind, Path(tmp), token) for kind in ("bare", "zones")}
        # the zones route through FastAPI's parameter resolution (what any query string takes)
        targets = {"bare": servers["bare"][1], "zones": servers["zones"][1],
                   "zones_full": servers["zones"][1] + "?format=json"}
        try:
            check_secured(targets["zones"], token)
            for url in targets.values():
                wrk(url, 10, 1, token)  # warm-up
            for _ in range(rounds):
                for conns in (1, 100):
                    for kind, url in targets.items():
                        runs.setdefault((kind, conns), []).append(wrk(url, conns, seconds, token))
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(10)
    return report(runs)


def report(runs: dict[tuple[str, int], list[tuple[float, float]]]) -> dict:
    med = {key: (statistics.median(r for r, _ in rs), statistics.median(p for _, p in rs)) for key, rs in runs.items()}
    print(f"{'endpoint':44} {'clients':>7} {'req/s':>9} {'p99 ms':>8}   (median of {len(runs['bare', 1])} runs)")
    for (kind, conns), (rps, p99) in med.items():
        print(f"{NAMES[kind]:44} {conns:7} {rps:9,.0f} {p99:8.2f}")
    ratios = {c: _ratios(runs, "zones", c) for c in (1, 100)}
    for c, rs in ratios.items():
        print(f"ratio vs bare, {c:3} client(s): median {statistics.median(rs):.2f} "
              f"(rounds: {', '.join(f'{r:.2f}' for r in rs)})")
    full = _ratios(runs, "zones_full", 100)
    print(f"?format=json (FastAPI's parameter resolution) vs bare, 100 clients: median {statistics.median(full):.2f}")
    return {
        "rps": round(med["zones", 100][0]),
        "rps_1_client": round(med["zones", 1][0]),
        "bare_rps": round(med["bare", 100][0]),
        "ratio_vs_bare": round(statistics.median(ratios[100]), 3),
        "ratio_vs_bare_1_client": round(statistics.median(ratios[1]), 3),
        "p99_ms": round(med["zones", 100][1], 2),
        "bare_p99_ms": round(med["bare", 100][1], 2),
        "ratio_vs_bare_with_query": round(statistics.median(full), 3),
    }


NAMES = {"bare": "bare FastAPI constant (same server)", "zones": f"GET {ZONES_PATH} (secured)",
         "zones_full": f"GET {ZONES_PATH}?format=json"}


def _ratios(runs: dict, kind: str, conns: int) -> list[float]:
    """Per round: ``kind``'s requests/s over the bare endpoint's in the same round."""
    return [z[0] / b[0] for z, b in zip(runs[kind, conns], runs["bare", conns], strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (bare, zones) per client count")
    args = parser.parse_args()
    print(json.dumps(run(args.seconds, args.rounds)))


if __name__ == "__main__":
    main()
