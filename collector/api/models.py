"""Response models of the API, in one place; every field is documented in the OpenAPI schema.

The hot live routes and the statistics routes build plain rows (dicts) and serialise them with
orjson (:mod:`collector.api.formats`); the models here document their shape and tests validate
responses against them.  The health and booking routes return the models themselves.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from collector.billing.policy import Basis, from_ore
from collector.billing.statement import Line, MonthStatement, OrganisationStatement
from collector.bookings.calendar import Booking
from collector.bookings.rooms import RoomEventType, RoomNow, RoomStatus
from collector.bookings.usage import BookingOutcome, BookingStatus
from collector.model import OccupancyState, ZoneView
from collector.network import hub_row, view_counts
from collector.notify.events import EventType
from hubsense.config import BillingPolicy, BookingUnit, Hub, Zone, ZoneKind

# --- live: hubs, zones, health ------------------------------------------------------------

_P_OCCUPIED = ("Probability (0..1) that someone is there now, calibrated on the benchmark data sets "
               "(of the moments shown as 0.8, about 80 % were occupied; docs/engine.md); null while the "
               "state is unknown, never a guess.")


class DeskOut(BaseModel):
    id: str = Field(description="Desk id.")
    name: str = Field(description="Display name of the desk.")
    state: OccupancyState = Field(description="free, occupied or unknown.")
    since: datetime | None = Field(description="When the desk entered this state (UTC).")
    p_occupied: float | None = Field(None, description=_P_OCCUPIED)


class ZoneOut(BaseModel):
    hub: str = Field(description="Hub id.")
    id: str = Field(description="Zone id.")
    name: str = Field(description="Display name of the zone.")
    kind: ZoneKind = Field(description="open, room or desk_area.")
    capacity: int = Field(description="Number of people the zone is laid out for.")
    bookable: bool = Field(description="Whether the zone is booked and billed.")
    booked_per: list[BookingUnit] = Field(description="How a bookable zone is booked and billed: 'hour', "
                                          "'half_day', 'day' (from the hub config; empty elsewhere).")
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
    p_occupied: float | None = Field(None, description=_P_OCCUPIED + " The dashboard says 'probably free' / "
                                     "'probably occupied' when it is far from 0 / 1.")
    free_desks: int | None = Field(description="Free desks (desk areas only; null elsewhere).")
    desks: list[DeskOut] = Field(description="Desks of a desk area with their states (empty elsewhere).")
    stuck_sensors: list[str] = Field(description="Sensors flagged as stuck (no change for too long while open).")


def zone_payload(zone: Zone, view: ZoneView, now: datetime) -> dict:
    """A :class:`ZoneOut` as a plain dict, built without validation: the live endpoints are hot
    and serialise with orjson (tests check the payload validates against ZoneOut)."""
    age = (now - view.last_confirmed).total_seconds() if view.last_confirmed else None
    return {
        "hub": view.hub, "id": zone.id, "name": zone.name, "kind": zone.kind, "capacity": zone.capacity,
        "bookable": zone.bookable, "booked_per": zone.booked_per, "state": view.state, "since": view.since,
        "last_confirmed": view.last_confirmed, "last_confirmed_age_s": age, "reason": view.reason,
        "p_occupied": view.p_occupied, "free_desks": view.free_desks,
        "desks": [{"id": d.id, "name": d.name, "state": d.state, "since": d.since, "p_occupied": d.p_occupied}
                  for d in view.desks],
        "stuck_sensors": view.stuck_sensors,
    }


class HubOut(BaseModel):
    id: str = Field(description="Hub id, used in URLs and MQTT topics.")
    name: str = Field(description="Display name of the hub.")
    address: str = Field(description="Street address.")
    city: str | None = Field(description="City or town (hub config; null if not given).")
    region: str | None = Field(description="Region the hub belongs to (hub config; null if not given): the hub "
                               "picker groups hubs by it.")
    timezone: str = Field(description="IANA time zone of the hub's opening hours.")
    zones: int = Field(description="Number of zones.")
    free: int = Field(description="Zones free right now.")
    occupied: int = Field(description="Zones occupied right now.")
    unknown: int = Field(description="Zones whose state is unknown right now.")
    open_now: bool = Field(description="Whether the hub is inside its opening hours right now.")
    opens_at: datetime | None = Field(description="When a closed hub opens next (UTC); null when open, or "
                                      "when it does not open within 8 days.")
    closes_at: datetime | None = Field(description="When an open hub closes (UTC); null when closed.")
    default: bool = Field(description="The installation's default hub (setting default_hub, else the first "
                          "hub): the dashboard shows it on a device that has not chosen a hub.")
    simulated: bool = Field(description="The hub's data comes from simulated agents ('hubsense demo'), not "
                            "from real sensors.")

    @classmethod
    def build(cls, hub: Hub, views: list[ZoneView], now: datetime, default: bool = False,
              simulated: bool = False) -> HubOut:
        return cls(**hub_row(hub, view_counts(views), now, default, simulated))


class SpoolStatus(BaseModel):
    depth: int = Field(description="Records waiting in the on-disk spool for the store to come back.")
    max: int = Field(description="Spool bound; past it the collector stops acknowledging messages.")
    high_water: bool = Field(description="True once the spool is 80 % full: the alarm.")
    store_available: bool = Field(description="Whether the last write to the store succeeded.")
    last_error: str | None = Field(description="The last store error, if the store is unavailable.")


class RetainedCounts(BaseModel):
    accepted: int = Field(description="Retained messages that passed validation (agent statuses).")
    rejected: dict[str, int] = Field(description="Retained messages rejected, by reason ('retained': an event "
                                                 "or heartbeat kept by the broker).")


class Health(BaseModel):
    status: str = Field(description="'ok' when connected to the broker, else 'degraded'.")
    mqtt_connected: bool = Field(description="Whether the collector is connected to the MQTT broker.")
    store: str = Field(description="Storage backend in use.")
    received: int = Field(description="MQTT messages received since start.")
    accepted: int = Field(description="Messages that passed validation.")
    stored: int = Field(description="Sensor events newly stored since start.")
    duplicates: int = Field(description="Sensor events that were already stored (redeliveries).")
    rejected: dict[str, int] = Field(description="Rejected messages by reason; received = accepted + all of these.")
    retained: RetainedCounts = Field(
        description="Retained messages the broker handed over at (re)subscribe, counted apart from the live "
        "ones (the same retained message comes again at every collector start)."
    )
    unstored_changes: int = Field(description="Zone state changes the store refused (a bug or bad data; logged).")
    spool: SpoolStatus | None = Field(None, description="Spool in front of InfluxDB (null for SQLite).")


# --- zone profiles: what the engine uses, learned or configured ----------------------------

ParameterSource = Literal["learned", "configured", "default"]


class ParameterOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: float = Field(description="The value in use now.")
    source: ParameterSource = Field(
        description="'learned' from the zone's own history, 'configured' (set in the zone's profile in the "
        "hub config: pinned, not learned), or 'default' (the zone kind's, until the zone has learned)."
    )


class ZoneProfileOut(BaseModel):
    """The parameters the occupancy engine uses for one zone now (docs/engine.md explains each)."""

    model_config = ConfigDict(extra="forbid")

    hub: str = Field(description="Hub id.")
    zone: str = Field(description="Zone id.")
    name: str = Field(description="Display name of the zone.")
    kind: ZoneKind = Field(description="open, room or desk_area.")
    learning: bool = Field(description="Whether the zone learns from its own history (profile 'learn', default true).")
    gaps_seen: int = Field(description="Quiet gaps between bursts of motion the zone has learned from (recent ones "
                           "count most).")
    visit_boundary_s: float | None = Field(
        description="Learned: a quiet gap longer than this is more likely between two visits than inside one; "
        "null when the zone does not learn."
    )
    vacancy_timeout_s: ParameterOut = Field(
        description="Seconds without motion after a visit before the zone (or a desk) shows free.")
    vacancy_timeout_after_passer_by_s: ParameterOut = Field(
        description="The same after a lone short burst that started a visit (someone passing by).")
    vacancy_timeout_after_moving_on_s: ParameterOut = Field(
        description="The same when motion has meanwhile started in another zone (people moved on).")
    door_exit_window_s: ParameterOut = Field(
        description="Rooms: seconds after the door opens or shuts within which motion must follow, or the room "
        "is taken as left.")
    max_occupied_s: ParameterOut = Field(
        description="Longest believable stillness without fresh evidence (a shut room learns a longer one from "
        "the stillness it has shown).")
    stuck_after_s: ParameterOut = Field(
        description="A sensor unchanged this long within opening hours is flagged stuck.")
    p_empty_after_silent_door_cycle: float | None = Field(
        description="Rooms: learned share of door cycles with no motion afterwards, starting from an occupied "
        "room, after which the room was empty; null for other zones.")
    p_inside_after_silent_arrival: float | None = Field(
        description="Rooms: learned share of such silent cycles, starting from an empty room, after which "
        "someone was inside (sitting still); null for other zones.")

    @classmethod
    def build(cls, hub: Hub, zone: Zone, parameters: dict) -> ZoneProfileOut:
        """From ``Engine.parameters(zone)``."""
        fields = {k: ParameterOut(**v) for k, v in parameters.items() if isinstance(v, dict)}
        return cls(hub=hub.id, zone=zone.id, name=zone.name, kind=zone.kind, learning=parameters["learning"],
                   gaps_seen=parameters["gaps_seen"], visit_boundary_s=parameters["visit_boundary_s"],
                   p_empty_after_silent_door_cycle=parameters.get("p_empty_after_silent_door_cycle"),
                   p_inside_after_silent_arrival=parameters.get("p_inside_after_silent_arrival"),
                   **{k: fields[k] for k in _PARAMETERS})

    def csv_row(self) -> dict:
        """One flat CSV row: every parameter's value and its source in a column of its own."""
        row = self.model_dump(exclude=set(_PARAMETERS))
        for name in _PARAMETERS:
            p = getattr(self, name)
            row[name], row[f"{name}_source"] = p.value, p.source
        return row


