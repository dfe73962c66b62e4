"""The agent against a Mosquitto with a password file and an ACL."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from edge.agent import Agent
from edge.settings import AgentSettings
from hubsense.config import Hub
from hubsense.protocol import agent_prefix
from hubsense.services import Mosquitto
from tests.edge.conftest import wait_for


@pytest.fixture
def secure_broker(tmp_path: Path, hub: Hub) -> Iterator[Mosquitto]:
    """Users: 'entre' may write only under its own agent prefix; 'reader' may read all."""
    work = tmp_path / "secure"
    work.mkdir()
    passwd, acl = work / "passwd", work / "acl"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwd), "entre", "s3cret"], check=True)
    subprocess.run(["mosquitto_passwd", "-b", str(passwd), "reader", "r3ad"], check=True)
    acl.write_text(f"user entre\ntopic write {agent_prefix(hub.id, 'sthlm-pi-entre')}\n"
                   "user reader\ntopic read hubsense/#\n")
    m = Mosquitto(work, extra_config=["allow_anonymous false", f"password_file {passwd}",
                                      f"acl_file {acl}"]).start()
    yield m
    m.stop()


def _start(hub: Hub, agent_id: str, port: int, tmp_path: Path, password: str) -> tuple[Agent, MockFactory]:
    pins = MockFactory()
    settings = AgentSettings(broker_port=port, username="entre", password=password,
                             queue_path=tmp_path / f"{agent_id}.sqlite3", reconnect_min_s=0.2)
    return Agent(hub, agent_id, settings, pin_factory=pins).start(), pins


def test_agent_with_credentials_publishes(hub, secure_broker, recorder_factory, tmp_path) -> None:
    rec = recorder_factory(secure_broker.port, f"hubsense/{hub.id}/+/event", auth=("reader", "r3ad"))
    agent, pins = _start(hub, "sthlm-pi-entre", secure_broker.port, tmp_path, "s3cret")
    try:
        pins.pin(4).drive_high()
        assert [e.sensor for e in rec.wait_events(1)] == ["lagerelden-pir"]
    finally:
        agent.stop()


def test_wrong_password_is_reported_and_not_connected(hub, secure_broker, tmp_path) -> None:
    agent, _ = _start(hub, "sthlm-pi-entre", secure_broker.port, tmp_path, "wrong")
    try:
        assert wait_for(lambda: agent.last_error is not None and "refused" in agent.last_error)
        assert not agent.connected
    finally:
        agent.stop()


def test_event_denied_by_acl_stays_queued(hub, secure_broker, tmp_path) -> None:
    """A PUBACK with a failure reason (135 not authorized) does not remove the event from the queue."""
    agent, pins = _start(hub, "sthlm-pi-skog", secure_broker.port, tmp_path, "s3cret")  # not its prefix
    try:
        assert agent.wait_connected(5)
        pins.pin(22).drive_low()
        assert wait_for(lambda: agent.rejected == 1)
        assert agent.queue.depth == 1 and agent.delivered == 0
    finally:
        agent.stop()
