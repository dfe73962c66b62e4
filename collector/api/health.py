"""``GET /healthz``: liveness, broker connection, ingest counters and the spool, for anyone."""

from __future__ import annotations

from fastapi import APIRouter, Request

from collector.api.access import PUBLIC
from collector.api.models import Health, SpoolStatus
from collector.api.security import GuardedRoute
from collector.store.base import ReportsStatus

router = APIRouter(dependencies=[PUBLIC], route_class=GuardedRoute)


@router.get("/healthz", response_model=Health, summary="Liveness and ingest counters")
async def healthz(request: Request) -> Health:
    ingest = request.app.state.ingest
    counters = request.app.state.counters.snapshot()
    connected = bool(ingest and ingest.connected.is_set())
    store = request.app.state.store
    spool = SpoolStatus(**store.status()) if isinstance(store, ReportsStatus) else None
    healthy = (connected or ingest is None) and not (spool and (spool.high_water or not spool.store_available))
    return Health(status="ok" if healthy else "degraded", mqtt_connected=connected,
                  store=request.app.state.settings.store, spool=spool, **counters)

