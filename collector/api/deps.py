"""FastAPI dependencies: everything a route needs comes from ``app.state`` (set by
:func:`collector.api.app.create_app`), never from module globals.  They are ``async``
because they only read attributes: a sync dependency would cost a thread-pool hop on every request."""

from __future__ import annotations

from fastapi import HTTPException, Request

from collector.settings import Settings
from collector.store.base import Store
from hubsense.config import Hub


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_store(request: Request) -> Store:
    return request.app.state.store


async def get_hubs(request: Request) -> dict[str, Hub]:
    return request.app.state.hubs


async def get_hub(hub: str, request: Request) -> Hub:
    """Path parameter ``{hub}`` resolved to its config, or 404."""
    try:
        return request.app.state.hubs[hub]
    except KeyError:
        raise HTTPException(404, f"unknown hub {hub!r}") from None
