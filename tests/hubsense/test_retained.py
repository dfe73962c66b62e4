"""Retained junk: counted apart from live messages, and cleared with ``hubsense mqtt clear-retained``
(issue 19, defect 13), against a real Mosquitto with the provisioned ACL and the real collector."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hubsense.cli import main
from hubsense.config import DEFAULT_CONFIG_DIR, Hub
from hubsense.provision import ADMIN_USER, COLLECTOR_USER, provision
from hubsense.retained import find_retained
from tests.security.conftest import secured_broker
from tests.security.mqtt import connect
from tests.security.test_provision import agent_login, collector_login, passwords
from tests.support import collector_settings, running_collector, wait_for

pytestmark = pytest.mark.slow


def test_retained_junk_is_counted_apart_and_can_be_cleared(tmp_path: Path, stockholm: Hub,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    creds = tmp_path / "creds"
    provision([stockholm], creds)
    broker = secured_broker(tmp_path / "mosquitto", creds).start()
    user, password = collector_login(creds)
    settings = collector_settings(broker, tmp_path, mqtt_username=user, mqtt_password=password,
                                  mqtt_client_id=COLLECTOR_USER, config_paths=[DEFAULT_CONFIG_DIR / "stockholm.toml"])
    agent = connect(broker.port, *agent_login(creds, "stockholm", "sthlm-pi-entre"))
    try:
        heartbeat = {"v": 1, "hub": "stockholm", "agent": "sthlm-pi-entre", "boot": "b", "seq": 0, "uptime_s": 1.0,
                     "interval_s": 30.0, "ts": datetime.now(UTC).isoformat()}  # valid, but kept: old news
        for topic, payload in [("hubsense/stockholm/sthlm-pi-entre/event", b"junk left behind"),
                               ("hubsense/stockholm/sthlm-pi-entre/heartbeat", json.dumps(heartbeat).encode())]:
            assert not agent.client.publish(topic, payload, qos=1, retain=True).rc
        agent.close()
        for _ in range(2):  # every start gets the same retained junk: never counted as live messages
            with running_collector(settings) as running:
                counters = running.collector.ingest.counters
                wait_for(lambda c=counters: sum(c.snapshot()["retained"]["rejected"].values()) >= 2, timeout=10)
                snap = counters.snapshot()
                assert snap["received"] == 0 and snap["rejected"] == {}
                assert snap["retained"]["rejected"] == {"bad_json": 1, "retained": 1}

        broker_addr = f"127.0.0.1:{broker.port}"
        assert main(["mqtt", "retained", "hubsense/stockholm/#", "--secrets", str(creds), "--broker", broker_addr]) == 0
        listed = capsys.readouterr().out
        assert "hubsense/stockholm/sthlm-pi-entre/event" in listed and "heartbeat" in listed
        assert main(["mqtt", "clear-retained", "hubsense/stockholm/sthlm-pi-entre/#", "--secrets", str(creds),
                     "--broker", broker_addr]) == 0
        assert "cleared 2 retained message(s)" in capsys.readouterr().err

        admin = connect(broker.port, ADMIN_USER, passwords(creds)[ADMIN_USER])
        try:
            assert find_retained(admin.client, ["hubsense/stockholm/sthlm-pi-entre/#"]) == {}
        finally:
            admin.close()
        with running_collector(settings) as running:
            status = {"v": 1, "hub": "stockholm", "agent": "sthlm-pi-rum", "boot": "b", "state": "offline",
                      "ts": datetime.now(UTC).isoformat()}
            rum = connect(broker.port, *agent_login(creds, "stockholm", "sthlm-pi-rum"))
            assert not rum.publish("hubsense/stockholm/sthlm-pi-rum/status", json.dumps(status).encode()).is_failure
            rum.close()
            wait_for(lambda: running.collector.ingest.counters.snapshot()["accepted"] >= 1, timeout=10)
            assert running.collector.ingest.counters.snapshot()["retained"]["rejected"] == {}
    finally:
        broker.stop()


def test_only_the_admin_user_may_clear_an_agents_topics(tmp_path: Path, stockholm: Hub,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    creds = tmp_path / "creds"
    provision([stockholm], creds)
    broker = secured_broker(tmp_path / "mosquitto", creds).start()
    try:
        agent = connect(broker.port, *agent_login(creds, "stockholm", "sthlm-pi-entre"))
        assert not agent.client.publish("hubsense/stockholm/sthlm-pi-entre/event", b"junk", qos=1, retain=True).rc
        agent.close()
        monitor_pw = passwords(creds)["hubsense-monitor"]
        rc = main(["mqtt", "clear-retained", "hubsense/stockholm/#", "--broker", f"127.0.0.1:{broker.port}",
                   "--username", "hubsense-monitor", "--password", monitor_pw])
        assert rc == 0 and "no retained messages" in capsys.readouterr().err  # it may not even read them
    finally:
        broker.stop()
