"""The black-box probe's reproductions (issue 19), each against a real Mosquitto and a real collector
(MQTT ingest + API under uvicorn): wire validation, bounded integers, store errors isolated, retained
and old statuses, events stamped in the future."""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from hubsense.services import Mosquitto
from tests.reliability.support import InProcessCollector, stored_events, write_hub
from tests.support import wait_for

pytestmark = pytest.mark.slow


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


class Hubside:
    """A private hub config, a collector in this process and a publisher with no identity of its own."""

    def __init__(self, broker: Mosquitto, tmp_path: Path) -> None:
        self.hub = f"probe-{secrets.token_hex(3)}"
        self.config, _ = write_hub(tmp_path, self.hub)
        self.db = tmp_path / "hubsense.sqlite3"
        self.broker = broker
        self.collector = InProcessCollector(broker.port, self.config, self.db, f"col-{self.hub}")
        self.pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.pub.connect("127.0.0.1", broker.port)
        self.pub.loop_start()

    def publish(self, agent: str, kind: str, payload: dict | bytes, retain: bool = False) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.pub.publish(f"hubsense/{self.hub}/{agent}/{kind}", body, qos=1, retain=retain).wait_for_publish(5)

    def event(self, agent: str, sensor: str, kind: str, state: str, seq: int, ts: datetime | None = None,
              boot: str = "probe1", **override: object) -> dict:
        return {"v": 1, "hub": self.hub, "agent": agent, "boot": boot, "sensor": sensor, "kind": kind,
                "state": state, "ts": _iso(ts or _now()), "seq": seq, **override}

    def heartbeat(self, agent: str, sensors: dict[str, str] | None = None, **override: object) -> dict:
        return {"v": 1, "hub": self.hub, "agent": agent, "boot": "probe1", "ts": _iso(_now()), "seq": 0,
                "uptime_s": 1.0, "interval_s": 30.0, "queue_depth": 0, "dropped": 0, "sensors": sensors or {},
                **override}

    def status(self, agent: str, state: str, ts: datetime) -> dict:
        return {"v": 1, "hub": self.hub, "agent": agent, "boot": "probe1", "state": state, "ts": _iso(ts)}

    def health(self) -> dict:
        return self.collector.health()

    def zones(self) -> dict[str, tuple[str, str]]:
        rows = self.collector.running.get(f"/api/hubs/{self.hub}/zones").json()
        return {z["id"]: (z["state"], z["reason"]) for z in rows}

    def handled(self) -> int:
        h = self.health()
        return h["received"] + h["retained"]["accepted"] + sum(h["retained"]["rejected"].values())

    def close(self) -> None:
        self.pub.disconnect()
        self.pub.loop_stop()
        self.collector.stop()


@pytest.fixture
def side(broker: Mosquitto, tmp_path: Path) -> Iterator[Hubside]:
    s = Hubside(broker, tmp_path)
    try:
        yield s
    finally:
        s.close()


def _balanced(h: dict) -> bool:
    return h["received"] == h["accepted"] + sum(h["rejected"].values())


def test_lax_payloads_are_rejected_as_schema(side: Hubside) -> None:
    """Defect 8: seq "1" / true / 1.0, ts 0, duplicate keys, heartbeat states of the wrong kind,
    offsets at the calendar edges: all 'schema', none an internal error, nothing stored."""
    side.collector.start()
    good = json.dumps(side.event("rel-a", "a-door", "door", "open", 1)).encode()
    bad_events = [
        side.event("rel-a", "a-door", "door", "open", "1"),
        side.event("rel-a", "a-door", "door", "open", True),
        side.event("rel-a", "a-door", "door", "open", 1.0),
        side.event("rel-a", "a-door", "door", "open", 1, ts=None) | {"ts": 0},
        side.event("rel-a", "a-door", "door", "open", 1) | {"ts": "0"},
        side.event("rel-a", "a-door", "door", "open", 1) | {"ts": "9999-12-31T23:59:59-01:00"},
        side.event("rel-a", "a-door", "door", "open", 1) | {"ts": "0001-01-01T00:00:00+01:00"},
        side.event("rel-a", "a-door", "door", "open", 1) | {"v": True},
        good.replace(b'"seq": 1', b'"seq": 1, "seq": 2'),
        good.replace(b'"state": "open"', b'"state": "open", "state": "closed"'),
    ]
    for payload in bad_events:
        side.publish("rel-a", "event", payload)
    side.publish("rel-a", "heartbeat", side.heartbeat("rel-a", {"a-door": "motion"}))  # a door has no motion
    side.publish("rel-a", "heartbeat", side.heartbeat("rel-a", {"a-pir": "open"}))
    n = len(bad_events) + 2
    wait_for(lambda: side.health()["received"] >= n, timeout=10)
    health = side.health()
    assert health["rejected"] == {"schema": n}, health["rejected"]
    assert _balanced(health)
    assert stored_events(side.db, side.hub) == []