_PARAMETERS = ("vacancy_timeout_s", "vacancy_timeout_after_passer_by_s", "vacancy_timeout_after_moving_on_s",
               "door_exit_window_s", "max_occupied_s", "stuck_after_s")
PROFILE_CSV_COLUMNS = ["hub", "zone", "name", "kind", "learning", "gaps_seen", "visit_boundary_s",
                       *(c for n in _PARAMETERS for c in (n, f"{n}_source")),
                       "p_empty_after_silent_door_cycle", "p_inside_after_silent_arrival"]


class ProfilesReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hub: str = Field(description="Hub id.")
    generated_at: datetime = Field(description="Response time (UTC).")
    zones: list[ZoneProfileOut] = Field(description="One entry per zone, in config order.")


# --- sensor agents ----------------------------------------------------------------------

AgentState = Literal["online", "offline", "stale", "no_data"]


class AgentOut(BaseModel):
    agent: str = Field(description="Agent id (one Raspberry Pi).")
    name: str = Field(description="Where the Pi is mounted (from the hub config).")
    status: AgentState = Field(
        description="'online'; 'offline' (clean exit or Last Will); 'stale' (heartbeats overdue); "
        "'no_data' (never heard from since the collector started)."
    )
    online: bool = Field(description="Whether the agent is alive (status 'online').")
    last_seen: datetime | None = Field(description="Newest message of any kind from the agent (UTC, collector clock).")
    last_heartbeat: datetime | None = Field(description="Newest heartbeat (UTC, collector clock).")
    last_seen_age_s: float | None = Field(description="Seconds since last_seen, at response time.")
    heartbeat_interval_s: float = Field(description="Heartbeat interval the agent announced.")
    clock_offset_s: float | None = Field(description="Agent clock minus collector clock, seconds.")
    clock_skewed: bool = Field(False, description="The agent's clock is off by more than the bound "
                               "(docs/reliability.md): its events are placed by receive time.")
    queue_depth: int | None = Field(description="Events waiting in the agent's store-and-forward queue "
                                    "(newest stored health record).")
    dropped: int | None = Field(description="Events the agent dropped because its queue was full.")
    zones: list[str] = Field(description="Zones this agent's sensors watch.")
    sensors: dict[str, str | None] = Field(description="Last known state of each sensor, by sensor id.")
    stuck_sensors: list[str] = Field(description="Sensors flagged as stuck (no change for too long while open, "
                                     "or motion for longer than believable).")


