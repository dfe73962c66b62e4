"""No MQTT credential can take over another client's session (issue 19, defect 1).

Against a real Mosquitto with the provisioned password file, ACL and broker options (a client id is
its user name: ``use_username_as_clientid`` after every listener), with the real collector and the
real edge agent.  Before, any agent credential connecting with the client id ``hubsense-collector``
wiped the collector's persistent session (0 of 20 queued events stored), kicked the running
collector, and an agent's predictable client id fired that agent's Last Will.
"""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from collector.store.sqlite import SqliteStore
from edge.agent import Agent
from edge.settings import AgentSettings
from hubsense.config import DEFAULT_CONFIG_DIR, Hub
from hubsense.provision import COLLECTOR_USER, provision
from hubsense.services import Mosquitto
from tests.security.conftest import secured_broker
from tests.security.mqtt import connect
from tests.security.test_provision import agent_login, collector_login
from tests.support import collector_settings, running_collector, wait_for

pytestmark = pytest.mark.slow


def _event(seq: int) -> bytes:
    return json.dumps({"v": 1, "hub": "stockholm", "agent": "sthlm-pi-entre", "boot": "takeover", "seq": seq,
                       "sensor": "lagerelden-pir", "kind": "pir", "state": "motion" if seq % 2 else "no_motion",
                       "ts": datetime.now(UTC).isoformat()}).encode()


def _attack(port: int, login: tuple[str, str], client_id: str) -> None:
    """What the probe did: a clean-session subscribe with someone else's client id (mosquitto_sub,
    MQTT 3.1.1 and 5), then a v5 client that stays a moment."""
    user, password = login
    for version in ("mqttv311", "mqttv5"):
        subprocess.run(["mosquitto_sub", "-p", str(port), "-u", user, "-P", password, "-i", client_id,
                        "-V", version, "-t", "nothing", "-E"], capture_output=True, timeout=10)


def _stored(db: Path) -> int:
    store = SqliteStore(db)
    try:
        return store.event_count("stockholm")
    finally:
        store.close()


@pytest.fixture
def creds(tmp_path: Path, stockholm: Hub) -> Path:
    out = tmp_path / "creds"
    provision([stockholm], out)
    return out


def test_no_other_credential_takes_over_the_collectors_session(tmp_path: Path, creds: Path) -> None:
    broker = secured_broker(tmp_path / "mosquitto", creds).start()
    user, password = collector_login(creds)
    settings = collector_settings(broker, tmp_path, mqtt_username=user, mqtt_password=password,
                                  mqtt_client_id=COLLECTOR_USER, config_paths=[DEFAULT_CONFIG_DIR / "stockholm.toml"])
    intruder = agent_login(creds, "stockholm", "sthlm-pi-skog")
    agent = connect(broker.port, *agent_login(creds, "stockholm", "sthlm-pi-entre"))
    try:
        with running_collector(settings):
            pass  # the collector's persistent session now exists; the collector is away
        for seq in range(1, 21):
            assert not agent.publish("hubsense/stockholm/sthlm-pi-entre/event", _event(seq)).is_failure
        for client_id in (COLLECTOR_USER, settings.mqtt_client_id):
            _attack(broker.port, intruder, client_id)
        with running_collector(settings) as running:
            assert running.collector.ingest.session_present is True
            wait_for(lambda: _stored(settings.sqlite_path) >= 20, timeout=15)

            # while the collector runs: an intruder reconnecting with its id again and again
            for seq in range(21, 41):
                if seq % 4 == 0:
                    _attack(broker.port, intruder, COLLECTOR_USER)
                assert not agent.publish("hubsense/stockholm/sthlm-pi-entre/event", _event(seq)).is_failure
            wait_for(lambda: _stored(settings.sqlite_path) >= 40, timeout=15)
            assert running.collector.ingest.connects == 1  # never kicked
        assert _stored(settings.sqlite_path) == 40
    finally:
        agent.close()
        broker.stop()


def test_no_other_credential_takes_over_an_agents_session(tmp_path: Path, creds: Path, stockholm: Hub) -> None:
    """The agent's Last Will does not fire, so its zones do not go unknown."""
    broker: Mosquitto = secured_broker(tmp_path / "mosquitto", creds).start()
    user, password = collector_login(creds)
    settings = collector_settings(broker, tmp_path, mqtt_username=user, mqtt_password=password,
                                  mqtt_client_id=COLLECTOR_USER, config_paths=[DEFAULT_CONFIG_DIR / "stockholm.toml"])
    victim_user, victim_password = agent_login(creds, "stockholm", "sthlm-pi-entre")
    agent_settings = AgentSettings(broker_port=broker.port, username=victim_user, password=victim_password,
                                   queue_path=tmp_path / "queue.sqlite3", heartbeat_interval_s=1.0,
                                   reconnect_min_s=0.1, reconnect_max_s=0.5)
    victim = Agent(stockholm, "sthlm-pi-entre", agent_settings, pin_factory=MockFactory())
    try:
        with running_collector(settings) as running:
            victim.start()
            assert victim.wait_connected(10)
            started = datetime.now(UTC)
            wait_for(lambda: _online(running.collector.store, started), timeout=10)
            intruder = agent_login(creds, "stockholm", "sthlm-pi-skog")
            for client_id in (agent_settings.resolved_client_id("stockholm", "sthlm-pi-entre"), victim_user):
                _attack(broker.port, intruder, client_id)
            time.sleep(1.5)  # a Will would arrive within this; the agent reconnects in 0.1 s
            records = running.collector.store.health("stockholm", started - timedelta(seconds=1),
                                                     datetime.now(UTC) + timedelta(seconds=1))
            entre = [r for r in records if r.agent == "sthlm-pi-entre"]
            assert entre and all(r.online for r in entre), "the victim's Last Will fired"
            assert victim.connected
    finally:
        victim.stop()
        broker.stop()


def _online(store, since: datetime) -> bool:
    records = store.health("stockholm", since - timedelta(seconds=1), datetime.now(UTC) + timedelta(seconds=1))
    return any(r.agent == "sthlm-pi-entre" and r.online for r in records)
