"""The dashboard's pages and static files (the assets live in ``dashboard/static``).

Four pages share one set of static files (vanilla JS modules, CSS, inline SVG):
``/`` the member view, ``/kiosk`` (or ``/?kiosk=1``) the same view large and dark for a wall
screen, ``/manager`` statistics and sensor health, ``/network`` every hub in one table for the
operator, ``/statement`` an organisation's printable monthly statement.  The member pages need at
most a kiosk token (they show only the hubs it may see: ``EACH_HUB``); the manager, network and
statement pages hold no data (their API calls carry the manager token typed into them).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from collector.api.access import EACH_HUB, LIVE, PUBLIC
from collector.api.security import GuardedRoute
from dashboard import STATIC

router = APIRouter(include_in_schema=False, route_class=GuardedRoute)
# Pages change with every deploy; the browser must revalidate them (the JS modules they load too).
NO_CACHE = {"Cache-Control": "no-cache"}


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC / name, headers=NO_CACHE)


@router.get("/", dependencies=[LIVE, EACH_HUB])
def member() -> FileResponse:
    return _page("index.html")


@router.get("/kiosk", dependencies=[LIVE, EACH_HUB])
def kiosk() -> FileResponse:
    return _page("index.html")


@router.get("/manager", dependencies=[PUBLIC])
def manager() -> FileResponse:
    return _page("manager.html")


@router.get("/network", dependencies=[PUBLIC])
def network() -> FileResponse:
    return _page("network.html")


@router.get("/statement", dependencies=[PUBLIC])
def statement() -> FileResponse:
    """An organisation's printable monthly statement (``?hub=&month=&organisation=``): the page holds no
    data, it shows /api/hubs/{hub}/billing/statement with the manager token typed into /manager."""
    return _page("statement.html")


def mount_dashboard(app: FastAPI) -> None:
    app.include_router(router, tags=["live"])
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