class AgentsReport(BaseModel):
    hub: str = Field(description="Hub id.")
    generated_at: datetime = Field(description="Response time (UTC).")
    agents: list[AgentOut] = Field(description="One entry per agent in the hub config.")


# --- statistics -------------------------------------------------------------------------

_TIMES = "UTC, ISO 8601"
_MEASURED = ("min(end, now) (UTC, ISO 8601): nothing after now is observed, so time after it is neither "
             "open, known nor occupied, and buckets that lie wholly after it have null figures.")


class UtilisationRow(BaseModel):
    start: datetime = Field(description=f"Bucket start ({_TIMES}); the query start for the first bucket.")
    end: datetime = Field(description=f"Bucket end, exclusive ({_TIMES}); the query end for the last bucket.")
    local_start: datetime = Field(description="Bucket start in the hub's local time, with its UTC offset.")
    zone: str | None = Field(description="Zone id; null for the hub total (all zones pooled).")
    kind: ZoneKind | None = Field(description="Zone kind; null for the hub total.")
    open_s: float = Field(description="Seconds inside opening hours up to measured_until (zone-equivalent; "
                          "summed over zones for the hub total).")
    known_s: float = Field(description="Open seconds in which the state was known (not unknown).")
    occupied_s: float = Field(description="Open seconds occupied; for desk areas desk-seconds in use "
                              "divided by the number of desks.")
    utilisation: float | None = Field(description="occupied_s / known_s, 0..1; null when nothing was known. "
                                      "Unknown time is never counted as free.")
    data_quality: float | None = Field(description="known_s / open_s, 0..1: share of open time with working "
                                       "sensors; null when the bucket has no open time.")
    desks: int | None = Field(description="Desks in a desk area (null for other zones).")
    peak_desks_in_use: int | None = Field(description="Desk areas: most desks in use at once during open "
                                          "hours; null elsewhere or when closed.")
    peak_desk_share: float | None = Field(description="peak_desks_in_use / desks, 0..1.")


class UtilisationReport(BaseModel):
    hub: str = Field(description="Hub id.")
    timezone: str = Field(description="IANA time zone of the buckets and opening hours.")
    start: datetime = Field(description=f"Query start ({_TIMES}).")
    end: datetime = Field(description=f"Query end, exclusive ({_TIMES}).")
    measured_until: datetime = Field(description=_MEASURED)
    bucket: str = Field(description="hour, day, week or month (local calendar boundaries).")
    rows: list[UtilisationRow] = Field(description="One row per bucket and zone, then per bucket for the hub.")


