"""Smoke test of bench/agent_footprint.py with short windows (it starts its own Mosquitto)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "agent_footprint.py"


def test_bench_measures_agent_and_baseline() -> None:
    spec = importlib.util.spec_from_file_location("agent_footprint", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.run(window_s=1.0, rate=10.0, settle_s=0.5)
    assert len(result["rows"]) == 2
    assert 10 < result["rss_mb"] < 200
    # the agent is lean enough that one second at 10 events/s can round to 0.0 % of a core
    assert result["idle_cpu_pct"] >= 0 and result["busy_cpu_pct"] >= 0
    assert result["events_per_s_arrived"] >= 5  # the agent really published at ~10 events/s
