"""MQTT over TLS: a real Mosquitto TLS listener (client certificates required, provisioned passwords
and ACL), the real collector and the real edge agent."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from edge.agent import Agent
from edge.settings import AgentSettings
from hubsense.config import Hub
from hubsense.provision import provision
from hubsense.services import Mosquitto
from tests.security.conftest import secured_broker
from tests.security.mqtt import connect
from tests.security.pki import Pki, make_test_pki
from tests.security.test_provision import collector_login
from tests.support import collector_settings, running_collector, wait_for

ROOM_AGENT = "sthlm-pi-rum"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_test_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls_creds(tmp_path_factory: pytest.TempPathFactory, stockholm: Hub, pki: Pki) -> Path:
    out = tmp_path_factory.mktemp("tls-creds")
    provision([stockholm], out, ca_file=str(pki.ca_cert))
    return out


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory, tls_creds: Path, pki: Pki) -> Iterator[Mosquitto]:
    listener = [f"cafile {pki.ca_cert}", f"certfile {pki.server_cert}", f"keyfile {pki.server_key}",
                "require_certificate true", "tls_version tlsv1.2"]
    m = secured_broker(tmp_path_factory.mktemp("tls-mosquitto"), tls_creds, listener).start()
    yield m
    m.stop()


def _client_tls(pki: Pki, ca: Path | None = None, cert: bool = True) -> dict:
    tls = {"ca_certs": str(ca or pki.ca_cert)}
    if cert:
        tls.update(certfile=str(pki.client_cert), keyfile=str(pki.client_key))
    return tls


def test_agent_events_reach_the_collector_over_tls(tls_broker: Mosquitto, tls_creds: Path, pki: Pki,
                                                   stockholm: Hub, tmp_path: Path) -> None:
    user, password = collector_login(tls_creds)
    settings = collector_settings(tls_broker, tmp_path, mqtt_username=user, mqtt_password=password,
                                  mqtt_tls_ca=pki.ca_cert, mqtt_tls_cert=pki.client_cert,
                                  mqtt_tls_key=pki.client_key, tokens_path=tmp_path / "tokens.json")
    provisioned = tomllib.loads((tls_creds / "agents" / "stockholm" / f"{ROOM_AGENT}.toml").read_text())
    agent_settings = AgentSettings(**{**provisioned, "broker_port": tls_broker.port},
                                   certfile=pki.client_cert, keyfile=pki.client_key,
                                   queue_path=tmp_path / "queue.sqlite3", reconnect_min_s=0.1)
    door = next(s for s in stockholm.agent(ROOM_AGENT).sensors if s.kind.value == "door")
    pins = MockFactory()
    with running_collector(settings) as running:
        store = running.collector.store
        with Agent(stockholm, ROOM_AGENT, agent_settings, pin_factory=pins) as agent:
            assert agent.wait_connected(10), agent.last_error
            pins.pin(door.pin).drive_low()
            pins.pin(door.pin).drive_high()
            wait_for(lambda: store.event_count("stockholm") >= 2, timeout=10)
        events = store.events("stockholm")
        assert [(e.sensor, e.state.value) for e in events] == [(door.id, "closed"), (door.id, "open")]
        assert not running.collector.ingest.counters.rejected


def test_client_trusting_another_ca_is_refused(tls_broker: Mosquitto, tls_creds: Path, pki: Pki) -> None:
    probe = connect(tls_broker.port, *collector_login(tls_creds), tls=_client_tls(pki, ca=pki.other_ca_cert))
    assert probe.connack is None  # the handshake failed: the server certificate is not trusted


def test_client_without_certificate_is_refused(tls_broker: Mosquitto, tls_creds: Path, pki: Pki) -> None:
    probe = connect(tls_broker.port, *collector_login(tls_creds), tls=_client_tls(pki, cert=False), timeout=2)
    assert probe.connack is None or probe.connack.is_failure


def test_plain_tcp_client_gets_no_connack(tls_broker: Mosquitto, tls_creds: Path) -> None:
    probe = connect(tls_broker.port, *collector_login(tls_creds), timeout=1)
    assert probe.connack is None


def test_tls_with_password_and_acl(tls_broker: Mosquitto, tls_creds: Path, pki: Pki) -> None:
    good = connect(tls_broker.port, *collector_login(tls_creds), tls=_client_tls(pki))
    assert good.connack is not None and not good.connack.is_failure
    assert good.publish("hubsense/stockholm/sthlm-pi-rum/event").value == 135
    good.close()
    anonymous = connect(tls_broker.port, tls=_client_tls(pki))
    assert anonymous.connack is not None and anonymous.connack.is_failure