class HeatmapZone(BaseModel):
    zone: str = Field(description="Zone id.")
    share: list[list[float | None]] = Field(
        description="7 x 24 (Monday first, local hours): occupied share of known open time; null when the "
        "hour was never open in the period or nothing was known."
    )
    data_quality: list[list[float | None]] = Field(description="7 x 24: known share of open time; null if never open.")
    open_hours: list[list[float]] = Field(description="7 x 24: open hours that fell into each cell.")


class HeatmapReport(BaseModel):
    hub: str = Field(description="Hub id.")
    timezone: str = Field(description="IANA time zone of the hour-of-week cells.")
    start: datetime = Field(description=f"Query start ({_TIMES}).")
    end: datetime = Field(description=f"Query end, exclusive ({_TIMES}).")
    measured_until: datetime = Field(description=_MEASURED)
    hours: str = Field(description="Which hours count: always 'open' (opening hours only).")
    zones: list[HeatmapZone] = Field(description="One heatmap per zone.")


class ForecastCell(BaseModel):
    weekday: int = Field(description="0 = Monday … 6 = Sunday (local).")
    hour: int = Field(description="Local hour of day, 0..23.")
    probability: float | None = Field(description="Share of known open time the zone was occupied in this "
                                      "hour over the window; null without evidence.")
    weeks: int = Field(description="Weeks in the window that gave known open time in this hour.")
    label: str = Field(description="'usually free' (< 25 %), 'often busy' (< 60 %), 'usually busy', or 'no data'.")


class ForecastZone(BaseModel):
    zone: str = Field(description="Zone id.")
    data_quality: float | None = Field(description="Known share of the window's open time, 0..1; null if the "
                                       "hub was never open in the window.")
    cells: list[ForecastCell] = Field(description="168 cells, Monday 00 first.")


class ForecastReport(BaseModel):
    hub: str = Field(description="Hub id.")
    timezone: str = Field(description="IANA time zone of the cells.")
    generated_at: datetime = Field(description=f"When the forecast was made ({_TIMES}).")
    window_start: datetime = Field(description=f"Start of the history used ({_TIMES}).")
    weeks: int = Field(description="Weeks of history used (the window is weeks x 7 days before generated_at).")
    zones: list[ForecastZone] = Field(description="One forecast per zone.")


class DailyPeak(BaseModel):
    start: datetime = Field(description=f"Local day start ({_TIMES}), clipped to the query.")
    end: datetime = Field(description=f"Local day end ({_TIMES}), clipped to the query.")
    date: str = Field(description="Local date, YYYY-MM-DD.")
    peak_zones: int | None = Field(description="Most zones (other than desk areas) occupied at once during "
                                   "open hours; null when closed all day or the selection has no such zones.")
    peak_desks: int | None = Field(description="Most desks in use at once during open hours; null when closed "
                                   "or when the selection has no desks.")


class SessionRow(BaseModel):
    zone: str = Field(description="Zone id.")
    desk: str | None = Field(description="Desk id, or null for the zone itself.")
    count: int = Field(description="Occupied sessions overlapping the period.")
    median_s: float | None = Field(description="Median session duration in seconds (clipped to the period).")
    p90_s: float | None = Field(description="90th-percentile session duration in seconds.")
    data_quality: float | None = Field(description="Known share of the period's open time for this zone or desk, "
                                       "0..1; null if never open.")


class DoorRow(BaseModel):
    zone: str = Field(description="Zone id of a room with a door sensor.")
    openings: int = Field(description="Door openings in the period (agent clock).")
    openings_open_hours: int = Field(description="Openings inside opening hours.")
    per_open_hour: float | None = Field(description="openings_open_hours per open hour; null if never open.")
    by_hour_of_day: list[int] = Field(description="24 counts of openings by local hour of day.")


class SessionsReport(BaseModel):
    hub: str = Field(description="Hub id.")
    timezone: str = Field(description="IANA time zone of the days.")
    start: datetime = Field(description=f"Query start ({_TIMES}).")
    end: datetime = Field(description=f"Query end, exclusive ({_TIMES}).")
    measured_until: datetime = Field(description=_MEASURED)
    peaks: list[DailyPeak] = Field(description="Peak concurrent occupancy per local day.")
    sessions: list[SessionRow] = Field(description="Occupied sessions per zone and per desk.")
    doors: list[DoorRow] = Field(description="Door traffic per room with a door sensor.")


# --- bookings ---------------------------------------------------------------------------

class BookingOut(BaseModel):
    """A booking as times only: event titles and organizers can name people, so they are never shown."""

    zone: str = Field(description="Zone id of the booked room.")
    room: str = Field(description="Display name of the room.")
    start: datetime = Field(description="Booking start (UTC).")
    end: datetime = Field(description="Booking end (UTC).")
    status: BookingStatus = Field(
        description="used (occupied within the grace period after the start), no_show (known free for the "
        "whole grace period), unknown (not seen occupied, but the room's state was unknown for part of the "
        "grace period), pending (grace period still running), upcoming (not started)."
    )
    no_show: bool = Field(description="True when status is no_show: the room can be released.")
    first_occupied: datetime | None = Field(description="First time the room was occupied during the booking.")
    used_minutes: float = Field(description="Minutes the room was occupied during the booking (so far).")

    @classmethod
    def build(cls, hub: Hub, o: BookingOutcome) -> BookingOut:
        b = o.booking
        return cls(zone=b.zone, room=hub.zone(b.zone).name, start=b.start, end=b.end,
                   status=o.status, no_show=o.status is BookingStatus.NO_SHOW, first_occupied=o.first_occupied,
                   used_minutes=round(o.used_s / 60, 2))


