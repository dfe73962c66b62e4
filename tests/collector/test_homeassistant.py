from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from collector.homeassistant import (
    HomeAssistantPublisher,
    attributes_topic,
    availability_topic,
    collector_status_topic,
    config_topic,
    desks_config_topic,
    discovery_config,
    free_desks_config,
    state_messages,
    state_topic,
)
from collector.model import DeskView, OccupancyState, ZoneView
from collector.service import Collector
from collector.store.sqlite import SqliteStore
from hubsense.config import DEFAULT_CONFIG_DIR, Hub
from hubsense.provision import MONITOR_USER, provision
from hubsense.services import Mosquitto, free_port
from tests.collector.ecosystem_helpers import HUB, ZONE, FakeAgent, Recorder
from tests.security.conftest import secured_broker
from tests.support import collector_settings, wait_for

# From Home Assistant's MQTT binary_sensor and discovery documentation.
BINARY_SENSOR_KEYS = {
    "availability", "availability_mode", "availability_template", "availability_topic", "default_entity_id",
    "device", "device_class", "enabled_by_default", "encoding", "entity_category", "entity_picture",
    "expire_after", "force_update", "group", "icon", "json_attributes_template", "json_attributes_topic", "name",
    "off_delay", "origin", "payload_available", "payload_not_available", "payload_off", "payload_on", "platform",
    "qos", "state_topic", "unique_id", "value_template",
}
SENSOR_KEYS = (BINARY_SENSOR_KEYS - {"off_delay", "payload_off", "payload_on"}) | {
    "last_reset_value_template", "options", "state_class", "suggested_display_precision", "unit_of_measurement"}
DEVICE_KEYS = {"configuration_url", "connections", "hw_version", "identifiers", "manufacturer", "model",
               "model_id", "name", "serial_number", "suggested_area", "sw_version", "via_device"}
AVAILABILITY_KEYS = {"payload_available", "payload_not_available", "topic", "value_template"}
ORIGIN_KEYS = {"name", "sw_version", "support_url"}
DISCOVERY_TOPIC = re.compile(r"^[^/#+]+/binary_sensor/(?:[a-zA-Z0-9_-]+/)?[a-zA-Z0-9_-]+/config$")


# -- payloads against the documented format -----------------------------------


def test_discovery_payloads_follow_the_documented_binary_sensor_format(hubs: dict[str, Hub]) -> None:
    unique_ids = set()
    for hub in hubs.values():
        for zone in hub.zones:
            cfg = json.loads(json.dumps(discovery_config(hub, zone)))  # JSON round trip: plain types only
            assert set(cfg) <= BINARY_SENSOR_KEYS, set(cfg) - BINARY_SENSOR_KEYS  # no abbreviations, no typos
            assert cfg["state_topic"] == state_topic(hub.id, zone.id)  # the one required key
            assert cfg["device_class"] == "occupancy"
            assert (cfg["payload_on"], cfg["payload_off"]) == ("ON", "OFF")
            assert cfg["availability_mode"] in {"all", "any", "latest"}
            assert [a["topic"] for a in cfg["availability"]] == [collector_status_topic("homeassistant"),
                                                                 availability_topic(hub.id, zone.id)]
            assert all(set(a) <= AVAILABILITY_KEYS for a in cfg["availability"])
            assert set(cfg["device"]) <= DEVICE_KEYS and cfg["device"]["identifiers"]
            assert cfg["device"]["manufacturer"] == "hubsense"
            assert cfg["device"]["suggested_area"] == zone.name  # å, ä, ö kept
            assert set(cfg["origin"]) <= ORIGIN_KEYS and cfg["origin"]["name"] == "hubsense"
            assert re.fullmatch(r"binary_sensor\.[a-z0-9_]+", cfg["default_entity_id"])
            assert DISCOVERY_TOPIC.match(config_topic("homeassistant", hub.id, zone.id))
            unique_ids.add(cfg["unique_id"])
    assert len(unique_ids) == sum(len(h.zones) for h in hubs.values())  # unique across hubs


