"""Smoke test of bench/stats.py at a small size (it checks the loop baseline agrees)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "stats.py"


def test_stats_bench_runs_and_agrees_with_the_loop(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("stats_bench", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.run(n_changes=3000, days=21, repeats=1, workdir=tmp_path)
    assert result["state_changes"] >= 3000
    assert result["ms_per_request"] > 0 and result["speedup_vs_loop"] > 0
