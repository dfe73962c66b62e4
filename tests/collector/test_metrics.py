from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from collector.handler import MessageHandler, Outcome
from collector.settings import Settings
from collector.store.influx import InfluxStore
from collector.store.spool import SpooledStore
from collector.store.sqlite import SqliteStore
from hubsense.protocol import MessageKind, SensorState, topic
from hubsense.services import Mosquitto, free_port
from tests.collector.ecosystem_helpers import AGENT, HUB, ZONE, FakeAgent
from tests.collector.store.helpers import event
from tests.support import api_app, collector_settings, running_collector, wait_for


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} from the text exposition format."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.fixture
def app_client(tmp_path: Path) -> Iterator[TestClient]:
    store = SqliteStore(tmp_path / "db.sqlite3")
    app = api_app(Settings(sqlite_path=tmp_path / "db.sqlite3"), store)
    with TestClient(app) as client:
        yield client
    store.close()


def _feed(client: TestClient, messages: list[tuple[str, bytes]]) -> None:
    """Run messages through the real message handler with the app's own live state and counters."""
    state = client.app.state
    handler = MessageHandler(state.live, state.counters)
    out = Outcome()
    for name, payload in messages:
        handler.handle(name, payload, datetime.now(UTC), out)


def test_counters_zone_states_and_agents_are_exposed(app_client: TestClient) -> None:
    now = datetime.now(UTC).isoformat()
    status = f'{{"v":1,"hub":"{HUB}","agent":"{AGENT}","boot":"b","state":"online","ts":"{now}"}}'.encode()
    motion = (f'{{"v":1,"hub":"{HUB}","agent":"{AGENT}","boot":"b","sensor":"lagerelden-pir","kind":"pir",'
              f'"state":"motion","ts":"{now}","seq":1}}').encode()
    _feed(app_client, [
        (topic(HUB, AGENT, MessageKind.STATUS), status),
        (topic(HUB, AGENT, MessageKind.EVENT), motion),
        (topic(HUB, AGENT, MessageKind.EVENT), b"{not json"),
        (topic("nohub", AGENT, MessageKind.EVENT), motion.replace(HUB.encode(), b"nohub")),
    ])
    r = app_client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    m = samples(r.text)
    assert m[("hubsense_mqtt_messages_received_total", ())] == 4
    assert m[("hubsense_mqtt_messages_accepted_total", ())] == 2
    assert m[("hubsense_mqtt_messages_rejected_total", (("reason", "bad_json"),))] == 1
    assert m[("hubsense_mqtt_messages_rejected_total", (("reason", "unknown_hub"),))] == 1
    zone = (("hub", HUB), ("state", "occupied"), ("zone", ZONE))
    assert m[("hubsense_zone_state", zone)] == 1
    assert m[("hubsense_zone_state", (("hub", HUB), ("state", "unknown"), ("zone", ZONE)))] == 0
    # every zone of every hub has exactly one current state
    hubs = app_client.app.state.hubs
    per_zone: dict[tuple[str, str], float] = {}
    for (name, labels), value in m.items():
        if name == "hubsense_zone_state":
            d = dict(labels)
            per_zone[(d["hub"], d["zone"])] = per_zone.get((d["hub"], d["zone"]), 0) + value
    assert per_zone == {(h.id, z.id): 1 for h in hubs.values() for z in h.zones}
    assert m[("hubsense_agent_online", (("agent", AGENT), ("hub", HUB)))] == 1
    assert m[("hubsense_agents_online", (("hub", HUB),))] == 1
    assert m[("hubsense_agents_online", (("hub", "ostersund"),))] == 0
    assert ("hubsense_zone_free_desks", (("hub", HUB), ("zone", "skrivbordet"))) in m
    assert ("hubsense_spool_depth", ()) not in m  # SQLite has no spool
    assert ("hubsense_mqtt_connected", ()) not in m  # no ingest in this app


def test_two_apps_in_one_process_have_their_own_registries(tmp_path: Path, app_client: TestClient) -> None:
    _feed(app_client, [(topic(HUB, AGENT, MessageKind.EVENT), b"{")])
    other_store = SqliteStore(tmp_path / "other.sqlite3")
    other = TestClient(api_app(Settings(sqlite_path=tmp_path / "other.sqlite3"), other_store))
    first, second = samples(app_client.get("/metrics").text), samples(other.get("/metrics").text)
    assert first[("hubsense_mqtt_messages_received_total", ())] == 1
    assert second[("hubsense_mqtt_messages_received_total", ())] == 0
    other_store.close()


def test_spool_depth_of_a_spooled_store_with_its_server_down(tmp_path: Path) -> None:
    inner = InfluxStore(f"http://127.0.0.1:{free_port()}", "hubsense", create=False, timeout_s=1)
    store = SpooledStore(inner, tmp_path / "spool.sqlite3", 100, drain_interval_s=None)
    try:
        evs = [event(seq=i, state=SensorState.MOTION) for i in range(3)]
        store.add_events(evs)
        app = api_app(Settings(sqlite_path=tmp_path / "unused.sqlite3"), store)
        m = samples(TestClient(app).get("/metrics").text)
        assert m[("hubsense_spool_depth", ())] == store.depth == 3
    finally:
        store.close()


def test_store_write_latency_and_connection_over_a_real_broker(broker: Mosquitto, tmp_path: Path) -> None:
    settings = collector_settings(broker, tmp_path)
    agent = FakeAgent(broker)
    try:
        with running_collector(settings) as rc:
            agent.status(True)
            agent.motion()
            m = wait_for(lambda: (s := samples(rc.get("/metrics").text))
                         [("hubsense_events_stored_total", ())] >= 1 and s)
            assert m[("hubsense_mqtt_connected", ())] == 1
            assert m[("hubsense_store_write_seconds_count", ())] >= 1
            assert 0 < m[("hubsense_store_write_seconds_sum", ())] < 5
            assert m[("hubsense_zone_state", (("hub", HUB), ("state", "occupied"), ("zone", ZONE)))] == 1
    finally:
        agent.close()
