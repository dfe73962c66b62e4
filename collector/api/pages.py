"""The dashboard's pages and static files (the assets live in ``dashboard/static``).

Four pages share one set of static files (vanilla JS modules, CSS, inline SVG):
``/`` the member view, ``/kiosk`` (or ``/?kiosk=1``) the same view large and dark for a wall
screen, ``/manager`` statistics and sensor health, ``/network`` every hub in one table for the
operator.  The member pages need at most a kiosk token (they show only the hubs it may see:
``EACH_HUB``); the manager and network pages hold no data (their API calls carry the manager
token typed into them).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from collector.api.access import EACH_HUB, LIVE, PUBLIC
from dashboard import STATIC

router = APIRouter(include_in_schema=False)
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


def mount_dashboard(app: FastAPI) -> None:
    app.include_router(router, tags=["live"])
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
