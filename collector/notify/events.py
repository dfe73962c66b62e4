"""The webhook events: their types and payloads (the outbound contract, like ``hubsense.protocol``
for MQTT).

Every delivery is one :class:`Envelope` as JSON: ``id`` (the delivery id, the same on every retry),
``type``, ``created`` and ``data``, whose shape the type fixes.  ``hubsense webhooks schema`` prints
the JSON Schemas, ``docs/schema/webhooks/`` holds them and a test keeps them equal.
"""

from __future__ import annotations

import datetime as dt
import secrets
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from collector.model import OccupancyState

SCHEMA_VERSION = 1


class EventType(StrEnum):
    ZONE_STATE_CHANGED = "zone.state_changed"
    ROOM_RELEASED = "room.released"
    ROOM_WALK_IN = "room.walk_in"
    ROOM_OVERRUN = "room.overrun"
    AGENT_OFFLINE = "agent.offline"
    AGENT_ONLINE = "agent.online"
    SENSOR_STUCK = "sensor.stuck"
    SENSOR_RECOVERED = "sensor.recovered"
    CLOCK_SKEW = "agent.clock_skew"
    CLOCK_OK = "agent.clock_ok"
    SPOOL_HIGH = "spool.high"
    SPOOL_OK = "spool.ok"
    DAILY_SUMMARY = "summary.daily"
    PING = "ping"


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ZoneStateChanged(_Data):
    hub: str = Field(description="Hub id.")
    zone: str = Field(description="Zone id.")
    zone_name: str = Field(description="Display name of the zone.")
    zone_kind: str = Field(description="open, room or desk_area.")
    state: OccupancyState = Field(description="The new state: free, occupied or unknown (agent offline or stale; "
                                  "never reported as free without evidence).")
    previous: OccupancyState | None = Field(description="The state before this change (null: none yet since the "
                                            "collector started).")
    last_known: OccupancyState | None = Field(description="The last free or occupied state before this change "
                                              "(unknown spells skipped); what 'free <-> occupied only' compares.")
    at: datetime = Field(description="When the zone entered the new state (UTC).")
    reason: str = Field(description="Why, e.g. 'motion', 'timeout', 'door_closed', 'offline', 'stale'.")
    free_desks: int | None = Field(description="Free desks now (desk areas only; null elsewhere).")


class _Booking(_Data):
    hub: str = Field(description="Hub id.")
    zone: str = Field(description="The room's zone id.")
    zone_name: str = Field(description="Display name of the room.")


class RoomReleased(_Booking):
    booking_start: datetime = Field(description="Start of the booking nobody came to (UTC).")
    booking_end: datetime = Field(description="End of that booking (UTC).")
    released_at: datetime = Field(description="When the room was released (UTC).")
    free_until: datetime | None = Field(description="When the room is needed next (UTC); null if not booked "
                                        "again today.")


class RoomWalkIn(_Booking):
    at: datetime = Field(description="When the room became occupied (UTC).")
    released_booking: bool = Field(description="True: people took a released (no-show) booking; false: the room "
                                   "is in use without any booking.")
    booking_start: datetime | None = Field(description="Start of the released booking (UTC), if any.")
    booking_end: datetime | None = Field(description="End of the released booking (UTC), if any.")


class RoomOverrun(_Booking):
    booking_start: datetime = Field(description="Start of the booking (UTC).")
    booking_end: datetime = Field(description="End of the booking that is running over (UTC).")
    overrun_min: float = Field(ge=0, description="Minutes the room has been in use past the booking's end.")
    next_booking_start: datetime | None = Field(description="Start of the next booking of the room (UTC), if any.")


class _Agent(_Data):
    hub: str = Field(description="Hub id.")
    agent: str = Field(description="Agent id.")
    agent_name: str = Field(description="Display name of the agent (its Raspberry Pi).")
    zones: list[str] = Field(description="Zones the agent's sensors watch (now unknown while it is away).")


class AgentOffline(_Agent):
    reason: Literal["offline", "stale"] = Field(description="'offline': its status (or Last Will) said so; "
                                                "'stale': heartbeats stopped.")
    since: datetime = Field(description="When the agent was noticed gone (UTC).")
    last_seen: datetime | None = Field(description="Its last message (UTC).")


class AgentOnline(_Agent):
    offline_since: datetime = Field(description="When it was noticed gone (UTC).")
    at: datetime = Field(description="When it was noticed back (UTC).")
    offline_s: float = Field(ge=0, description="Seconds it was away.")


class SensorStuck(_Data):
    hub: str = Field(description="Hub id.")
    agent: str = Field(description="Agent id of the sensor.")
    sensor: str = Field(description="Sensor id.")
    zone: str = Field(description="Zone the sensor watches.")
    since: datetime = Field(description="When the sensor was flagged (UTC): motion longer than the zone's "
                            "max_occupied_s, or no change for stuck_after_s of opening hours.")


class SensorRecovered(SensorStuck):
    at: datetime = Field(description="When the flag cleared (UTC).")


class ClockSkew(_Data):
    hub: str = Field(description="Hub id.")
    agent: str = Field(description="Agent id.")
    clock_offset_s: float | None = Field(description="Agent clock minus collector clock, seconds (null: unknown).")
    max_skew_s: float = Field(description="The bound: beyond it the agent's events are placed by receive time.")
    since: datetime = Field(description="When the skew was noticed (or, for agent.clock_ok, first noticed) (UTC).")


