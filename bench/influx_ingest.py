"""Events/s the collector's InfluxDB path sustains, next to the raw /write ceiling.

Both run in the same process against one private influxd (started here):

* ``store``: ``SpooledStore(InfluxStore)`` exactly as ``open_store`` builds it, fed
  ``ReceivedEvent`` batches of the collector's ``batch_max`` (the per-batch duplicate
  check query, line building and HTTP included);
* ``raw``: pre-built line protocol POSTed to ``/write`` in 5,000-point batches.

Usage: ``.venv/bin/python bench/influx_ingest.py [--events N] [--batch B]``.
The last line printed is a JSON object with ``events_per_s`` and ``raw_write_points_per_s``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collector.model import ReceivedEvent
from collector.settings import Settings
from collector.store.influx import InfluxStore, lines_for
from collector.store.spool import SpooledStore
from hubsense.protocol import SensorKind, SensorState
from hubsense.services import Influxd

RAW_BATCH = 5000


def make_events(n: int, boot: str, start: datetime) -> list[ReceivedEvent]:
    """``n`` PIR events from 12 agents x 4 sensors, 10 ms apart, alternating states."""
    states = (SensorState.MOTION, SensorState.NO_MOTION)
    out = []
    for i in range(n):
        ts = start + timedelta(milliseconds=10 * i)
        agent = f"pi-{i % 12}"
        out.append(ReceivedEvent("bench", agent, f"pir-{i % 4}", SensorKind.PIR, states[i % 2], ts, i, boot,
                                 ts + timedelta(milliseconds=40)))
    return out


def bench_store(server: Influxd, workdir: Path, n: int, batch: int) -> float:
    inner = InfluxStore(server.url, "bench_store", raw_rp="hubsense_raw")
    store = SpooledStore(inner, workdir / "spool.sqlite3", drain_interval_s=None)
    events = make_events(n, "store", datetime.now(UTC) - timedelta(hours=2))
    started = time.perf_counter()
    new = sum(store.add_events(events[i : i + batch]) for i in range(0, n, batch))
    elapsed = time.perf_counter() - started
    if new != n or store.depth or inner.event_count() != n:
        raise SystemExit(f"store lost events: new={new} depth={store.depth} stored={inner.event_count()}")
    store.close()
    return n / elapsed


def bench_raw(server: Influxd, n: int) -> float:
    store = InfluxStore(server.url, "bench_raw")
    store.ensure_database()
    lines = lines_for(make_events(n, "raw", datetime.now(UTC) - timedelta(hours=4)))
    started = time.perf_counter()
    for i in range(0, n, RAW_BATCH):
        store.http.write(lines[i : i + RAW_BATCH])
    elapsed = time.perf_counter() - started
    if store.event_count() != n:
        raise SystemExit("raw write lost points")
    store.close()
    return n / elapsed


def run(events: int = 100_000, batch: int | None = None, raw_points: int | None = None) -> dict[str, float]:
    batch = batch or Settings().batch_max
    with tempfile.TemporaryDirectory(prefix="bench-influx-") as tmp:
        server = Influxd(Path(tmp) / "influxd").start()
        try:
            raw = bench_raw(server, raw_points or events)
            store = bench_store(server, Path(tmp), events, batch)
        finally:
            server.stop()
    return {"events_per_s": round(store), "raw_write_points_per_s": round(raw)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=None, help="store batch size (default: batch_max)")
    args = parser.parse_args()
    result = run(args.events, args.batch)
    batch = args.batch or Settings().batch_max
    print(f"{'path':<44} {'points/s':>12}")
    print(f"{'raw /write, pre-built lines, 5000/batch':<44} {result['raw_write_points_per_s']:>12,}")
    print(f"{f'SpooledStore(InfluxStore), {batch}/batch':<44} {result['events_per_s']:>12,}")
    print(f"store / raw: {result['events_per_s'] / result['raw_write_points_per_s']:.2f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
