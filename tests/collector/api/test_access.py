"""Every route declares who may call it (collector/api/access.py); the guard denies the rest."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from collector.api import live
from collector.api.access import MANAGER, Access, api_routes, route_access, undeclared_routes
from collector.api.security import unguarded_routes
from collector.auth import Role, create_token
from collector.settings import Settings
from collector.store.sqlite import SqliteStore
from tests.support import api_app

EXPECTED = {
    # /docs, /redoc, /openapi.json: manager in production
    "/healthz": Access.PUBLIC, "/manager": Access.PUBLIC, "/network": Access.PUBLIC,
    "/": Access.LIVE, "/kiosk": Access.LIVE, "/api/hubs": Access.LIVE, "/api/hubs/{hub}/zones": Access.LIVE,
    "/api/hubs/{hub}/zones/{zone}": Access.LIVE, "/api/stream": Access.LIVE, "/api/hubs/{hub}/forecast": Access.LIVE,
    "/api/hubs/{hub}/rooms": Access.LIVE, "/statement": Access.PUBLIC,
}


@pytest.fixture
def app(tmp_path: Path):
    settings = Settings(tokens_path=tmp_path / "tokens.json", sqlite_path=tmp_path / "db.sqlite3", production=True)
    store = SqliteStore(settings.sqlite_path)
    yield api_app(settings, store)
    store.close()


def test_every_route_of_the_app_declares_one_audience(app) -> None:
    assert len(api_routes(app.routes)) > 10
    assert undeclared_routes(app.routes) == []


def test_the_declared_audiences_are_the_documented_ones(app) -> None:
    """README's API table: public health and manager page, the member live view, manager for the rest."""
    access = {r.path: route_access(r, app.state.settings) for r in api_routes(app.routes)}
    assert {p: a for p, a in access.items() if a is not Access.MANAGER} == EXPECTED
    assert {"/api/hubs/{hub}/utilisation", "/api/hubs/{hub}/agents", "/metrics", "/api/hubs/{hub}/bookings",
            "/openapi.json", "/docs", "/redoc", "/api/network/hubs", "/api/network/utilisation",
            "/api/hubs/{hub}/billing", "/api/hubs/{hub}/billing/statement", "/api/hubs/{hub}/rooms/events"} <= {
        p for p, a in access.items() if a is Access.MANAGER}


def test_every_route_is_guarded_and_an_unguarded_router_is_refused(app, tmp_path: Path) -> None:
    """The guard runs in each route (GuardedRoute): an app with a route of another class would check
    nothing there, so the app factory refuses to build it."""
    assert unguarded_routes(app.routes) == []
    rogue = APIRouter(dependencies=[MANAGER])  # made without route_class=GuardedRoute
    rogue.add_api_route("/api/rogue", lambda: {})
    settings = Settings(tokens_path=tmp_path / "t.json", sqlite_path=tmp_path / "r.sqlite3")
    store = SqliteStore(settings.sqlite_path)
    original = live.router.routes[:]
    live.router.routes.extend(rogue.routes)
    try:
        with pytest.raises(RuntimeError, match="GET /api/rogue"):
            api_app(settings, store)
    finally:
        live.router.routes[:] = original
        store.close()


def test_the_live_view_needs_a_token_on_the_plain_path_too(tmp_path: Path) -> None:
    """GET /api/hubs/{hub}/zones without a query string skips FastAPI's parameter resolution, never the guard."""
    tokens = tmp_path / "tokens.json"
    create_token(tokens, Role.MANAGER, "m")
    kiosk, _ = create_token(tokens, Role.KIOSK, "k", ("ostersund",))
    settings = Settings(tokens_path=tokens, sqlite_path=tmp_path / "db.sqlite3", public_live_view=False)
    store = SqliteStore(settings.sqlite_path)
    try:
        client = TestClient(api_app(settings, store))
        for path in ("/api/hubs/stockholm/zones", "/api/hubs/stockholm/zones?format=json"):
            assert client.get(path).status_code == 401
            assert client.get(path, headers={"Authorization": f"Bearer {kiosk}"}).status_code == 403
        assert client.get("/api/hubs/ostersund/zones", headers={"Authorization": f"Bearer {kiosk}"}).status_code == 200
    finally:
        store.close()


def test_a_route_without_an_audience_is_found_and_denied(app) -> None:
    app.add_api_route("/api/hubs/{hub}/new-report", lambda hub: {"hub": hub})
    assert undeclared_routes(app.routes) == ["GET /api/hubs/{hub}/new-report"]
    client = TestClient(app)
    assert client.get("/api/hubs/stockholm/zones").status_code == 200  # live view: public by default
    assert client.get("/api/hubs/stockholm/new-report").status_code == 401  # undeclared: manager-only
