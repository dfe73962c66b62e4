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

import difflib
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from fastapi import HTTPException, Query, Request

from collector.billing.statement import month_span
from collector.bookings.sources import CalendarSources
from collector.bookings.watch import RoomWatch
from collector.live import LiveState
from collector.settings import Settings
from collector.store.base import Store
from hubsense.config import Hub, Zone

Format = Literal["json", "csv"]
Dialect = Literal["standard", "excel-sv"]
Bucket = Literal["hour", "day", "week", "month"]
START = Query(..., description="Period start, inclusive: ISO 8601 with offset, or YYYY-MM-DD (the hub's "
              "local midnight at the start of that date).")
END = Query(..., description="Period end, EXCLUSIVE: ISO 8601 with offset, or YYYY-MM-DD (the hub's local "
            "midnight at the start of that date, so end=2026-04-01 stops before April 1st).")
ZONE = Query(None, description="Only this zone (id, case-insensitive).")
FORMAT = Query("json", description="json, or csv (a manager export: header row, ISO 8601 times).")
DIALECT = Query("standard", description="With format=csv: 'standard' (comma-separated, '.' decimals, "
                "ISO 8601 UTC times) or 'excel-sv' for Swedish Excel (semicolons, UTF-8 BOM, decimal comma, "
                "rounded figures, the hub's local times, named weekdays, a named whole-hub row).")
MONTH = Query(..., description="A month of the hub's local calendar, YYYY-MM (e.g. 2026-03).")
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


def visible_hubs(request: Request) -> dict[str, Hub]:
    """The hubs the caller may see: every hub, or those of a hub-scoped token (the guard leaves the
    token's grant in ``request.state.grant``; routes that list hubs declare ``EACH_HUB``)."""
    hubs: dict[str, Hub] = request.app.state.hubs
    grant = getattr(request.state, "grant", None)
    if grant is None or grant.hubs is None:
        return hubs
    return {hub_id: hub for hub_id, hub in hubs.items() if hub_id in grant.hubs}


async def get_visible_hubs(request: Request) -> dict[str, Hub]:
    return visible_hubs(request)


async def get_rooms(request: Request) -> RoomWatch:
    return request.app.state.rooms


async def get_hub(hub: str, request: Request) -> Hub:
    """Path parameter ``{hub}`` resolved to its config, or 404."""
    return find_hub(request.app.state.hubs, hub)


# --- hubs and zones by id -------------------------------------------------------------

def unknown_id(what: str, value: str, known: Iterable[str], where: str = "") -> str:
    """'unknown zone 'x' in hub 'h'; did you mean 'y'? (zones: a, b, c)': a 404 that helps."""
    known = list(known)
    close = difflib.get_close_matches(value.lower(), known, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown {what} {value!r}{where}{hint} ({what}s: {', '.join(known) or 'none'})"


def find_hub(hubs: dict[str, Hub], hub_id: str) -> Hub:
    """The hub with this id (ids are lower case, so 'Stockholm' finds 'stockholm'), or 404."""
    hub = hubs.get(hub_id) or hubs.get(hub_id.lower())
    if hub is None:
        raise HTTPException(404, unknown_id("hub", hub_id, hubs))
    return hub


def find_zone(hub: Hub, zone_id: str) -> Zone:
    """The zone with this id in the hub (case-insensitive), or 404 naming the hub's zones."""
    for candidate in (zone_id, zone_id.lower()):
        try:
            return hub.zone(candidate)
        except KeyError:
            continue
    raise HTTPException(404, unknown_id("zone", zone_id, (z.id for z in hub.zones), f" in hub {hub.id!r}"))


def select_zones(hub: Hub, zone: str | None) -> list[Zone]:
    """All zones of the hub, or the one named by ``?zone=`` (404 if unknown)."""
    return list(hub.zones) if zone is None else [find_zone(hub, zone)]


# --- periods ------------------------------------------------------------------------

# Times the API takes: hubsense stores epoch microseconds, and local-time arithmetic (days, weeks,
# time zones) must have room on both sides.  Beyond this a request is a 400, never an overflow.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def parse_time(value: str, hub: Hub, name: str) -> datetime:
    """``start`` / ``end`` as a UTC datetime (a bare date is the hub's local midnight), or 400."""
    if len(value) > 19 and value[-6] == " ":  # an unencoded '+' of the offset arrives as a space
        value = f"{value[:-6]}+{value[-5:]}"
    try:
        if len(value) == 10:
            parsed = datetime.combine(date.fromisoformat(value), time(0), hub.tz)
        else:
            parsed = datetime.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"{name}: {value!r} is not an ISO 8601 date or date-time") from None
    if parsed.tzinfo is None:
        raise HTTPException(400, f"{name}: {value!r} has no UTC offset; add one, e.g. 'Z' or '+01:00'")
    try:
        utc = parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+14:00 has no UTC date
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise HTTPException(400, f"{name}: {value!r} is outside {EARLIEST:%Y-%m-%d} .. {LATEST:%Y-%m-%d} (UTC)")
    return utc


def bounded_date(value: date, name: str) -> date:
    """A local date inside the range the API takes (``EARLIEST`` .. ``LATEST``), or 400."""
    if not EARLIEST.date() < value < LATEST.date():  # a day's margin for any time zone
        raise HTTPException(400, f"{name}: {value.isoformat()} is outside {EARLIEST:%Y-%m-%d} .. {LATEST:%Y-%m-%d}")
    return value


def period(hub: Hub, start: str, end: str, settings: Settings, bucket: str | None = None) -> tuple[datetime, datetime]:
    """``start`` .. ``end`` checked (end after start, at most ``max_range_days``, and with ``bucket``
    at most ``max_buckets`` buckets), or 400 with the reason."""
    s, e = parse_time(start, hub, "start"), parse_time(end, hub, "end")
    if e <= s:
        raise HTTPException(400, f"end ({end}) must be after start ({start}); end is exclusive, so one day "
                                 f"is start={start[:10]}&end=<the next day>")
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


def month_period(hub: Hub, value: str) -> tuple[datetime, datetime]:
    """``month=YYYY-MM`` as [local midnight of the 1st, of the next 1st) in UTC, or 400 with the reason."""
    try:
        return month_span(hub, value)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
