"""Smoke test of bench/abuse.py at small sizes (real Mosquitto, real ``hubsense collector``)."""

from __future__ import annotations

import importlib.util

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_abuse_bench_runs_small() -> None:
    spec = importlib.util.spec_from_file_location("abuse", REPO / "bench" / "abuse.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    r = module.run(slow=200, header_mb=4, mqtt_mb=2, requests=20)
    assert len(r["rows"]) == 4 and r["slow_open"] > 100
    assert r["answered_under_slow_conns"] == 20
    assert r["header_status"].startswith("HTTP/1.1 431")
    assert r["rss_growth_mb_big_header"] < 16 and r["rss_growth_mb_big_mqtt"] < 16