class SpoolHigh(_Data):
    depth: int = Field(ge=0, description="Records waiting in the on-disk spool for the store (InfluxDB).")
    max: int = Field(ge=1, description="Spool bound; when full the collector stops acknowledging MQTT messages.")
    fill: float = Field(ge=0, description="depth / max.")
    store_available: bool = Field(description="Whether the last write to the store succeeded.")
    since: datetime = Field(description="When the spool passed 80 % (UTC); for spool.ok, when it did so first.")


class ZoneDay(_Data):
    zone: str = Field(description="Zone id.")
    zone_name: str = Field(description="Display name.")
    open_s: float = Field(ge=0, description="Opening-hours seconds of the day.")
    occupied_s: float = Field(ge=0, description="Occupied seconds within opening hours.")
    known_s: float = Field(ge=0, description="Seconds within opening hours whose state was known.")
    utilisation: float | None = Field(description="occupied_s / known_s (null when nothing was known).")
    data_quality: float | None = Field(description="known_s / open_s (null on a closed day).")


class DailySummary(_Data):
    hub: str = Field(description="Hub id.")
    date: dt.date = Field(description="The local calendar day summarised.")
    timezone: str = Field(description="The hub's IANA time zone.")
    utilisation: float | None = Field(description="The hub's utilisation of the day (all zones pooled).")
    zones: list[ZoneDay] = Field(description="One entry per zone.")


class Ping(_Data):
    subscription: str = Field(description="Id of the subscription the test event was sent to.")
    message: str = Field(description="A human-readable note: a test sent from the manager view or the API.")


DATA_MODELS: dict[EventType, type[_Data]] = {
    EventType.ZONE_STATE_CHANGED: ZoneStateChanged,
    EventType.ROOM_RELEASED: RoomReleased,
    EventType.ROOM_WALK_IN: RoomWalkIn,
    EventType.ROOM_OVERRUN: RoomOverrun,
    EventType.AGENT_OFFLINE: AgentOffline,
    EventType.AGENT_ONLINE: AgentOnline,
    EventType.SENSOR_STUCK: SensorStuck,
    EventType.SENSOR_RECOVERED: SensorRecovered,
    EventType.CLOCK_SKEW: ClockSkew,
    EventType.CLOCK_OK: ClockSkew,
    EventType.SPOOL_HIGH: SpoolHigh,
    EventType.SPOOL_OK: SpoolHigh,
    EventType.DAILY_SUMMARY: DailySummary,
    EventType.PING: Ping,
}

DESCRIPTIONS: dict[EventType, str] = {
    EventType.ZONE_STATE_CHANGED: "A zone turned free, occupied or unknown.",
    EventType.ROOM_RELEASED: "A booked room stayed empty into its booking and was released for others.",
    EventType.ROOM_WALK_IN: "A room is in use without a booking, or a released booking was taken.",
    EventType.ROOM_OVERRUN: "A booking is running over its end.",
    EventType.AGENT_OFFLINE: "A sensor agent went offline or stopped sending heartbeats.",
    EventType.AGENT_ONLINE: "An agent that was offline is back.",
    EventType.SENSOR_STUCK: "A sensor was flagged as stuck.",
    EventType.SENSOR_RECOVERED: "A stuck sensor changed again.",
    EventType.CLOCK_SKEW: "An agent's clock is more than 5 minutes off.",
    EventType.CLOCK_OK: "An agent's clock is right again.",
    EventType.SPOOL_HIGH: "The on-disk spool for InfluxDB is more than 80 % full.",
    EventType.SPOOL_OK: "The spool drained below 80 % again.",
    EventType.DAILY_SUMMARY: "Yesterday's utilisation per zone, once a day after midnight (hub time).",
    EventType.PING: "A test event ('send test event').",
}


class Envelope(BaseModel):
    """The JSON body of every webhook delivery."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Delivery id: unique per event and subscription, the same on every retry "
                    "(also in the Hubsense-Delivery header). Receivers drop ids they have seen.")
    type: EventType = Field(description="Event type; fixes the shape of data.")
    v: Literal[1] = Field(description="Payload schema version.")
    created: datetime = Field(description="When the event happened (UTC).")
    hub: str | None = Field(description="Hub id, or null for events of the whole installation (spool, ping).")
    data: dict = Field(description="The event's payload (see the schema of its type).")


def new_delivery_id() -> str:
    return "dlv_" + secrets.token_hex(12)


def envelope_schema(kind: EventType) -> dict:
    """The JSON Schema of a whole delivery of this type: the envelope with ``data`` of its model."""
    schema = Envelope.model_json_schema()
    data = DATA_MODELS[kind].model_json_schema()
    defs = {**schema.pop("$defs", {}), **data.pop("$defs", {})}
    defs.pop("EventType", None)  # the type is a constant below
    schema["title"] = f"hubsense webhook: {kind.value}"
    schema["description"] = DESCRIPTIONS[kind]
    schema["properties"]["type"] = {"const": kind.value, "description": schema["properties"]["type"]["description"]}
    schema["properties"]["data"] = data | {"description": schema["properties"]["data"]["description"]}
    if defs:
        schema["$defs"] = defs
    return schema


def json_schemas() -> dict[str, dict]:
    """File stem -> JSON Schema, one per event type (``docs/schema/webhooks/{stem}.schema.json``)."""
    return {kind.value: envelope_schema(kind) for kind in EventType}
