"""Who may call a route, declared where the route is declared.

Every route (or its router) lists exactly one audience among its dependencies::

    router = APIRouter(dependencies=[LIVE])            # every route of this router
    @router.get("/api/hubs/{hub}/heatmap", dependencies=[MANAGER])   # one route

The declaration itself checks nothing: the app-wide :func:`collector.api.security.guard`
reads it from the matched route (:func:`route_access`) and checks the token.  A route that
declares no audience is manager-only (deny by default), and ``tests/collector/api/test_access.py``
fails for any such route in the app.  Any ``format=csv`` export needs a manager, whatever the route
declares.
"""

from __future__ import annotations

from enum import StrEnum

from fastapi import Depends
from fastapi.routing import APIRoute


class Access(StrEnum):
    PUBLIC = "public"  # anyone (health, the data-free manager page)
    LIVE = "live"  # members: open on the hub network, or a kiosk token (``public_live_view``)
    MANAGER = "manager"  # statistics, exports, sensor health: a manager token


_RANK = {Access.PUBLIC: 0, Access.LIVE: 1, Access.MANAGER: 2}


class Audience:
    """A route's declared audience (a no-op dependency the guard looks for).  ``setting``: the
    audience is a setting's value instead (``access`` is what applies without settings)."""

    def __init__(self, access: Access, setting: str | None = None) -> None:
        self.access = access
        self.setting = setting

    def resolve(self, settings: object | None) -> Access:
        if self.setting is None or settings is None:
            return self.access
        return Access(getattr(settings, self.setting))

    async def __call__(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"Audience({self.setting or self.access.value})"


PUBLIC = Depends(Audience(Access.PUBLIC))
LIVE = Depends(Audience(Access.LIVE))
MANAGER = Depends(Audience(Access.MANAGER))
# /openapi.json, /docs, /redoc: Settings.api_docs_audience (manager in production, unless set)
DOCS = Depends(Audience(Access.MANAGER, setting="api_docs_audience"))


def declared(route: object, settings: object | None = None) -> list[Access]:
    """The audiences a route declares (its own and its router's)."""
    if not isinstance(route, APIRoute):
        return []
    return [d.call.resolve(settings) for d in route.dependant.dependencies if isinstance(d.call, Audience)]


def route_access(route: object, settings: object | None = None) -> Access:
    """The audience the guard enforces: the strictest declared, manager-only if none is."""
    return max(declared(route, settings), key=_RANK.__getitem__, default=Access.MANAGER)


def api_routes(routes: list) -> list[APIRoute]:
    """The API routes among ``app.routes``, also inside included routers (newer FastAPI keeps
    an included router as one entry with its ``original_router``)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif (inner := getattr(route, "original_router", None)) is not None:
            found += api_routes(inner.routes)
    return found


def undeclared_routes(routes: list) -> list[str]:
    """``METHOD path`` of every API route that declares no audience, or more than one."""
    return [f"{','.join(sorted(r.methods))} {r.path}" for r in api_routes(routes) if len(declared(r)) != 1]
