"""What routes take from a request, in one place: the app's state (settings, store, hubs,
live state), a hub or zones by id, and ``start`` / ``end`` / ``bucket`` periods.

Everything comes from ``app.state`` (set by :func:`collector.api.app.create_app`), never from module
globals.  The dependencies are ``async`` because they only read attributes: a sync dependency would
cost a thread-pool hop on every request.

``start`` / ``end`` take ISO 8601 with an offset (``2026-03-01T00:00:00+01:00``, ``...Z``) or a bare
date, which means local midnight of the hub at the start of that date (so
``start=2026-03-01&end=2026-04-01`` is March, local time).  Naive date-times are refused (400): the
hub's clock and the server's may differ.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from fastapi import HTTPException, Query, Request

from collector.bookings.sources import CalendarSources
from collector.live import LiveState
from collector.settings import Settings
from collector.store.base import Store
from hubsense.config import Hub, Zone

Format = Literal["json", "csv"]
Bucket = Literal["hour", "day", "week", "month"]
START = Query(..., description="Period start: ISO 8601 with offset, or YYYY-MM-DD (local midnight).")
END = Query(..., description="Period end, exclusive: ISO 8601 with offset, or YYYY-MM-DD (local midnight).")
ZONE = Query(None, description="Only this zone.")
FORMAT = Query("json", description="json, or csv (header row, ISO 8601 times).")
BUCKET_S = {"hour": 3600, "day": 86400, "week": 7 * 86400, "month": 28 * 86400}


# --- app state ------------------------------------------------------------------------

async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_store(request: Request) -> Store:
    return request.app.state.store


async def get_hubs(request: Request) -> dict[str, Hub]:
    return request.app.state.hubs


async def get_live(request: Request) -> LiveState:
    return request.app.state.live


async def get_sources(request: Request) -> CalendarSources:
    return request.app.state.calendar_sources


async def get_hub(hub: str, request: Request) -> Hub:
    """Path parameter ``{hub}`` resolved to its config, or 404."""
    return find_hub(request.app.state.hubs, hub)


# --- hubs and zones by id -------------------------------------------------------------

def find_hub(hubs: dict[str, Hub], hub_id: str) -> Hub:
    """The hub with this id, or 404."""
    try:
        return hubs[hub_id]
    except KeyError:
        raise HTTPException(404, f"unknown hub {hub_id!r}") from None


def find_zone(hub: Hub, zone_id: str) -> Zone:
    """The zone with this id in the hub, or 404."""
    try:
        return hub.zone(zone_id)
    except KeyError:
        raise HTTPException(404, f"unknown zone {zone_id!r} in hub {hub.id!r}") from None


def select_zones(hub: Hub, zone: str | None) -> list[Zone]:
    """All zones of the hub, or the one named by ``?zone=`` (404 if unknown)."""
    return list(hub.zones) if zone is None else [find_zone(hub, zone)]


# --- periods ------------------------------------------------------------------------

def parse_time(value: str, hub: Hub, name: str) -> datetime:
    """``start`` / ``end`` as a UTC datetime (a bare date is the hub's local midnight), or 400."""
    if len(value) > 19 and value[-6] == " ":  # an unencoded '+' of the offset arrives as a space
        value = f"{value[:-6]}+{value[-5:]}"
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0), hub.tz).astimezone(UTC)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"{name}: {value!r} is not an ISO 8601 date or date-time") from None
    if parsed.tzinfo is None:
        raise HTTPException(400, f"{name}: {value!r} has no UTC offset; add one, e.g. 'Z' or '+01:00'")
    return parsed.astimezone(UTC)


def period(hub: Hub, start: str, end: str, settings: Settings, bucket: str | None = None) -> tuple[datetime, datetime]:
    """``start`` .. ``end`` checked (end after start, at most ``max_range_days``, and with ``bucket``
    at most ``max_buckets`` buckets), or 400 with the reason."""
    s, e = parse_time(start, hub, "start"), parse_time(end, hub, "end")
    if e <= s:
        raise HTTPException(400, f"end ({e.isoformat()}) must be after start ({s.isoformat()})")
    if e - s > timedelta(days=settings.max_range_days):
        raise HTTPException(400, f"period longer than max_range_days ({settings.max_range_days} days)")
    if bucket is not None:
        check_buckets(bucket, s, e, settings)
    return s, e


def check_buckets(bucket: str, start: datetime, end: datetime, settings: Settings) -> None:
    """Refuse (400) a ``bucket`` × ``start..end`` combination with more than ``max_buckets`` buckets."""
    n = (end - start).total_seconds() / BUCKET_S[bucket]
    if n > settings.max_buckets:
        raise HTTPException(400, f"{int(n)} {bucket} buckets > max_buckets ({settings.max_buckets}); "
                                 f"use a larger bucket or a shorter period")
