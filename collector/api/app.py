"""The FastAPI app factory.  No module-level app: everything a route needs is
passed in here and reaches routes through ``app.state`` dependencies."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from collector.api import agents as agent_routes
from collector.api import bookings as booking_routes
from collector.api import health as health_routes
from collector.api import live as live_routes
from collector.api import stats as stats_routes
from collector.api.metrics import install_metrics
from collector.api.pages import mount_dashboard
from collector.api.security import guard, install_security
from collector.handler import IngestCounters
from collector.live import LiveState
from collector.settings import Settings
from collector.store.base import Store
from hubsense.config import ConfigError, Hub, load_hubs


def create_app(
    settings: Settings,
    store: Store,
    live: LiveState | None = None,
    ingest=None,
    hubs: dict[str, Hub] | None = None,
) -> FastAPI:
    """Build the API + dashboard app.  ``ingest`` (a running :class:`collector.ingest.Ingest`)
    is optional so the API can be served and tested over a store without MQTT."""
    hubs = hubs if hubs is not None else (live.hubs if live else load_hubs(settings.config_paths))
    live = live or LiveState(hubs, stale_factor=settings.stale_after_factor)
    if settings.default_hub is not None and settings.default_hub not in hubs:
        raise ConfigError([f"default_hub: unknown hub {settings.default_hub!r}; known hubs: {', '.join(hubs)}"])
    app = FastAPI(
        title="hubsense",
        version="0.1.0",
        description="Live zone availability and utilisation statistics for coworking hubs. "
        "Only PIR motion and door states are collected: no images, no identities.",
        dependencies=[Depends(guard)],  # checks the audience each route declares: collector/api/access.py
    )
    app.state.settings = settings
    app.state.store = store
    app.state.hubs = hubs
    app.state.live = live
    app.state.zone_cache = {}  # hub id -> ((live version, second), zones JSON): collector/api/live.py
    app.state.ingest = ingest
    app.state.counters = ingest.counters if ingest else IngestCounters()
    app.include_router(live_routes.router, tags=["live"])
    app.include_router(health_routes.router, tags=["live"])
    app.include_router(agent_routes.router, tags=["health"])
    booking_routes.install_bookings(app)  # raises ValueError if the bookings setting names an unknown zone
    install_metrics(app)  # /metrics, with a registry of this app's own
    app.include_router(stats_routes.router, tags=["statistics"])
    mount_dashboard(app)
    install_security(app, settings)
    return app

