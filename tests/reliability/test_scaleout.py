"""Scale-out: two ``hubsense collector`` processes in one MQTT v5 shared-subscription group.

Each stores only its share of the events (its own SQLite file here, to make the split visible),
yet each keeps the complete live state: both APIs show the same zones as a third collector that
is not in the group and sees everything.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import pytest

from hubsense.services import Mosquitto
from tests.reliability.support import (
    CollectorProcess,
    Driver,
    Fleet,
    InProcessCollector,
    assert_exactly_once,
    probe_subscribed,
    running,
    stored_events,
    timeline,
    write_hub,
)
from tests.support import wait_for

pytestmark = pytest.mark.slow


def _zones(get, hub: str) -> list[tuple]:
    return [(z["id"], z["state"], z["since"], z["reason"]) for z in get(f"/api/hubs/{hub}/zones").json()]


def test_two_collectors_split_storage_and_share_live_state(private_broker: Mosquitto, tmp_path: Path) -> None:
    hub_id = f"rel-{secrets.token_hex(3)}"
    config, hub = write_hub(tmp_path, hub_id)
    group = {"HUBSENSE_MQTT_SHARE_GROUP": "hubsense"}
    members = [
        CollectorProcess(config, private_broker.port, tmp_path / f"member{i}.sqlite3", f"member{i}-{hub_id}", group)
        for i in (1, 2)
    ]
    solo = InProcessCollector(private_broker.port, config, tmp_path / "solo.sqlite3", f"solo-{hub_id}")
    fleet = Fleet(hub, private_broker.port, tmp_path)
    with running(*members, solo, fleet):
        for c in (*members, solo):
            c.start()
            probe_subscribed(private_broker.port, hub, lambda c=c: c.health()["received"])
        fleet.start().wait_connected()
        Driver(fleet, 2000, 600.0).start().join()
        fleet.wait_drained()
        expected = fleet.produced()
        shares = [lambda m=m: stored_events(m.db, hub_id) for m in members]
        wait_for(lambda: sum(len(read()) for read in shares) >= len(expected), timeout=20, interval=0.25)
        stored = [read() for read in shares]

        # storage: split between the members, every event exactly once across both
        assert all(len(part) > 0.2 * len(expected) for part in stored)
        assert_exactly_once(stored[0] + stored[1], expected)
        assert timeline(hub, stored[0] + stored[1]) == timeline(hub, fleet.sent())

        # live state: complete in each member, equal to the collector that sees everything
        time.sleep(0.6)  # let the last vacancy timeouts (0.5 s in this hub) fall due everywhere
        reference = lambda: _zones(solo.running.get, hub_id)  # noqa: E731
        wait_for(lambda: all(_zones(m.get, hub_id) == reference() for m in members), timeout=5)
        zones = reference()
        assert not {z[3] for z in zones} & {"stale", "offline", "no_data"}, zones  # every agent alive
        counts = [m.health() for m in members]
        assert sum(c["stored"] for c in counts) == len(expected)
        assert all(c["rejected"] == {} for c in counts)
        print(f"\n[figures] scale-out: {len(expected)} events, stored {len(stored[0])} + {len(stored[1])}; "
              f"live zones equal in both members and the reference collector: {reference()}")