def test_integers_beyond_64_bits_are_rejected_and_a_store_error_stays_alone(side: Hubside) -> None:
    """Defect 5: queue_depth / dropped >= 2^63 passed validation and then failed the SQLite write,
    taking the valid records of its batch with it.  Now the wire schema bounds every integer, and a
    record the store refuses (here a real SQLite trigger refuses one event) is counted alone."""
    side.collector.start()
    for field in ("queue_depth", "dropped", "seq"):
        side.publish("rel-a", "heartbeat", side.heartbeat("rel-a", **{field: 2**63}))
    side.publish("rel-a", "event", side.event("rel-a", "a-door", "door", "open", 2**63))
    wait_for(lambda: side.health()["received"] >= 4, timeout=10)
    assert side.health()["rejected"] == {"schema": 4}

    with closing(sqlite3.connect(side.db, timeout=30)) as db:  # the store refuses exactly seq 13
        db.execute("CREATE TRIGGER refuse_13 BEFORE INSERT ON events WHEN NEW.seq = 13 "
                   "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
        db.commit()
    payloads = [json.dumps(side.event("rel-a", "a-door", "door", "open" if s % 2 else "closed", s)).encode()
                for s in range(1, 41)]
    samples: list[dict] = []
    stop = threading.Event()

    def sample() -> None:  # the counters balance whenever they are read
        while not stop.is_set():
            samples.append(side.health())

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        for body in payloads:  # in one go: they share batches
            side.pub.publish(f"hubsense/{side.hub}/rel-a/event", body, qos=1)
        wait_for(lambda: len(stored_events(side.db, side.hub)) >= 39, timeout=10)
        wait_for(lambda: side.health()["received"] >= 44, timeout=10)
    finally:
        stop.set()
        sampler.join()
    health = side.health()
    assert sorted(e.seq for e in stored_events(side.db, side.hub)) == [s for s in range(1, 41) if s != 13]
    assert health["rejected"] == {"schema": 4, "store_error": 1}
    assert health["stored"] == 39
    assert samples and all(_balanced(h) for h in [*samples, health])


def test_a_retained_or_old_online_status_is_not_proof_of_life(side: Hubside) -> None:
    """Defect 6: a retained 'online' from 2020 made rooms 'free (no_motion)' with no sensor data."""
    old = datetime(2020, 3, 1, 8, 0, tzinfo=UTC)
    for agent in ("rel-a", "rel-b"):
        side.publish(agent, "status", side.status(agent, "online", old), retain=True)
    try:
        side.collector.start()
        wait_for(lambda: side.health()["retained"]["accepted"] >= 2, timeout=10)
        side.publish("rel-a", "status", side.status("rel-a", "online", _now() - timedelta(hours=2)))  # live, old
        wait_for(lambda: side.health()["received"] >= 1, timeout=10)
        zones = side.zones()
        assert all(state == "unknown" for state, _ in zones.values()), zones
        side.publish("rel-b", "heartbeat", side.heartbeat("rel-b", {"open-pir": "no_motion"}))
        wait_for(lambda: side.zones()["oppen"][0] == "free", timeout=10)  # a fresh heartbeat is
        assert side.zones()["rum-a"][0] == "unknown"  # rel-a has still sent nothing fresh
    finally:
        for agent in ("rel-a", "rel-b"):
            side.publish(agent, "status", b"", retain=True)  # clear the retained copies


def test_an_event_stamped_in_the_future_does_not_freeze_its_sensor(side: Hubside) -> None:
    """Defect 7: one 'no_motion' at now + 290 s made later real motion (and a heartbeat saying
    motion) be ignored as older, so the zone stayed free."""
    side.collector.start()
    side.publish("rel-b", "heartbeat", side.heartbeat("rel-b", {"open-pir": "no_motion"}))
    wait_for(lambda: side.zones()["oppen"][0] == "free", timeout=10)
    side.publish("rel-b", "event", side.event("rel-b", "open-pir", "pir", "no_motion", 1,
                                              ts=_now() + timedelta(seconds=290)))
    # real motion a moment later (1 s ahead of this clock: the collector may receive the first event
    # after the broker's PUBACK reached us, so "now" here could be earlier than its receive time)
    motion = side.event("rel-b", "open-pir", "pir", "motion", 2, ts=_now() + timedelta(seconds=1))
    side.publish("rel-b", "event", motion)
    wait_for(lambda: side.health()["accepted"] >= 3, timeout=10)
    # the test hub's vacancy timeout is 0.5 s, so read the stored changes rather than the live view
    occupied = wait_for(lambda: [c for c in _changes(side, "oppen") if c.state.value == "occupied"], timeout=10)
    assert occupied[0].reason == "motion"


def _changes(side: Hubside, zone: str) -> list:
    from collector.store.sqlite import SqliteStore

    store = SqliteStore(side.db)
    try:
        return store.changes(side.hub, _now() - timedelta(hours=1), _now() + timedelta(hours=1), zone)
    finally:
        store.close()