class RoomBookings(BaseModel):
    zone: str = Field(description="Zone id of the room.")
    room: str = Field(description="Display name of the room.")
    booked_hours: float = Field(description="Hours booked in the measured period (overlapping bookings once).")
    used_hours: float = Field(description="Hours the room was occupied.")
    booked_used_hours: float = Field(description="Booked hours in which the room was occupied.")
    booked_unused_hours: float = Field(description="Booked hours in which the room was known to be free.")
    unbooked_used_hours: float = Field(description="Hours the room was occupied without a booking.")
    unknown_hours: float = Field(description="Hours the room's state was unknown (agent offline or stale).")
    bookings: int = Field(description="Bookings overlapping the period.")
    no_shows: int = Field(description="Bookings with status no_show.")
    items: list[BookingOut] = Field(description="The bookings with their status.")


class BookingReport(BaseModel):
    hub: str = Field(description="Hub id.")
    start: datetime = Field(description="Period start (UTC).")
    end: datetime = Field(description="Period end, exclusive (UTC).")
    measured_until: datetime = Field(description="min(end, now): nothing after now is measured.")
    grace_minutes: float = Field(description="No-show grace period after a booking's start.")
    rooms: list[RoomBookings] = Field(description="One entry per room with a booking calendar.")


class LiveBookings(BaseModel):
    hub: str = Field(description="Hub id.")
    now: datetime = Field(description="Time of evaluation (UTC).")
    grace_minutes: float = Field(description="No-show grace period after a booking's start.")
    bookings: list[BookingOut] = Field(description="Bookings running now; no_show=true ones can be released.")
    rooms: list[RoomLiveOut] = Field(default_factory=list, description="Every bookable room with a calendar now, "
                                       "with overruns ('running over by 12 min').")


# --- webhooks (docs/integrations.md) ------------------------------------------------------------

class SubscriptionIn(BaseModel):
    """A new webhook subscription."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000, description="http(s) URL the events are POSTed to; checked "
                     "against the target policy (no private addresses unless allowed, the allow-list).")
    events: list[EventType] = Field(min_length=1, description="Event types to send (GET /api/webhooks/events).")
    hubs: list[str] = Field(default_factory=list, description="Only these hubs' events; empty: every hub.")
    free_occupied_only: bool = Field(False, description="zone.state_changed only between free and occupied "
                                     "(changes to and from unknown left out).")
    rate_per_minute: int | None = Field(None, ge=1, le=6000, description="At most this many attempts per "
                                        "minute (default: the webhook_rate_per_minute setting).")
    description: str = Field("", max_length=200, description="What the subscription is for.")
    active: bool = Field(True, description="False: paused (no new events are queued for it).")


class SubscriptionPatch(BaseModel):
    """Fields of a subscription to change; the others stay."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, min_length=1, max_length=2000, description="New target URL (checked).")
    events: list[EventType] | None = Field(None, min_length=1, description="New event types.")
    hubs: list[str] | None = Field(None, description="New hub filter; empty: every hub.")
    free_occupied_only: bool | None = Field(None, description="See SubscriptionIn.")
    rate_per_minute: int | None = Field(None, ge=1, le=6000, description="New rate limit.")
    description: str | None = Field(None, max_length=200, description="New description.")
    active: bool | None = Field(None, description="Pause (false) or resume (true).")


class DeliveryCounts(BaseModel):
    pending: int = Field(description="Deliveries waiting (for the receiver, a retry or the rate limit).")
    delivered: int = Field(description="Deliveries the receiver accepted (2xx), within the log's retention.")
    failed: int = Field(description="Deliveries given up after webhook_retry_for_s, within the log's retention.")


class SubscriptionOut(BaseModel):
    id: str = Field(description="Subscription id.")
    url: str = Field(description="Target URL.")
    events: list[EventType] = Field(description="Event types sent.")
    hubs: list[str] = Field(description="Hub filter; empty: every hub.")
    free_occupied_only: bool = Field(description="zone.state_changed only between free and occupied.")
    rate_per_minute: int = Field(description="Attempts per minute at most.")
    description: str = Field(description="What the subscription is for.")
    active: bool = Field(description="False: paused.")
    created: datetime = Field(description="When it was created (UTC).")
    deliveries: DeliveryCounts = Field(description="Deliveries by status.")
    secret: str | None = Field(None, description="The signing secret: only in the answer that creates the "
                               "subscription (or rotates its secret); keep it with the receiver.")


