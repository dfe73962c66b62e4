"""``/docs`` (Swagger UI) and ``/redoc``, served offline: their scripts and styles come from the
fastapi-offline package's copy of the Swagger UI and ReDoc distributions (``/docs-assets``), never
from a CDN, so the API documentation works on a hub network without internet access."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from collector.api.access import DOCS
from collector.api.security import GuardedRoute

ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS_URL = "/docs-assets"
# audience: Settings.api_docs_audience
router = APIRouter(include_in_schema=False, dependencies=[DOCS], route_class=GuardedRoute)


@router.get("/openapi.json")
def openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json", title="hubsense API",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
    )


@router.get("/redoc")
def redoc() -> HTMLResponse:
    return get_redoc_html(openapi_url="/openapi.json", title="hubsense API",
                          redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js", redoc_favicon_url="/static/favicon.svg",
                          with_google_fonts=False)


def mount_docs(app: FastAPI) -> None:
    """Add /openapi.json, /docs, /redoc and their assets (create the app with ``openapi_url=None,
    docs_url=None, redoc_url=None``); who may read them is ``Settings.api_docs_audience``."""
    app.include_router(router, tags=["live"])
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
