"""Home Assistant MQTT discovery: one ``occupancy`` binary_sensor per zone (and a free-desks
``sensor`` per desk area).

Topics (all retained, QoS 1), published with the collector's own MQTT client and
inside what ``hubsense provision``'s ACL lets the collector write
(``hubsense/{hub}/_collector/#`` and ``homeassistant/#``):

* ``{prefix}/binary_sensor/hubsense_{hub}_{zone}/config``: the discovery config
  (``{prefix}/sensor/hubsense_{hub}_{zone}_free_desks/config`` for a desk area's desks);
* ``hubsense/{hub}/_collector/{zone}/state``: ``ON`` (occupied) / ``OFF`` (free);
* ``hubsense/{hub}/_collector/{zone}/attributes``: JSON (state, since, reason, free_desks, ...);
* ``hubsense/{hub}/_collector/{zone}/availability``: ``online`` while the zone's state is known;
* ``{prefix}/hubsense/status``: ``online`` while the collector runs, ``offline`` as its Last Will.

Five-level topics never match the collector's own ``hubsense/+/+/{kind}`` subscriptions.

Availability decision: each entity lists the collector's status topic and its
zone's availability topic with ``availability_mode: all``.  The zone topic
follows the engine's view of the zone, which turns ``unknown`` when any agent
watching it goes offline (retained status / Last Will) *or* goes stale (missed
heartbeats); the agents' raw status topics would miss the stale case, and a
zone watched by two agents would need both.  So an entity is unavailable when
the collector is down or the zone's state is unknown, and never shows a stale
``OFF`` as if the room were free.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt

from collector.ingest import Commit, Ingest
from collector.live import LiveState
from collector.model import OccupancyState, ZoneView
from hubsense.config import Hub, Zone
from hubsense.protocol import TOPIC_ROOT

log = logging.getLogger(__name__)

ONLINE, OFFLINE = "online", "offline"
PAYLOAD_ON, PAYLOAD_OFF = "ON", "OFF"
ORIGIN = {"name": "hubsense", "sw_version": "0.1.0"}


def object_id(hub: str, zone: str) -> str:
    return f"hubsense_{hub}_{zone}"


def state_topic(hub: str, zone: str) -> str:
    return f"{TOPIC_ROOT}/{hub}/_collector/{zone}/state"


def attributes_topic(hub: str, zone: str) -> str:
    return f"{TOPIC_ROOT}/{hub}/_collector/{zone}/attributes"


def availability_topic(hub: str, zone: str) -> str:
    return f"{TOPIC_ROOT}/{hub}/_collector/{zone}/availability"


def collector_status_topic(prefix: str) -> str:
    return f"{prefix}/hubsense/status"


def config_topic(prefix: str, hub: str, zone: str) -> str:
    return f"{prefix}/binary_sensor/{object_id(hub, zone)}/config"


def desks_config_topic(prefix: str, hub: str, zone: str) -> str:
    return f"{prefix}/sensor/{object_id(hub, zone)}_free_desks/config"


def discovery_config(hub: Hub, zone: Zone, prefix: str = "homeassistant") -> dict[str, Any]:
    """The discovery payload of one zone (Home Assistant's documented MQTT binary_sensor keys)."""
    oid = object_id(hub.id, zone.id)
    return {
        "name": "Occupancy",
        "unique_id": oid,
        # HA 2025.10 replaced 'object_id' with 'default_entity_id' ('object_id' stopped working in 2026.4)
        "default_entity_id": f"binary_sensor.{oid.replace('-', '_')}",
        "device_class": "occupancy",
        "state_topic": state_topic(hub.id, zone.id),
        "payload_on": PAYLOAD_ON,
        "payload_off": PAYLOAD_OFF,
        "json_attributes_topic": attributes_topic(hub.id, zone.id),
        "availability": [
            {"topic": collector_status_topic(prefix), "payload_available": ONLINE,
             "payload_not_available": OFFLINE},
            {"topic": availability_topic(hub.id, zone.id), "payload_available": ONLINE,
             "payload_not_available": OFFLINE},
        ],
        "availability_mode": "all",
        "qos": 1,
        "device": {
            "identifiers": [oid],
            "name": f"{zone.name} ({hub.name})",
            "manufacturer": "hubsense",
            "model": f"{zone.kind.value} zone",
            "suggested_area": zone.name,
        },
        "origin": ORIGIN,
    }


def free_desks_config(hub: Hub, zone: Zone, prefix: str = "homeassistant") -> dict[str, Any]:
    """A desk area's second entity: a ``sensor`` with its free desks, read from the attributes topic."""
    base = discovery_config(hub, zone, prefix)
    oid = f"{object_id(hub.id, zone.id)}_free_desks"
    return {
        "name": "Free desks",
        "unique_id": oid,
        "default_entity_id": f"sensor.{oid.replace('-', '_')}",
        "state_topic": attributes_topic(hub.id, zone.id),
        "value_template": "{{ value_json.free_desks }}",
        "unit_of_measurement": "desks",
        "state_class": "measurement",
        "icon": "mdi:desk",
        **{k: base[k] for k in ("availability", "availability_mode", "qos", "device", "origin")},
    }


def state_messages(view: ZoneView) -> list[tuple[str, str]]:
    """(topic, payload) of a zone's availability, attributes and, when known, its state."""
    known = view.state is not OccupancyState.UNKNOWN
    attrs = {
        "state": view.state.value,
        "since": _iso(view.since),
        "reason": view.reason,
        "last_confirmed": _iso(view.last_confirmed),
        "free_desks": view.free_desks,
        "stuck_sensors": view.stuck_sensors,
    }
    out = [(availability_topic(view.hub, view.zone), ONLINE if known else OFFLINE),
           (attributes_topic(view.hub, view.zone), json.dumps(attrs, ensure_ascii=False))]
    if known:
        payload = PAYLOAD_ON if view.state is OccupancyState.OCCUPIED else PAYLOAD_OFF
        out.insert(0, (state_topic(view.hub, view.zone), payload))
    return out


def _iso(t: datetime | None) -> str | None:
    return t.astimezone(UTC).isoformat() if t else None


class HomeAssistantPublisher:
    """Publishes discovery on every (re)connect and zone states whenever they change."""

    def __init__(self, hubs: dict[str, Hub], live: LiveState, prefix: str = "homeassistant") -> None:
        self.hubs = hubs
        self.live = live
        self.prefix = prefix
        self.status_topic = collector_status_topic(prefix)
        self.client: mqtt.Client | None = None
        self._last: dict[str, str] = {}  # topic -> payload last published (this connection)
        self._lock = threading.Lock()

    def attach(self, ingest: Ingest) -> HomeAssistantPublisher:
        """Hook into an :class:`collector.ingest.Ingest` before it starts (sets the Last Will)."""
        self.client = ingest.client
        self.client.will_set(self.status_topic, OFFLINE, qos=1, retain=True)
        ingest.connect_listeners.append(self.on_connect)
        ingest.after_commit.append(self.on_commit)
        return self

    def discovery(self) -> list[tuple[str, str]]:
        out = []
        for hub in self.hubs.values():
            for zone in hub.zones:
                out.append((config_topic(self.prefix, hub.id, zone.id), discovery_config(hub, zone, self.prefix)))
                if zone.desks:
                    out.append((desks_config_topic(self.prefix, hub.id, zone.id),
                                free_desks_config(hub, zone, self.prefix)))
        return [(topic, json.dumps(payload, ensure_ascii=False)) for topic, payload in out]

    def on_connect(self, client: mqtt.Client) -> None:
        """Called in paho's thread after each connect: everything is (re)published."""
        with self._lock:
            self._last.clear()
        for topic, payload in self.discovery():
            client.publish(topic, payload, qos=1, retain=True)
        client.publish(self.status_topic, ONLINE, qos=1, retain=True)
        self._publish_views(client, ((hub, None) for hub in self.hubs), datetime.now(UTC))

    def on_commit(self, commit: Commit) -> None:
        """Called in the ingest writer thread after a stored batch."""
        if commit.changes and self.client is not None and self.client.is_connected():
            self._publish_views(self.client, {(c.hub, c.zone) for c in commit.changes}, commit.now)

    def _publish_views(self, client: mqtt.Client, touched: Iterable[tuple[str, str | None]],
                       now: datetime) -> None:
        by_hub: dict[str, set[str] | None] = {}
        for hub, zone in touched:
            if zone is None:
                by_hub[hub] = None
            elif by_hub.get(hub, set()) is not None:
                by_hub.setdefault(hub, set()).add(zone)
        for hub, zones in by_hub.items():
            if hub not in self.hubs:
                continue
            for view in self.live.views(hub, now):
                if zones is None or view.zone in zones:
                    for topic, payload in state_messages(view):
                        self._publish_changed(client, topic, payload)

    def _publish_changed(self, client: mqtt.Client, topic: str, payload: str) -> None:
        with self._lock:
            if self._last.get(topic) == payload:
                return
            self._last[topic] = payload
        client.publish(topic, payload, qos=1, retain=True)

    def close(self, timeout: float = 2.0) -> None:
        """Mark the collector offline before a clean disconnect (a clean disconnect sends no Will)."""
        if self.client is None or not self.client.is_connected():
            return
        info = self.client.publish(self.status_topic, OFFLINE, qos=1, retain=True)
        try:
            info.wait_for_publish(timeout)
        except (RuntimeError, ValueError) as exc:
            log.warning("could not publish the collector's offline status: %s", exc)
