"""The web dashboard: static files served by the collector (nothing fetched from the internet).

Three pages share one set of static files (vanilla JS modules, CSS, inline SVG):
``/`` the member view, ``/kiosk`` (or ``/?kiosk=1``) the same view large and
dark for a wall screen, ``/manager`` statistics and sensor health.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"
# Pages change with every deploy; the browser must revalidate them (the JS modules they load too).
NO_CACHE = {"Cache-Control": "no-cache"}


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC / name, headers=NO_CACHE)


def mount_dashboard(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False, tags=["live"])
    def member() -> FileResponse:
        return _page("index.html")

    @app.get("/kiosk", include_in_schema=False, tags=["live"])
    def kiosk() -> FileResponse:
        return _page("index.html")

    @app.get("/manager", include_in_schema=False, tags=["live"])
    def manager() -> FileResponse:
        return _page("manager.html")

    # Pages carry the "live" tag: with token auth on they need at most a kiosk token (the
    # manager page holds no data; its API calls need a manager token).
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
