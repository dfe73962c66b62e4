"""Response models of the live API; every field is documented in the OpenAPI schema."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from collector.model import OccupancyState, ZoneView
from hubsense.config import Hub, Zone, ZoneKind


class DeskOut(BaseModel):
    id: str = Field(description="Desk id.")
    name: str = Field(description="Display name of the desk.")
    state: OccupancyState = Field(description="free, occupied or unknown.")
    since: datetime | None = Field(description="When the desk entered this state (UTC).")


class ZoneOut(BaseModel):
    hub: str = Field(description="Hub id.")
    id: str = Field(description="Zone id.")
    name: str = Field(description="Display name of the zone.")
    kind: ZoneKind = Field(description="open, room or desk_area.")
    capacity: int = Field(description="Number of people the zone is laid out for.")
    bookable: bool = Field(description="Whether the zone is booked and billed per hour.")
    state: OccupancyState = Field(
        description="free, occupied, or unknown when the zone's agent is offline or stale "
        "(never reported as free without evidence)."
    )
    since: datetime | None = Field(description="When the zone entered its current state (UTC).")
    last_confirmed: datetime | None = Field(
        description="Last time the zone's sensors were known to be alive and reporting (UTC)."
    )
    last_confirmed_age_s: float | None = Field(description="Seconds since last_confirmed, at response time.")
    reason: str = Field(description="Why the zone is in this state, e.g. 'motion', 'timeout', 'agent_offline'.")
    free_desks: int | None = Field(description="Free desks (desk areas only; null elsewhere).")
    desks: list[DeskOut] = Field(description="Desks of a desk area with their states (empty elsewhere).")
    stuck_sensors: list[str] = Field(description="Sensors flagged as stuck (no change for too long while open).")


def zone_payload(zone: Zone, view: ZoneView, now: datetime) -> dict:
    """A :class:`ZoneOut` as a plain dict, built without validation: the live endpoints are hot
    and serialise with orjson (tests check the payload validates against ZoneOut)."""
    age = (now - view.last_confirmed).total_seconds() if view.last_confirmed else None
    return {
        "hub": view.hub, "id": zone.id, "name": zone.name, "kind": zone.kind, "capacity": zone.capacity,
        "bookable": zone.bookable, "state": view.state, "since": view.since,
        "last_confirmed": view.last_confirmed, "last_confirmed_age_s": age, "reason": view.reason,
        "free_desks": view.free_desks,
        "desks": [{"id": d.id, "name": d.name, "state": d.state, "since": d.since} for d in view.desks],
        "stuck_sensors": view.stuck_sensors,
    }


class HubOut(BaseModel):
    id: str = Field(description="Hub id, used in URLs and MQTT topics.")
    name: str = Field(description="Display name of the hub.")
    address: str = Field(description="Street address.")
    timezone: str = Field(description="IANA time zone of the hub's opening hours.")
    zones: int = Field(description="Number of zones.")
    free: int = Field(description="Zones free right now.")
    occupied: int = Field(description="Zones occupied right now.")
    unknown: int = Field(description="Zones whose state is unknown right now.")

    @classmethod
    def build(cls, hub: Hub, views: list[ZoneView]) -> HubOut:
        counts = {s: sum(1 for v in views if v.state is s) for s in OccupancyState}
        return cls(
            id=hub.id, name=hub.name, address=hub.address, timezone=hub.timezone, zones=len(hub.zones),
            free=counts[OccupancyState.FREE], occupied=counts[OccupancyState.OCCUPIED],
            unknown=counts[OccupancyState.UNKNOWN],
        )


class SpoolStatus(BaseModel):
    depth: int = Field(description="Records waiting in the on-disk spool for the store to come back.")
    max: int = Field(description="Spool bound; past it the collector stops acknowledging messages.")
    high_water: bool = Field(description="True once the spool is 80 % full: the alarm.")
    store_available: bool = Field(description="Whether the last write to the store succeeded.")
    last_error: str | None = Field(description="The last store error, if the store is unavailable.")


class Health(BaseModel):
    status: str = Field(description="'ok' when connected to the broker, else 'degraded'.")
    mqtt_connected: bool = Field(description="Whether the collector is connected to the MQTT broker.")
    store: str = Field(description="Storage backend in use.")
    received: int = Field(description="MQTT messages received since start.")
    accepted: int = Field(description="Messages that passed validation.")
    stored: int = Field(description="Sensor events newly stored since start.")
    duplicates: int = Field(description="Sensor events that were already stored (redeliveries).")
    rejected: dict[str, int] = Field(description="Rejected messages by reason.")
    spool: SpoolStatus | None = Field(None, description="Spool in front of InfluxDB (null for SQLite).")
