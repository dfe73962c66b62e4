"""The outbox survives a SIGKILL: a real ``hubsense collector`` process is killed with deliveries
pending (the receiver is down); after a restart every one of them is delivered, in order."""

from __future__ import annotations

import json

import httpx

from hubsense.config import DEFAULT_CONFIG_DIR
from tests.collector.notify.agent import FakeAgent
from tests.collector.notify.receiver import Receiver
from tests.reliability.support import CollectorProcess
from tests.support import wait_for

ENV = {"HUBSENSE_WEBHOOK_PRIVATE_NETWORKS": json.dumps(["127.0.0.0/8"]), "HUBSENSE_WEBHOOK_BACKOFF_S": "0.1",
       "HUBSENSE_WEBHOOK_BACKOFF_MAX_S": "0.5", "HUBSENSE_ALERTS_CHECK_S": "0.5"}


def pending_ids(c: CollectorProcess, sub: str) -> list[str]:
    log = c.get(f"/api/webhooks/{sub}/deliveries?limit=500").json()["deliveries"]
    assert all(d["status"] == "pending" for d in log)
    return [d["id"] for d in reversed(log)]  # oldest first


def test_no_delivery_is_lost_when_the_collector_is_killed(private_broker, tmp_path) -> None:
    receiver = Receiver()  # down until after the kill
    collector = CollectorProcess(DEFAULT_CONFIG_DIR, private_broker.port, tmp_path / "hubsense.sqlite3",
                                 "kill-webhooks", ENV).start()
    agent = FakeAgent(private_broker.port, "stockholm", "sthlm-pi-entre")
    try:
        r = httpx.post(collector.url + "/api/webhooks", timeout=5, json={
            "url": receiver.url, "events": ["ping", "zone.state_changed", "agent.offline", "agent.online"]})
        sub = r.json()["id"]
        receiver.secret = r.json()["secret"]
        for _ in range(5):
            assert httpx.post(f"{collector.url}/api/webhooks/{sub}/test", timeout=5).status_code == 202
        agent.online(sensors={"lagerelden-pir": "no_motion", "utsiktsplatsen-pir": "no_motion"})
        agent.event("lagerelden-pir", "pir", "motion")
        agent.event("utsiktsplatsen-pir", "pir", "motion")
        for _ in range(5):
            httpx.post(f"{collector.url}/api/webhooks/{sub}/test", timeout=5)
        # 10 pings, the agent's three zones turning free and two of them occupied: queued, none delivered
        expected = wait_for(lambda: (ids := pending_ids(collector, sub)) and len(ids) >= 15 and ids, timeout=15)
        wait_for(lambda: collector.get(f"/api/webhooks/{sub}/deliveries").json()["deliveries"][-1]["attempts"] >= 2,
                 timeout=10)
        collector.kill()

        receiver.start()
        collector.start()
        wait_for(lambda: set(expected) <= set(receiver.accepted_ids()), timeout=30)
        firsts = list(dict.fromkeys(receiver.accepted_ids()))  # first arrival of each id
        assert firsts[:len(expected)] == expected  # in order, none lost
        assert all(r.signed for r in receiver.got)
        types = [r.type for r in receiver.accepted()]
        assert types.count("ping") == 10 and types.count("zone.state_changed") >= 4
    finally:
        agent.close()
        collector.stop()
        receiver.stop()