class DeliveryOut(BaseModel):
    id: str = Field(description="Delivery id (Hubsense-Delivery header, 'id' of the body).")
    type: EventType = Field(description="Event type.")
    status: Literal["pending", "delivered", "failed"] = Field(description="pending (waiting or retrying), "
                                                              "delivered (2xx), failed (gave up).")
    attempts: int = Field(description="Attempts so far.")
    created: datetime = Field(description="When the event was queued (UTC).")
    last_attempt_at: datetime | None = Field(description="The latest attempt (UTC).")
    next_attempt_at: datetime | None = Field(description="When the next attempt is due (pending only; UTC).")
    last_status: int | None = Field(description="HTTP status of the latest attempt (null: no response).")
    last_error: str | None = Field(description="Why the latest attempt failed (timeout, refused target, HTTP "
                                   "status and the start of the body).")
    done_at: datetime | None = Field(description="When it was delivered or given up (UTC).")


class DeliveryLog(BaseModel):
    subscription: str = Field(description="Subscription id.")
    deliveries: list[DeliveryOut] = Field(description="Newest first.")


class EventTypeOut(BaseModel):
    type: EventType = Field(description="Event type.")
    description: str = Field(description="When it is sent.")
    schema_url: str = Field(description="Path of its JSON Schema in the repository (docs/schema/webhooks/).")


class PingQueued(BaseModel):
    delivery: str = Field(description="Id of the queued test delivery; its outcome appears in the delivery log.")


# --- network: every hub at once -----------------------------------------------------------

class PeriodFigures(BaseModel):
    utilisation: float | None = Field(description="occupied_s / known_s, 0..1 (whole hub, opening hours); null "
                                      "when nothing was known.")
    data_quality: float | None = Field(description="known_s / open_s, 0..1; null without open time.")
    open_s: float = Field(description="Open seconds up to now (zone-equivalent: summed over the hub's zones).")
    known_s: float = Field(description="Open seconds in which the state was known.")
    occupied_s: float = Field(description="Open seconds occupied.")


class NetworkHub(BaseModel):
    id: str = Field(description="Hub id.")
    name: str = Field(description="Display name of the hub.")
    city: str | None = Field(description="City (hub config), or null.")
    region: str | None = Field(description="Region (hub config), or null.")
    timezone: str = Field(description="IANA time zone of the hub (its days and weeks are local).")
    zones: int = Field(description="Number of zones.")
    free: int = Field(description="Zones free right now.")
    occupied: int = Field(description="Zones occupied right now.")
    unknown: int = Field(description="Zones whose state is unknown right now (never counted as free).")
    open_now: bool = Field(description="Inside opening hours right now.")
    agents: int = Field(description="Agents (Raspberry Pis) in the hub config.")
    agents_offline: int = Field(description="Agents not online right now (offline, stale or never heard from).")
    stuck_sensors: int = Field(description="Sensors flagged as stuck right now.")
    queued: int | None = Field(description="Events waiting in the agents' store-and-forward queues, from their "
                               "newest heartbeats (null until the first refresh).")
    dropped: int | None = Field(description="Events the agents dropped because their queue was full.")
    yesterday: PeriodFigures | None = Field(description="Yesterday (the hub's local day); null until the first "
                                            "refresh (network_refresh_s).")
    week: PeriodFigures | None = Field(description="This week from Monday (local) up to now; null until the "
                                       "first refresh.")


class NetworkOverview(BaseModel):
    generated_at: datetime = Field(description="Response time (UTC).")
    history_at: datetime | None = Field(description="When yesterday's and this week's figures and the agents' "
                                        "queues were last refreshed (null: not yet).")
    spool: SpoolStatus | None = Field(description="The collector's spool in front of InfluxDB (null for SQLite).")
    hubs: list[NetworkHub] = Field(description="Every hub the caller may see, in config order.")


class NetworkBucket(BaseModel):
    start: str = Field(description="First local date of the bucket (YYYY-MM-DD, the hub's own calendar).")
    end: str = Field(description="Local date after the bucket's last day (exclusive).")
    utilisation: float | None = Field(description="occupied_s / known_s, 0..1; null when nothing was known.")
    data_quality: float | None = Field(description="known_s / open_s, 0..1; null without open time.")
    open_s: float = Field(description="Open seconds up to now (zone-equivalent).")
    known_s: float = Field(description="Open seconds in which the state was known.")
    occupied_s: float = Field(description="Open seconds occupied.")


class NetworkHubSeries(BaseModel):
    hub: str = Field(description="Hub id.")
    name: str = Field(description="Display name of the hub.")
    city: str | None = Field(description="City, or null.")
    region: str | None = Field(description="Region, or null.")
    buckets: list[NetworkBucket] = Field(description="One entry per bucket, oldest first.")


class NetworkUtilisation(BaseModel):
    start: str = Field(description="First local date (inclusive).")
    end: str = Field(description="Local date the period ends before (exclusive).")
    bucket: str = Field(description="day, week (Monday first) or month, by each hub's local calendar.")
    generated_at: datetime = Field(description="Response time (UTC); nothing after it is measured.")
    hubs: list[NetworkHubSeries] = Field(description="One series per hub compared.")


# --- rooms right now (member view, kiosk) and room events ---------------------------------

