"""Smoke test of bench/soak.py at a tiny size: real processes, everything produced is stored."""

from __future__ import annotations

import importlib.util
import math
import sys

import pytest

from tests.conftest import REPO


def _soak():
    spec = importlib.util.spec_from_file_location("soak", REPO / "bench" / "soak.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["soak"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_soak_runs_small_and_stores_everything() -> None:
    soak = _soak()
    assert soak.SENSORS == 200
    assert round(soak.HUB_RATE, 2) == 33.33
    r = soak.run(hub_minutes=0.5, compress=8.0)  # 3.75 s at ~270 events/s
    assert r["produced"] > 0.6 * r["target_rate"] * r["duration_s"]
    assert r["stored"] == r["produced"] and r["agent_queue_depth"] == 0
    assert r["samples"] >= 3 and len(r["rows"]) == 4
    assert all(math.isfinite(r[k]) for k in ("collector_rss_growth_mb", "agent_rss_growth_mb"))
