"""Benchmark: utilisation + heatmap for one hub of 20 zones over a year, read from SQLite.

Writes a year of synthetic state changes (>= 200,000) into a real SqliteStore,
then times the statistics API requests (``/utilisation?bucket=day`` and
``/heatmap`` through FastAPI's TestClient: SQLite read + numpy + JSON) against
the straightforward per-interval loop (``collector.stats.reference``, reading
through ``Store.changes``) computing the same numbers, and checks they agree.
``ms_per_request`` is the slower of the two requests (median of the repeats);
``speedup_vs_loop`` is loop time / (utilisation + heatmap request time).  The
table also shows the CPU time of each request, a steadier figure than wall time
on a machine shared with other work.

Run: ``.venv/bin/python bench/stats.py [--changes N]``.  The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collector.model import OccupancyState, StateChange
from collector.settings import Settings
from collector.stats import heatmap, reference, utilisation
from collector.stats.load import load_history
from collector.store.sqlite import SqliteStore
from hubsense.config import Hub, parse_hub

STATES = [OccupancyState.FREE, OccupancyState.OCCUPIED, OccupancyState.UNKNOWN]


def bench_hub(zones: int = 20, desk_areas: int = 3, desks: int = 4) -> Hub:
    spec = [{"id": f"z{i:02d}", "name": f"Zon {i}", "kind": "room" if i % 3 else "open", "capacity": 8}
            for i in range(zones - desk_areas)]
    spec += [{"id": f"d{i}", "name": f"Skrivbord {i}", "kind": "desk_area", "capacity": desks,
              "desks": [{"id": f"d{i}-{k}", "name": f"D{k}"} for k in range(desks)]} for i in range(desk_areas)]
    return parse_hub({"id": "bench", "name": "Bench", "timezone": "Europe/Stockholm", "zones": spec, "opening_hours": [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "open": "07:00", "close": "19:00"},
        {"days": ["sat"], "open": "10:00", "close": "15:00"}]})


def synthetic_changes(hub: Hub, start: datetime, days: int, total: int, seed: int = 1) -> list[StateChange]:
    """Alternating free / occupied periods with exponential lengths and a few unknown gaps."""
    rng = np.random.default_rng(seed)
    keys = [(z.id, d.id) for z in hub.zones for d in z.desks] + [(z.id, None) for z in hub.zones if not z.desks]
    span = days * 86400.0
    per_track = total // len(keys) + 1
    out: list[StateChange] = []
    for zone, desk in keys:
        gaps = rng.exponential(span / per_track, per_track)
        at = np.cumsum(gaps) * (span / gaps.sum()) - gaps[0] / 2
        state = np.arange(per_track) % 2
        state[rng.random(per_track) < 0.02] = 2
        out.extend(StateChange(hub.id, zone, desk, STATES[s], start + timedelta(seconds=float(t)))
                   for t, s in zip(at, state, strict=True))
    return out


def _steady_state(store: SqliteStore, copy: Path) -> SqliteStore:
    """Read from a copy made with the backup API: a database as a running collector keeps it (WAL
    checkpointed continuously), not one with the whole bulk load still sitting in the WAL."""
    store.close()
    return SqliteStore(copy)


def _timed(fn, repeats: int) -> tuple[float, object, float]:
    """Median wall ms, the last result, median CPU ms of this process (all threads)."""
    times, cpu, result = [], [], None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(times), result, statistics.median(cpu)


def run(n_changes: int = 210_000, days: int = 365, repeats: int = 7, workdir: Path | None = None) -> dict:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from collector.api.stats import router

    hub = bench_hub()
    tz = hub.tz
    start = datetime(2025, 11, 1, tzinfo=tz)
    end = start + timedelta(days=days)
    tmp = tempfile.TemporaryDirectory() if workdir is None else None
    store = SqliteStore(Path(workdir or tmp.name) / "bench.sqlite3")
    try:
        store.add_changes(synthetic_changes(hub, start, days, n_changes))
        store.backup(Path(workdir or tmp.name) / "checkpointed.sqlite3")  # see _steady_state
        store = _steady_state(store, Path(workdir or tmp.name) / "checkpointed.sqlite3")
        app = FastAPI()
        app.state.settings, app.state.store, app.state.hubs = Settings(), store, {hub.id: hub}
        app.include_router(router)
        client = TestClient(app)
        params = {"start": start.isoformat(), "end": end.isoformat()}

        def get(path: str, **extra) -> bytes:
            r = client.get(f"/api/hubs/{hub.id}/{path}", params={**params, **extra})
            r.raise_for_status()
            return r.content  # parsed after timing: client-side JSON decoding is not server latency

        get("utilisation", bucket="day")  # warm-up
        util_ms, util, util_cpu = _timed(lambda: get("utilisation", bucket="day"), repeats)
        heat_ms, heat, heat_cpu = _timed(lambda: get("heatmap"), repeats)
        util, heat = json.loads(util), json.loads(heat)
        compute_ms, _, _ = _timed(lambda: _compute(hub, store, start, end), repeats)
        loop_t0 = time.perf_counter()
        loop = _loop(hub, store, start, end)
        loop_ms = (time.perf_counter() - loop_t0) * 1000
        _check_agreement(hub, util, heat, loop)
        state_changes = store.changes(hub.id, start, end).__len__()
    finally:
        store.close()
        if tmp is not None:
            tmp.cleanup()
    ms = max(util_ms, heat_ms)
    return {"utilisation_ms": util_ms, "heatmap_ms": heat_ms, "utilisation_cpu_ms": util_cpu,
            "heatmap_cpu_ms": heat_cpu, "compute_ms": compute_ms, "loop_ms": loop_ms,
            "ms_per_request": ms, "speedup_vs_loop": loop_ms / (util_ms + heat_ms), "state_changes": state_changes}


def _compute(hub: Hub, store: SqliteStore, start: datetime, end: datetime):
    history = load_history(store, hub, start, end, end)
    return utilisation.utilisation(hub, history, "day"), heatmap.heatmap(hub, history)


def _loop(hub: Hub, store: SqliteStore, start: datetime, end: datetime) -> dict:
    """The baseline: Store.changes objects, then the per-interval loop for both reports."""
    segs = reference.segments(store.changes(hub.id, start, end), start, end)
    return {z.id: (reference.zone_bucket_sums(hub, segs, z, start, end, "day"),
                   reference.zone_heatmap(hub, segs, z, start, end)) for z in hub.zones}


def _check_agreement(hub: Hub, util: dict, heat: dict, loop: dict) -> None:
    for zone in hub.zones:
        rows = [r for r in util["rows"] if r["zone"] == zone.id]
        (open_s, known, occ), (_, hknown, hocc) = loop[zone.id]
        np.testing.assert_allclose([r["known_s"] for r in rows], known, atol=1e-3)
        np.testing.assert_allclose([r["occupied_s"] for r in rows], occ, atol=1e-3)
        np.testing.assert_allclose([r["open_s"] for r in rows], open_s, atol=1e-3)
        share = next(m for m in heat["zones"] if m["zone"] == zone.id)["share"]
        for (d, h), k in hknown.items():
            if k > 0:
                assert abs(share[d][h] - hocc.get((d, h), 0.0) / k) < 1e-9, (zone.id, d, h)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=210_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    r = run(args.changes, repeats=args.repeats)
    print(f"{'measure':<34}{'value':>12}")
    for label, key, unit in [
        ("state changes in the year", "state_changes", ""),
        ("GET /utilisation?bucket=day", "utilisation_ms", " ms"),
        ("GET /heatmap", "heatmap_ms", " ms"),
        ("  CPU time of /utilisation", "utilisation_cpu_ms", " ms"),
        ("  CPU time of /heatmap", "heatmap_cpu_ms", " ms"),
        ("load + numpy only (both reports)", "compute_ms", " ms"),
        ("per-interval loop (both reports)", "loop_ms", " ms"),
        ("speedup vs loop", "speedup_vs_loop", "x"),
    ]:
        value = r[key]
        print(f"{label:<34}{value:>12.1f}{unit}" if isinstance(value, float) else f"{label:<34}{value:>12}")
    print(json.dumps({k: round(r[k], 2) if isinstance(r[k], float) else r[k]
                      for k in ("ms_per_request", "speedup_vs_loop", "state_changes")}))


if __name__ == "__main__":
    main()