class Slot(BaseModel):
    """A booking as a time span only: titles, organisers and organisations are never shown to members."""

    start: datetime = Field(description="Start (UTC).")
    end: datetime = Field(description="End (UTC).")


MemberRoomStatus = Literal["free", "booked", "released", "released_in_use", "walk_in", "in_use", "unknown"]


class RoomOut(BaseModel):
    zone: str = Field(description="Zone id of the bookable room.")
    room: str = Field(description="Display name of the room.")
    status: MemberRoomStatus = Field(
        description="free (no booking running: free until free_until); booked (a booking is running); released "
        "(booked but unused: free to use until free_until); released_in_use (a released booking's room taken by "
        "walk-ins); walk_in (in use, not booked); in_use (in use after a booking's end); unknown (no booking "
        "running and the sensors are unknown).")
    booking: Slot | None = Field(description="The running booking (booked, released, released_in_use), else null.")
    next: Slot | None = Field(description="The next booking to start within 24 hours, or null.")
    free_until: datetime | None = Field(description="free, released, walk_in: when the room is booked next (UTC); "
                                        "null when it is not booked within 24 hours.")
    released_at: datetime | None = Field(description="released, released_in_use: when the booking was released.")

    @classmethod
    def build(cls, hub: Hub, room: RoomNow) -> RoomOut:
        status = "in_use" if room.status is RoomStatus.OVERRUN else room.status.value
        running = room.booking if room.status is not RoomStatus.OVERRUN else None
        return cls(zone=room.zone, room=hub.zone(room.zone).name, status=status, booking=_slot(running),
                   next=_slot(room.next), free_until=room.free_until, released_at=room.released_at)


class RoomLiveOut(RoomOut):
    """A room as the manager sees it: overruns too."""

    live_status: RoomStatus = Field(description="As status, but 'overrun' (a booking has ended and the room is "
                                    "still in use) instead of 'in_use'.")
    overrun_minutes: float | None = Field(description="overrun: minutes the room has been in use past the "
                                          "booking's end (running over by ...).")
    overrun_booking: Slot | None = Field(description="overrun: the booking that is running over.")

    @classmethod
    def build(cls, hub: Hub, room: RoomNow) -> RoomLiveOut:
        over = room.status is RoomStatus.OVERRUN
        return cls(**RoomOut.build(hub, room).model_dump(), live_status=room.status,
                   overrun_minutes=round(room.overrun_s / 60, 1) if over else None,
                   overrun_booking=_slot(room.booking) if over else None)


def _slot(booking: Booking | None) -> Slot | None:
    return Slot(start=booking.start, end=booking.end) if booking is not None else None


class RoomsNow(BaseModel):
    hub: str = Field(description="Hub id.")
    now: datetime = Field(description="Time of evaluation (UTC).")
    rooms: list[RoomOut] = Field(description="Every bookable room with a booking calendar.")


class RoomEventOut(BaseModel):
    """A room event, webhook-ready: the same type and data as the webhook delivery of that type."""

    type: RoomEventType = Field(description="room.released, room.walk_in or room.overrun.")
    hub: str = Field(description="Hub id.")
    zone: str = Field(description="Zone id of the room.")
    at: datetime = Field(description="When it happened (UTC).")
    data: dict = Field(description="The webhook payload of the type (docs/schema/webhooks/).")


class RoomEvents(BaseModel):
    hub: str = Field(description="Hub id.")
    events: list[RoomEventOut] = Field(description="The latest room events the collector saw (oldest first).")


# --- billing ---------------------------------------------------------------------------------

