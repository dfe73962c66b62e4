"""Webhook subscriptions through the API of a real collector (Mosquitto ingest, uvicorn), delivering
to a real receiver: create, test event, zone changes from MQTT, the delivery log, pause, delete."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from collector.notify.events import DATA_MODELS, Envelope, EventType
from collector.settings import Settings
from collector.store.sqlite import SqliteStore
from tests.collector.notify.agent import FakeAgent
from tests.collector.notify.receiver import Receiver
from tests.support import RunningCollector, api_app, collector_settings, running_collector, wait_for

FAST = dict(webhook_private_networks=["127.0.0.0/8"], webhook_backoff_s=0.05, webhook_backoff_max_s=0.2,
            webhook_timeout_s=2, alerts_check_s=0.2)


@pytest.fixture
def collector(private_broker, tmp_path) -> Iterator[RunningCollector]:
    with running_collector(collector_settings(private_broker, tmp_path, **FAST)) as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def create(c: RunningCollector, **body) -> httpx.Response:
    return httpx.post(c.url + "/api/webhooks", json=body, timeout=5)


def test_loopback_targets_are_refused_unless_allowed(tmp_path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3")
    try:
        client = TestClient(api_app(Settings(sqlite_path=tmp_path / "db.sqlite3", tokens_path=tmp_path / "t.json"),
                                    store))
        for url, reason in (("http://127.0.0.1:9/hook", "127.0.0.1 is a loopback address"),
                            ("http://192.168.0.10/hook", "192.168.0.10 is a private address"),
                            ("gopher://example.org/", "only http and https")):
            r = client.post("/api/webhooks", json={"url": url, "events": ["ping"]})
            assert r.status_code == 422 and reason in r.json()["detail"], r.text
        assert client.get("/api/webhooks").json() == []
        assert not (tmp_path / "notify.sqlite3").exists()  # nothing written for refused requests
    finally:
        store.close()


def test_create_test_event_and_delivery_log(collector: RunningCollector, receiver: Receiver) -> None:
    r = create(collector, url=receiver.url, events=["ping", "agent.offline"], description="Facility system")
    assert r.status_code == 201, r.text
    sub = r.json()
    receiver.secret = sub["secret"]
    assert sub["secret"].startswith("whsec_") and sub["rate_per_minute"] == 60
    listed = collector.get("/api/webhooks").json()
    assert [s["id"] for s in listed] == [sub["id"]] and listed[0]["secret"] is None

    queued = httpx.post(f"{collector.url}/api/webhooks/{sub['id']}/test", timeout=5)
    assert queued.status_code == 202
    wait_for(lambda: receiver.accepted(), timeout=10)
    got = receiver.accepted()[0]
    assert got.signed and got.id == queued.json()["delivery"] and got.type == "ping"
    Envelope.model_validate(got.body)
    log = wait_for(lambda: [d for d in collector.get(f"/api/webhooks/{sub['id']}/deliveries").json()["deliveries"]
                            if d["status"] == "delivered"], timeout=5)
    assert log[0]["attempts"] == 1 and log[0]["last_status"] == 200 and log[0]["last_error"] is None


def test_zone_changes_from_mqtt_are_delivered(collector: RunningCollector, receiver: Receiver,
                                              private_broker) -> None:
    sub = create(collector, url=receiver.url, events=["zone.state_changed"], hubs=["Stockholm"]).json()
    receiver.secret = sub["secret"]
    assert sub["hubs"] == ["stockholm"]
    agent = FakeAgent(private_broker.port, "stockholm", "sthlm-pi-entre")
    try:
        agent.online(sensors={"lagerelden-pir": "no_motion"})
        agent.event("lagerelden-pir", "pir", "motion")
        wait_for(lambda: any(r.body["data"]["zone"] == "lagerelden" and r.body["data"]["state"] == "occupied"
                             for r in receiver.accepted()), timeout=10)
    finally:
        agent.close()
    for got in receiver.accepted():
        assert got.signed and got.type == "zone.state_changed"
        DATA_MODELS[EventType.ZONE_STATE_CHANGED].model_validate(got.body["data"])
    occupied = next(r.body["data"] for r in receiver.accepted() if r.body["data"]["state"] == "occupied")
    assert occupied["zone_name"] == "Lägerelden" and occupied["reason"]


def test_change_pause_and_delete(collector: RunningCollector, receiver: Receiver) -> None:
    sub = create(collector, url=receiver.url, events=["ping"]).json()
    url = f"{collector.url}/api/webhooks/{sub['id']}"
    r = httpx.patch(url, json={"active": False, "events": ["summary.daily", "summary.daily"]}, timeout=5)
    assert r.status_code == 200 and r.json()["active"] is False and r.json()["events"] == ["summary.daily"]
    assert httpx.patch(url, json={"url": "http://169.254.169.254/"}, timeout=5).status_code == 422
    assert httpx.patch(url, json={"events": ["no.such"]}, timeout=5).status_code == 422
    assert httpx.patch(url, json={"hubs": ["atlantis"]}, timeout=5).status_code == 404
    rotated = httpx.post(url + "/secret", timeout=5).json()
    assert rotated["secret"] != sub["secret"]
    assert httpx.delete(url, timeout=5).status_code == 204
    assert httpx.delete(url, timeout=5).status_code == 404
    assert collector.get("/api/webhooks").json() == []


def test_event_types_are_listed(collector: RunningCollector) -> None:
    types = collector.get("/api/webhooks/events").json()
    assert {t["type"] for t in types} == {t.value for t in EventType}
