"""Smoke test of bench/replay.py at a small size."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "replay.py"


def test_replay_bench_runs_and_reports_rates() -> None:
    spec = importlib.util.spec_from_file_location("bench_replay", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    result = module.run(events=2000)
    assert result["lines"] > 2000 and result["changes"] > 0
    assert result["events_per_s"] > 0 and result["engine_events_per_s"] > 0


def test_the_year_of_a_large_hub_streams_through_replay_in_a_child_process() -> None:
    spec = importlib.util.spec_from_file_location("bench_replay_year", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    result = module.year(days=2)
    assert result["sensors"] == 100 and result["events"] > 10_000 and result["lines"] > result["events"]
    assert result["events_per_s"] > 0 and 10 < result["peak_rss_mb"] < 300