class BillingLine(BaseModel):
    """One booking on a statement."""

    organisation: str = Field(description="Organisation id ('unassigned': the booking matched none).")
    organisation_name: str = Field(description="Name of the organisation.")
    zone: str = Field(description="Zone id of the room.")
    room: str = Field(description="Display name of the room.")
    start: datetime = Field(description="Booking start (UTC; the hub's local time in the excel-sv CSV).")
    end: datetime = Field(description="Booking end.")
    tariff: str = Field(description="Tariff id of the room.")
    policy: BillingPolicy = Field(description="The tariff's policy: booked, used or max.")
    booked_minutes: float = Field(description="Length of the booked slot.")
    sensed_minutes: float = Field(description="Minutes the room was occupied inside the slot (for a released "
                                  "booking: before the release, so 0).")
    early_minutes: float = Field(description="Minutes the meeting started before the slot (shown, never billed).")
    overrun_minutes: float = Field(description="Minutes the room stayed in use after the slot, up to the next "
                                   "booking's start.")
    billable_overrun_minutes: float = Field(description="The overrun if longer than the tariff's grace, else 0.")
    overran_into_next: bool = Field(description="The overrun was cut short by the room's next booking.")
    no_show: bool = Field(description="Nobody came: the room was released.")
    released_at: datetime | None = Field(description="When the room was released (no-shows).")
    taken_minutes: float = Field(description="Minutes others used the released room (walk-in use of a released "
                                 "booking).")
    sensors_unknown_minutes: float = Field(description="Minutes inside the slot when the room's sensors were "
                                           "unknown (agent offline or stale).")
    data_quality: Literal["ok", "sensors_unknown"] = Field(
        description="'sensors_unknown': the room's sensors were unknown during the booking, so it is billed as "
        "booked and marked.")
    basis: Basis = Field(description="Why it costs this: policy, sensors_unknown (billed as booked), provisional "
                         "(not over yet: priced as booked), no_show, no_show_waived.")
    billed_minutes: int = Field(description="Minutes billed, rounded up to the tariff's step.")
    amount: Decimal = Field(description="What the booking costs, in the hub's currency (two decimals).")
    currency: str = Field(description="ISO 4217 currency code.")

    @classmethod
    def build(cls, hub: Hub, org_id: str, org_name: str, line: Line) -> BillingLine:
        f, c, b = line.facts, line.charge, line.booking
        return cls(
            organisation=org_id, organisation_name=org_name, zone=b.zone, room=hub.zone(b.zone).name,
            start=b.start, end=b.end, tariff=line.tariff.id, policy=line.tariff.policy,
            booked_minutes=_min(f.booked_s), sensed_minutes=_min(f.sensed_s), early_minutes=_min(f.early_s),
            overrun_minutes=_min(f.overrun_s), billable_overrun_minutes=_min(c.billable_overrun_s),
            overran_into_next=f.overran_into_next, no_show=f.released, released_at=f.released_at,
            taken_minutes=_min(f.taken_s), sensors_unknown_minutes=_min(f.unknown_s),
            data_quality="sensors_unknown" if f.unknown_s > 0 else "ok", basis=c.basis,
            billed_minutes=c.billed_min, amount=from_ore(c.amount_ore), currency=hub.billing.currency)


def _min(seconds: float) -> float:
    return round(seconds / 60, 2)


class OrganisationBilling(BaseModel):
    organisation: str = Field(description="Organisation id ('unassigned': bookings that matched none).")
    name: str = Field(description="Name of the organisation.")
    bookings: int = Field(description="Bookings that started in the month (up to now).")
    booked_hours: float = Field(description="Hours booked.")
    used_hours: float = Field(description="Hours the sensors saw the room in use during the bookings, plus "
                              "overruns.")
    no_shows: int = Field(description="Bookings nobody came to (released).")
    no_show_rate: float | None = Field(description="no_shows / bookings, 0..1; null without bookings.")
    overrun_minutes: float = Field(description="Minutes the rooms stayed in use past the bookings' ends.")
    sensors_unknown: int = Field(description="Bookings billed as booked because the sensors were unknown.")
    provisional: int = Field(description="Bookings not over yet (priced as booked for now).")
    amount: Decimal = Field(description="Total, in the hub's currency (two decimals).")
    lines: list[BillingLine] = Field(description="Every booking, in time order.")

    @classmethod
    def build(cls, hub: Hub, org: OrganisationStatement) -> OrganisationBilling:
        return cls(
            organisation=org.id, name=org.name, bookings=org.bookings, booked_hours=round(org.booked_s / 3600, 4),
            used_hours=round(org.used_s / 3600, 4), no_shows=org.no_shows,
            no_show_rate=round(org.no_show_rate, 4) if org.no_show_rate is not None else None,
            overrun_minutes=_min(org.overrun_s), sensors_unknown=org.sensors_unknown, provisional=org.provisional,
            amount=from_ore(org.amount_ore), lines=[BillingLine.build(hub, org.id, org.name, x) for x in org.lines])


class BillingReport(BaseModel):
    hub: str = Field(description="Hub id.")
    month: str = Field(description="The month, YYYY-MM (the hub's local calendar month).")
    timezone: str = Field(description="IANA time zone of the month.")
    start: datetime = Field(description="Local midnight of the 1st (UTC).")
    end: datetime = Field(description="Local midnight of the next month's 1st, exclusive (UTC).")
    measured_until: datetime = Field(description="min(end, now): nothing after now is billed.")
    currency: str = Field(description="ISO 4217 currency of every amount.")
    amount: Decimal = Field(description="Total of the organisations shown.")
    unassigned: int = Field(description="Bookings that matched no organisation: add its e-mail domain or a "
                            "calendar identifier to the hub config's organisations.")
    upcoming: int = Field(description="Bookings of the month that have not started yet (not billed).")
    unbilled_rooms: list[str] = Field(description="Rooms with bookings but no tariff (not billed).")
    organisations: list[OrganisationBilling] = Field(description="Every organisation of the hub config, then "
                                                     "'unassigned' if any booking matched none.")

    @classmethod
    def build(cls, hub: Hub, s: MonthStatement, orgs: list[OrganisationStatement]) -> BillingReport:
        return cls(hub=s.hub, month=s.month, timezone=hub.timezone, start=s.start, end=s.end,
                   measured_until=s.measured_until, currency=s.currency,
                   amount=from_ore(sum(o.amount_ore for o in orgs)), unassigned=s.unassigned,
                   upcoming=s.upcoming, unbilled_rooms=s.unbilled_rooms,
                   organisations=[OrganisationBilling.build(hub, o) for o in orgs])