def test_desk_areas_get_a_free_desks_sensor(hubs: dict[str, Hub]) -> None:
    hub = hubs[HUB]
    desk_area = next(z for z in hub.zones if z.desks)
    cfg = free_desks_config(hub, desk_area)
    assert set(cfg) <= SENSOR_KEYS, set(cfg) - SENSOR_KEYS
    assert cfg["state_topic"] == attributes_topic(HUB, desk_area.id) and "free_desks" in cfg["value_template"]
    assert cfg["state_class"] == "measurement" and cfg["device"] == discovery_config(hub, desk_area)["device"]
    assert re.match(r"^[^/#+]+/sensor/[a-zA-Z0-9_-]+/config$", desks_config_topic("homeassistant", HUB, "x"))
    assert cfg["unique_id"] != discovery_config(hub, desk_area)["unique_id"]


def _view(state: OccupancyState, free_desks: bool = False) -> ZoneView:
    since = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    desks = [DeskView("desk-01", "Skrivbord 1", OccupancyState.FREE, since)] if free_desks else []
    return ZoneView(HUB, ZONE, state, since, since, "motion", desks)


def test_state_messages_hide_an_unknown_state_behind_availability() -> None:
    on = dict(state_messages(_view(OccupancyState.OCCUPIED, free_desks=True)))
    assert on[state_topic(HUB, ZONE)] == "ON" and on[availability_topic(HUB, ZONE)] == "online"
    attrs = json.loads(on[attributes_topic(HUB, ZONE)])
    assert attrs["state"] == "occupied" and attrs["free_desks"] == 1
    assert datetime.fromisoformat(attrs["since"]) == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert dict(state_messages(_view(OccupancyState.FREE)))[state_topic(HUB, ZONE)] == "OFF"
    unknown = dict(state_messages(_view(OccupancyState.UNKNOWN)))
    assert state_topic(HUB, ZONE) not in unknown  # the last known state stays, marked unavailable
    assert unknown[availability_topic(HUB, ZONE)] == "offline"


# -- over a real Mosquitto --------------------------------------------------------


@pytest.fixture
def ha_collector(broker: Mosquitto, tmp_path: Path) -> Iterator[tuple[Collector, str]]:
    prefix = f"ha-test-{free_port()}"
    settings = collector_settings(broker, tmp_path, homeassistant_discovery=True, homeassistant_prefix=prefix)
    collector = Collector.build(settings, store=SqliteStore(tmp_path / "ha.sqlite3"))
    publisher = next(cb.__self__ for cb in collector.ingest.connect_listeners
                     if isinstance(getattr(cb, "__self__", None), HomeAssistantPublisher))
    collector.ingest.start()
    assert collector.ingest.wait_ready(10)
    yield collector, prefix
    publisher.close()
    collector.ingest.stop()
    collector.store.close()


def test_collector_publishes_discovery_states_and_availability(
        broker: Mosquitto, ha_collector: tuple[Collector, str]) -> None:
    collector, prefix = ha_collector
    agent = FakeAgent(broker)
    early = Recorder(broker, state_topic(HUB, ZONE))
    try:
        agent.status(True)
        agent.motion()
        wait_for(lambda: collector.live.views(HUB, datetime.now(UTC))[0].state is OccupancyState.OCCUPIED)
        # the live state changes before the batch is stored; Home Assistant is told after the commit
        wait_for(lambda: early.get(state_topic(HUB, ZONE)) == "ON")
        # a subscriber arriving late gets everything from the retained messages
        late = Recorder(broker, f"{prefix}/#", f"hubsense/{HUB}/_collector/#")
        try:
            hub = collector.hubs[HUB]
            for zone in hub.zones:
                name = config_topic(prefix, HUB, zone.id)
                cfg = json.loads(wait_for(lambda n=name: late.get(n)))
                assert late.retained(name) and cfg == discovery_config(hub, zone, prefix)
            desk_cfg = json.loads(wait_for(lambda: late.get(desks_config_topic(prefix, HUB, "skrivbordet"))))
            assert desk_cfg == free_desks_config(hub, hub.zone("skrivbordet"), prefix)
            assert wait_for(lambda: late.get(state_topic(HUB, ZONE))) == "ON"
            assert late.retained(state_topic(HUB, ZONE))
            assert wait_for(lambda: late.get(availability_topic(HUB, ZONE))) == "online"
            assert wait_for(lambda: late.get(collector_status_topic(prefix))) == "online"
            assert json.loads(wait_for(lambda: late.get(attributes_topic(HUB, ZONE))))["reason"] == "motion"
            # its agent never reported
            assert wait_for(lambda: late.get(availability_topic(HUB, "oasen"))) == "offline"

            agent.status(False)  # the agent goes offline: its zones' entities become unavailable
            wait_for(lambda: late.get(availability_topic(HUB, ZONE)) == "offline")
            assert late.get(state_topic(HUB, ZONE)) == "ON"  # unchanged, but hidden by availability
            agent.status(True)
            agent.motion()
            wait_for(lambda: late.get(availability_topic(HUB, ZONE)) == "online")
        finally:
            late.close()
    finally:
        early.close()
        agent.close()


