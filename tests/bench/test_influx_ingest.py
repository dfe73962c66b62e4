"""Smoke test of bench/influx_ingest.py at a small size (it starts its own influxd)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "influx_ingest.py"


def test_bench_runs_and_reports_both_rates() -> None:
    spec = importlib.util.spec_from_file_location("influx_ingest", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.run(events=3000, batch=500, raw_points=6000)
    assert set(result) == {"events_per_s", "raw_write_points_per_s"}
    assert result["events_per_s"] > 0 and result["raw_write_points_per_s"] > 0
