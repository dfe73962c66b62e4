"""bench/accuracy.py: the default open profile must beat the plain 5-minute timeout on real data."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "accuracy.py"


def _module():
    spec = importlib.util.spec_from_file_location("bench_accuracy", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_conversion_emits_edges_and_restarts_at_gaps() -> None:
    bench = _module()
    samples = bench.load(limit=200)
    msgs = bench.messages(samples)
    kinds = [type(m).__name__ for m, _ in msgs]
    assert kinds.count("Heartbeat") == len(samples)
    assert kinds.count("AgentStatus") >= 1
    assert all(r == m.ts for m, r in msgs if type(m).__name__ == "SensorEvent")


def test_engine_default_beats_the_plain_timeout_baseline() -> None:
    results = _module().run()
    default, baseline = results["engine default (open)"], results["baseline (plain 300 s timeout)"]
    assert default["unknown"] == 0 and default["scored"] == 10129
    assert default["accuracy"] >= baseline["accuracy"] >= 0.98
    assert default["balanced_accuracy"] >= baseline["balanced_accuracy"]