def test_clean_shutdown_marks_the_collector_offline(broker: Mosquitto, tmp_path: Path) -> None:
    prefix = f"ha-test-{free_port()}"
    settings = collector_settings(broker, tmp_path, homeassistant_discovery=True, homeassistant_prefix=prefix)
    collector = Collector.build(settings, store=SqliteStore(tmp_path / "ha.sqlite3"))
    [publisher] = [cb.__self__ for cb in collector.ingest.connect_listeners
                   if isinstance(getattr(cb, "__self__", None), HomeAssistantPublisher)]
    status = collector_status_topic(prefix)
    watcher = Recorder(broker, status)
    try:
        collector.ingest.start()
        wait_for(lambda: watcher.get(status) == "online", timeout=10)
        publisher.close()
        collector.ingest.stop()
        wait_for(lambda: watcher.get(status) == "offline")
    finally:
        watcher.close()
        collector.store.close()


def test_disabled_by_default(broker: Mosquitto, tmp_path: Path) -> None:
    collector = Collector.build(collector_settings(broker, tmp_path), store=SqliteStore(tmp_path / "x.sqlite3"))
    try:
        assert not any(isinstance(getattr(cb, "__self__", None), HomeAssistantPublisher)
                       for cb in collector.ingest.connect_listeners + collector.ingest.after_commit)
    finally:
        collector.store.close()


def test_topics_are_allowed_by_the_provisioned_acl(tmp_path: Path, stockholm: Hub) -> None:
    """With the password file and ACL from ``hubsense provision``, Mosquitto silently drops what a
    user may not publish: everything Home Assistant needs must still arrive."""
    creds = tmp_path / "creds"
    provision([stockholm], creds)
    secured = secured_broker(tmp_path / "mosquitto", creds).start()  # with the provisioned broker options
    env = dict(line.split("=", 1) for line in (creds / "collector.env").read_text().splitlines()
               if line and not line.startswith("#"))
    login = (env["HUBSENSE_MQTT_USERNAME"], env["HUBSENSE_MQTT_PASSWORD"])
    agent_creds = tomllib.loads((creds / "agents" / HUB / "sthlm-pi-entre.toml").read_text())
    settings = collector_settings(secured, tmp_path, homeassistant_discovery=True, mqtt_username=login[0],
                                  mqtt_password=login[1], config_paths=[DEFAULT_CONFIG_DIR / "stockholm.toml"])
    collector = Collector.build(settings, store=SqliteStore(tmp_path / "acl.sqlite3"))
    # Home Assistant's view: the read-only monitor user (the collector's user would take its connection over)
    monitor = json.loads((creds / "credentials.json").read_text())["users"][MONITOR_USER]["password"]
    reader = Recorder(secured, "homeassistant/#", f"hubsense/{HUB}/_collector/#", login=(MONITOR_USER, monitor))
    agent = FakeAgent(secured, login=(agent_creds["username"], agent_creds["password"]))
    try:
        collector.ingest.start()
        assert collector.ingest.wait_ready(10)
        agent.status(True)
        agent.motion()
        assert wait_for(lambda: reader.get(state_topic(HUB, ZONE))) == "ON"
        assert wait_for(lambda: reader.get(collector_status_topic("homeassistant"))) == "online"
        assert wait_for(lambda: reader.get(config_topic("homeassistant", HUB, ZONE)))
        assert wait_for(lambda: reader.get(availability_topic(HUB, ZONE))) == "online"
        assert wait_for(lambda: reader.get(attributes_topic(HUB, ZONE)))
    finally:
        agent.close()
        reader.close()
        collector.ingest.stop()
        collector.store.close()
        secured.stop()
