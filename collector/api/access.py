"""Who may call a route, declared where the route is declared.

Every route (or its router) lists exactly one audience among its dependencies::

    router = APIRouter(dependencies=[LIVE])            # every route of this router
    @router.get("/api/hubs/{hub}/heatmap", dependencies=[MANAGER])   # one route

The declaration itself checks nothing: every route is a :class:`collector.api.security.GuardedRoute`,
which takes the declaration out of FastAPI's dependencies when the route is made (so no request
resolves it), works out once what to check (:func:`route_access`, :func:`hub_scope`) and checks the
token before FastAPI resolves the route's parameters.  A route that
declares no audience is manager-only (deny by default), and ``tests/collector/api/test_access.py``
fails for any such route in the app.  Any ``format=csv`` export needs a manager, whatever the route
declares.

Hub scopes (tokens limited to some hubs, :class:`collector.auth.Grant`) are checked by the same
guard, from the route alone:

* a route with a ``{hub}`` path parameter (or a ``hub`` query parameter) shows that hub: a token
  of other hubs gets 403;
* a route without one that lists several hubs declares :data:`EACH_HUB` and keeps only the hubs
  the token may see (:func:`collector.api.params.visible_hubs`);
* any other route spans every hub (``/metrics``): a hub-scoped token gets 403 there (deny by
  default again, so a new cross-hub route never leaks another hub's data).

``tests/collector/api/test_hub_scope.py`` walks every route of the app with a token of another hub.
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


class EachHub:
    """Marks a route that shows several hubs and keeps only those the token may see."""

    async def __call__(self) -> None:
        return None

    def __repr__(self) -> str:
        return "EachHub()"


class HubScope(StrEnum):
    """How the guard checks a hub-scoped token on a route (see the module docstring)."""

    NONE = "none"  # public: no hub's data
    HUB = "hub"  # the {hub} path (or ?hub=) parameter names the hub shown
    EACH_HUB = "each_hub"  # lists several hubs, filtered to the token's
    ALL_HUBS = "all_hubs"  # spans every hub: unscoped tokens only


PUBLIC = Depends(Audience(Access.PUBLIC))
LIVE = Depends(Audience(Access.LIVE))
MANAGER = Depends(Audience(Access.MANAGER))
# /openapi.json, /docs, /redoc: Settings.api_docs_audience (manager in production, unless set)
DOCS = Depends(Audience(Access.MANAGER, setting="api_docs_audience"))
EACH_HUB = Depends(EachHub())


def markers(route: object) -> list[Audience | EachHub]:
    """The declarations a route carries: kept aside by a guarded route, else still among its dependencies."""
    kept = getattr(route, "markers", None)
    if kept is not None:
        return list(kept)
    if not isinstance(route, APIRoute):
        return []
    return [d.call for d in route.dependant.dependencies if isinstance(d.call, Audience | EachHub)]


def is_marker(dependency: object) -> bool:
    """Whether a ``Depends(...)`` is one of the declarations above (LIVE, MANAGER, EACH_HUB, ...)."""
    return isinstance(getattr(dependency, "dependency", None), Audience | EachHub)


def declared(route: object, settings: object | None = None) -> list[Access]:
    """The audiences a route declares (its own and its router's)."""
    if not isinstance(route, APIRoute):
        return []
    return [m.resolve(settings) for m in markers(route) if isinstance(m, Audience)]


def route_access(route: object, settings: object | None = None) -> Access:
    """The audience the guard enforces: the strictest declared, manager-only if none is."""
    return max(declared(route, settings), key=_RANK.__getitem__, default=Access.MANAGER)


def names_hub(route: object) -> bool:
    """Whether the route takes a ``hub`` path or query parameter (the hub it shows)."""
    if not isinstance(route, APIRoute):
        return False
    return "{hub}" in route.path or "hub" in _query_names(route.dependant)


def takes_format(route: object) -> bool:
    """Whether the route has a ``format`` query parameter (``?format=`` elsewhere is a 400)."""
    dependant = getattr(route, "dependant", None)
    return dependant is not None and any(p.name == "format" for p in dependant.query_params)


def _query_names(dependant) -> set[str]:
    """Query parameter names of a dependant and all its sub-dependencies."""
    names = {p.name for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def hub_scope(route: object) -> HubScope:
    """How a hub-scoped token is checked on this route (cached on the route: the guard runs per request)."""
    cached = getattr(route, "_hubsense_scope", None)
    if cached is not None:
        return cached
    declarations = markers(route)
    # public routes, and the API docs (audience from a setting), hold no hub's data
    if route_access(route) is Access.PUBLIC or any(isinstance(m, Audience) and m.setting for m in declarations):
        scope = HubScope.NONE
    elif isinstance(route, APIRoute) and any(isinstance(m, EachHub) for m in declarations):
        scope = HubScope.EACH_HUB
    elif names_hub(route):
        scope = HubScope.HUB
    else:
        scope = HubScope.ALL_HUBS
    if route is not None:
        route._hubsense_scope = scope  # type: ignore[attr-defined]
    return scope


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
