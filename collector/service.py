"""Wire the collector together: store, live state, MQTT ingest, API; run it with uvicorn."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from collector.api.app import create_app
from collector.homeassistant import HomeAssistantPublisher, attach_homeassistant
from collector.ingest import Ingest
from collector.live import LiveState
from collector.settings import Settings
from collector.store import open_store
from collector.store.base import Store
from hubsense.config import ConfigError, Hub, Profile, load_hubs
from hubsense.services import port_in_use

log = logging.getLogger(__name__)


@dataclass
class Collector:
    settings: Settings
    hubs: dict[str, Hub]
    store: Store
    live: LiveState
    ingest: Ingest
    app: FastAPI

    @classmethod
    def build(cls, settings: Settings, store: Store | None = None,
              profiles: dict[str, dict[str, Profile]] | None = None) -> Collector:
        """``profiles`` overrides zone profiles by hub and zone id (the demo shortens timeouts)."""
        hubs = load_hubs(settings.config_paths)
        store = store or open_store(settings)
        live = LiveState(hubs, profiles or {}, stale_factor=settings.stale_after_factor)
        ingest = Ingest(settings, live, store)
        homeassistant = attach_homeassistant(settings, hubs, live, ingest)  # None unless enabled
        app = create_app(settings, store, live=live, ingest=ingest, hubs=hubs)
        app.router.lifespan_context = _lifespan(ingest, store, homeassistant)
        return cls(settings, hubs, store, live, ingest, app)


def _lifespan(ingest: Ingest, store: Store, homeassistant: HomeAssistantPublisher | None = None):
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        ingest.start()
        try:
            yield
        finally:
            if homeassistant is not None:
                homeassistant.close()  # a clean disconnect sends no Last Will: say 'offline' first
            ingest.stop()
            store.close()

    return lifespan


# Open SSE streams never end by themselves: stop waiting for them after this long.
GRACEFUL_SHUTDOWN_S = 3


class PortInUse(RuntimeError):
    pass


def refuse_insecure_production(settings: Settings) -> None:
    """In production mode, empty or default secrets are a configuration error (exit status 2)."""
    from collector.auth import production_problems

    if settings.production and (problems := production_problems(settings)):
        raise ConfigError([f"production mode: {p}" for p in problems])


def serve(settings: Settings) -> None:
    """Run the collector until interrupted."""
    refuse_insecure_production(settings)
    if port_in_use(settings.http_port, settings.http_host):
        raise PortInUse(
            f"port {settings.http_port} on {settings.http_host} is already in use: stop what runs there "
            f"or choose another with --port / HUBSENSE_HTTP_PORT"
        )
    collector = Collector.build(settings)
    config = uvicorn.Config(collector.app, host=settings.http_host, port=settings.http_port,
                            log_level="warning", access_log=False,
                            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
    log.info("API and dashboard on http://%s:%s/", settings.http_host, settings.http_port)
    uvicorn.Server(config).run()
