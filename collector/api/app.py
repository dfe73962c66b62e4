"""The FastAPI app factory: it only mounts routes.

Everything the routes need is built by the composition root
(:meth:`collector.service.Collector.build`) and handed in as :class:`AppParts`; routes reach it
through ``app.state`` dependencies (:mod:`collector.api.params`), never through module globals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import FastAPI

from collector.api import agents, billing, bookings, health, live, metrics, network, profiles, rooms, stats, webhooks
from collector.api.docs import mount_docs
from collector.api.formats import install_error_bodies
from collector.api.pages import mount_dashboard
from collector.api.security import GuardedRoute, install_security, unguarded_routes
from collector.bookings.sources import CalendarSources
from collector.bookings.watch import RoomWatch
from collector.handler import IngestCounters
from collector.live import LiveState
from collector.metrics import CollectorMetrics
from collector.network import NetworkSummaries
from collector.settings import Settings
from collector.store.base import Store
from hubsense.config import Hub

if TYPE_CHECKING:
    from collector.ingest import Ingest
    from collector.notify.notifier import Notifier


@dataclass(frozen=True)
class AppParts:
    """What the routes read (as ``app.state.<name>``)."""

    settings: Settings
    store: Store
    hubs: dict[str, Hub]
    live: LiveState
    counters: IngestCounters  # the ingest's counters (zeros when the app runs without MQTT)
    metrics: CollectorMetrics
    calendar_sources: CalendarSources
    summaries: NetworkSummaries  # cached per-hub rows of /api/hubs and the network overview
    ingest: Ingest | None = None  # None: the API over a store, without MQTT
    notifier: Notifier | None = None  # webhook subscriptions and their delivery log
    rooms: RoomWatch | None = None  # bookable rooms right now, room events (collector/bookings/watch.py)


def create_app(parts: AppParts) -> FastAPI:
    """Build the API + dashboard app from its parts."""
    app = FastAPI(
        title="hubsense",
        version="0.1.0",
        description="Live zone availability and utilisation statistics for coworking hubs. "
        "Only PIR motion and door states are collected: no images, no identities.",
        # served by collector/api/docs.py (offline assets, an audience of their own)
        openapi_url=None, docs_url=None, redoc_url=None,
        redirect_slashes=False,  # a redirect would echo the Host header; /api/hubs/ is simply 404
    )
    # every route checks the audience it declares (collector/api/access.py) and refuses ?format= where
    # it has no such form: GuardedRoute, also for routes added to the app itself
    app.router.route_class = GuardedRoute
    for name, value in vars(parts).items():
        setattr(app.state, name, value)
    install_error_bodies(app)
    app.state.zone_cache = {}  # hub id -> ((live version, second), zones JSON): collector/api/live.py
    app.include_router(live.router, tags=["live"])
    app.include_router(health.router, tags=["live"])
    app.include_router(agents.router, tags=["health"])
    app.include_router(profiles.router, tags=["health"])
    app.include_router(bookings.router, tags=["bookings"])
    app.include_router(rooms.router, tags=["bookings"])
    app.include_router(billing.router, tags=["billing"])
    app.include_router(metrics.router, tags=["operations"])
    app.include_router(stats.router, tags=["statistics"])
    app.include_router(webhooks.router, tags=["notifications"])
    app.include_router(network.router, tags=["network"])
    mount_dashboard(app)
    mount_docs(app)
    install_security(app, parts.settings)
    if unguarded := unguarded_routes(app.routes):  # fail closed: a router made without route_class=GuardedRoute
        raise RuntimeError(f"routes without the access guard (make their router with route_class=GuardedRoute): "
                           f"{', '.join(unguarded)}")
    return app
