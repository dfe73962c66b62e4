"""deploy/prometheus/alerts.yml: valid for Prometheus (``promtool check rules``), behaving as its unit
tests say (``promtool test rules``), and naming only metrics a real collector exposes."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.collector.notify.agent import FakeAgent
from tests.conftest import REPO
from tests.support import collector_settings, running_collector, wait_for

RULES = REPO / "deploy" / "prometheus" / "alerts.yml"
PROMETHEUS_OWN = {"up"}  # made by Prometheus itself, not by the collector


def promtool() -> str:
    path = shutil.which("promtool")
    assert path, "promtool is missing: `make test-debs` installs Debian's prometheus package, which has it"
    return path


def test_promtool_checks_the_rules() -> None:
    out = subprocess.run([promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS: 8 rules found" in out.stdout


def test_the_rules_fire_as_their_unit_tests_expect() -> None:
    out = subprocess.run([promtool(), "test", "rules", "alerts.test.yml"], cwd=RULES.parent, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def exposed_names(text: str) -> set[str]:
    """Every series name the exposition can carry: counters with _total, histograms with their parts."""
    names = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M):
        names.add(name)
        if kind == "counter":
            names.add(name + "_total")
        if kind == "histogram":
            names.update(name + s for s in ("_bucket", "_sum", "_count"))
    return names


def test_every_metric_in_the_rules_is_exposed_by_the_collector(broker, influxd, tmp_path: Path) -> None:
    settings = collector_settings(broker, tmp_path, store="influxdb", influx_url=influxd.url,
                                  influx_database="rules_test")
    agent = FakeAgent(broker.port, "ostersund", "ost-pi-entre")
    try:
        with running_collector(settings) as running:
            agent.online()

            def scraped() -> str | None:
                text = running.get("/metrics").text
                return text if 'hubsense_agent_clock_offset_seconds{agent="ost-pi-entre"' in text else None

            text = wait_for(scraped, timeout=10)
    finally:
        agent.close()
    rules = yaml.safe_load(RULES.read_text())["groups"][0]["rules"]
    used = {name for rule in rules for name in re.findall(r"\bhubsense_[a-z0-9_]+|\bup(?=\{)", rule["expr"])}
    assert {"hubsense_agent_online", "hubsense_spool_capacity", "hubsense_mqtt_messages_rejected_total"} <= used
    assert used - PROMETHEUS_OWN <= exposed_names(text), "alerts.yml names metrics /metrics does not have"


@pytest.mark.parametrize("rule", yaml.safe_load(RULES.read_text())["groups"][0]["rules"], ids=lambda r: r["alert"])
def test_every_rule_says_what_to_do(rule: dict) -> None:
    assert rule["labels"]["severity"] in ("warning", "critical")
    assert rule["annotations"]["summary"] and rule["annotations"]["description"]
