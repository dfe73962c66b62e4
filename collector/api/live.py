"""Live routes for members: hubs, zones, the Server-Sent-Event stream."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from collector.api.access import EACH_HUB, LIVE
from collector.api.formats import JSONBytes, csv_response, dumps
from collector.api.models import HubOut, ZoneOut, zone_payload
from collector.api.params import (
    DIALECT,
    FORMAT,
    Dialect,
    Format,
    find_hub,
    find_zone,
    get_hub,
    get_live,
    get_visible_hubs,
    visible_hubs,
)
from collector.api.security import GuardedRoute, plain_get
from collector.live import LiveState
from collector.network import NetworkSummaries
from hubsense.config import Hub

router = APIRouter(dependencies=[LIVE], route_class=GuardedRoute)
KEEPALIVE_S = 15.0


def _zones(hub: Hub, live: LiveState) -> list[dict]:
    now = datetime.now(UTC)
    views = {v.zone: v for v in live.views(hub.id, now)}
    return [zone_payload(z, views[z.id], now) for z in hub.zones]


def _zones_json(request: Request, hub: Hub) -> bytes:
    """The zone list as JSON, built at most once per hub, hub version and second: a wall screen
    polling, or many phones, cost one engine read a second (ages are rounded to it); events at
    other hubs do not invalidate it."""
    live: LiveState = request.app.state.live
    key = (live.hub_versions[hub.id], int(time.time()))
    cache: dict[str, tuple[tuple[int, int], bytes]] = request.app.state.zone_cache
    hit = cache.get(hub.id)
    if hit is not None and hit[0] == key:
        return hit[1]
    body = dumps(_zones(hub, live))
    cache[hub.id] = (key, body)
    return body


@router.get("/api/hubs", response_model=list[HubOut], dependencies=[EACH_HUB],
            summary="The hubs the caller may see, with zone counts by state")
async def list_hubs(request: Request, format: Format = FORMAT, dialect: Dialect = DIALECT,
                    hubs: dict[str, Hub] = Depends(get_visible_hubs)) -> Response:
    # cached per hub and hub version (collector/network.py): a request joins rows, even at 1,000 hubs
    summaries: NetworkSummaries = request.app.state.summaries
    now = datetime.now(UTC)
    if format == "csv":
        rows = [summaries.row(h, now).hub for h in hubs]
        return csv_response(rows, list(HubOut.model_fields), "hubs", dialect)
    return JSONBytes(summaries.hubs_json(hubs, now))


def _zones_plain(request: Request) -> Response:
    """``GET /api/hubs/{hub}/zones`` without a query string: the hottest route (wall screens and phones
    polling, bench/api.py) answers from the cache without FastAPI resolving its parameters."""
    return JSONBytes(_zones_json(request, find_hub(request.app.state.hubs, request.path_params["hub"])))


@router.get("/api/hubs/{hub}/zones", response_model=list[ZoneOut], response_class=JSONBytes,
            summary="Live state of every zone of a hub")
@plain_get(_zones_plain)
async def list_zones(hub: str, request: Request, format: Format = FORMAT, dialect: Dialect = DIALECT) -> Response:
    found = find_hub(request.app.state.hubs, hub)
    if format == "csv":
        return csv_response(_zones(found, request.app.state.live), list(ZoneOut.model_fields),
                            f"{found.id}-zones", dialect, found.tz)
    return JSONBytes(_zones_json(request, found))


@router.get("/api/hubs/{hub}/zones/{zone}", response_model=ZoneOut, response_class=JSONBytes,
            summary="Live state of one zone")
async def get_zone(zone: str, format: Format = FORMAT, dialect: Dialect = DIALECT, hub: Hub = Depends(get_hub),
                   live: LiveState = Depends(get_live)) -> Response:
    z = find_zone(hub, zone)
    now = datetime.now(UTC)
    view = next(v for v in live.views(hub.id, now) if v.zone == z.id)
    payload = zone_payload(z, view, now)
    if format == "csv":
        return csv_response([payload], list(ZoneOut.model_fields), f"{hub.id}-{z.id}", dialect, hub.tz)
    return JSONBytes(dumps(payload))


@router.get(
    "/api/stream",
    summary="Server-Sent Events: one 'zone' event (a ZoneOut as JSON) for every zone that changes, one 'room' "
            "event (a RoomOut) whenever a bookable room's card changes (booked, released, free until ...)",
    response_class=StreamingResponse, dependencies=[EACH_HUB],
)
async def stream(request: Request, hub: str | None = Query(None, description="Only this hub's zones (default: "
                 "every hub the caller may see)."),
                 live: LiveState = Depends(get_live)) -> StreamingResponse:
    hubs: dict[str, Hub] = request.app.state.hubs
    if hub is not None:
        listener = live.broadcaster.subscribe(find_hub(hubs, hub).id)  # 404 if unknown; 'Stockholm' is 'stockholm'
    else:
        visible = visible_hubs(request)
        listener = live.broadcaster.subscribe(None if visible is hubs else visible)

    async def events() -> AsyncIterator[bytes]:
        try:
            yield b"retry: 2000\n\n"
            while True:
                try:
                    item = await asyncio.wait_for(listener.queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield b": keepalive\n\n"
                    continue
                batch = [item]
                while not listener.queue.empty():  # a burst (e.g. many timeouts) goes out as one write
                    batch.append(listener.queue.get_nowait())
                yield b"".join(_sse(hubs, it, datetime.now(UTC)) for it in batch)
        finally:
            live.broadcaster.unsubscribe(listener)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


def _sse(hubs: dict[str, Hub], item: dict, now: datetime) -> bytes:
    """One SSE event: ``zone`` (a ZoneOut) or ``room`` (a RoomOut: a bookable room's card changed)."""
    if item["type"] == "room":
        return b"event: room\ndata: " + dumps(item["room"]) + b"\n\n"
    view = item["view"]
    return b"event: zone\ndata: " + dumps(zone_payload(hubs[view.hub].zone(view.zone), view, now)) + b"\n\n"
