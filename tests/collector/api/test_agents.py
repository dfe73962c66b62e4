"""The agent health route over a real engine (LiveState) and a real SqliteStore."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from collector.api.agents import router
from collector.api.models import AgentsReport
from collector.live import LiveState
from collector.model import AgentHealth
from collector.settings import Settings
from collector.store.sqlite import SqliteStore
from hubsense.protocol import SensorState


@pytest.fixture
def setup(tmp_path, hubs):
    store = SqliteStore(tmp_path / "agents.sqlite3")
    live = LiveState(hubs)
    app = FastAPI()
    app.state.settings = Settings(tokens_path=tmp_path / "tokens.json")  # the routes' access guard reads it
    app.state.hubs = hubs
    app.state.store = store
    app.state.live = live
    app.include_router(router)
    yield TestClient(app), live, store
    store.close()


def test_every_configured_agent_is_listed_even_before_it_is_heard(setup, stockholm):
    client, _, _ = setup
    response = client.get("/api/hubs/stockholm/agents")
    assert response.status_code == 200
    report = AgentsReport.model_validate(response.json())
    assert [a.agent for a in report.agents] == [a.id for a in stockholm.agents]
    assert all(not a.online and a.status != "online" and a.last_heartbeat is None for a in report.agents)
    assert all(a.name == stockholm.agent(a.agent).name for a in report.agents)


def test_heartbeat_online_and_offline(setup, stockholm):
    client, live, store = setup
    agent = stockholm.agents[0]
    now = datetime.now(UTC)
    sensors = {s.id: SensorState.NO_MOTION for s in agent.sensors if s.kind.value == "pir"}
    with live.lock:
        live.engines["stockholm"].status(agent.id, True, now - timedelta(seconds=5))
        live.engines["stockholm"].heartbeat(agent.id, now - timedelta(seconds=2), 30.0, sensors)
    store.add_health([AgentHealth("stockholm", agent.id, True, now - timedelta(seconds=2), "b1", 0.0, 7, 2, 30.0)])
    row = next(a for a in client.get("/api/hubs/stockholm/agents").json()["agents"] if a["agent"] == agent.id)
    assert row["status"] == "online" and row["online"] is True
    assert row["queue_depth"] == 7 and row["dropped"] == 2
    assert row["heartbeat_interval_s"] == 30.0
    assert 0 <= row["last_seen_age_s"] < 60
    assert sorted(row["zones"]) == sorted({s.zone for s in agent.sensors})

    with live.lock:
        live.engines["stockholm"].status(agent.id, False, datetime.now(UTC))
    row = next(a for a in client.get("/api/hubs/stockholm/agents").json()["agents"] if a["agent"] == agent.id)
    assert row["status"] == "offline" and row["online"] is False


def test_unknown_hub_is_404(setup):
    client, _, _ = setup
    assert client.get("/api/hubs/nowhere/agents").status_code == 404
