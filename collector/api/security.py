"""API access control and HTTP hardening (see docs/security.md).

* :func:`guard` is one app-wide dependency: it decides from the matched route
  which role a request needs (public, live view, manager) and checks the token.
  Paths are manager-only unless listed as public or matched by :data:`LIVE_PATH`,
  so a new route is locked by default; any ``format=csv`` export needs a manager.
* :class:`SecurityMiddleware` adds security headers to every response, limits
  request bodies (413) and turns unhandled exceptions into a bare 500.
* :func:`install_security` wires both (and CORS, when configured) into an app.

Tokens come from ``Authorization: Bearer …``; for the live view also from
``?token=`` (EventSource cannot set headers) or the ``hubsense_token`` cookie,
which ``/?token=…`` sets so a kiosk needs the token in its URL only once.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, time
from enum import StrEnum
from functools import lru_cache

import anyio
from fastapi import FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from collector.auth import Role, TokenStore
from collector.settings import Settings

log = logging.getLogger(__name__)


class Access(StrEnum):
    PUBLIC = "public"
    LIVE = "live"
    MANAGER = "manager"


# /manager is a static page without data: its API calls carry the manager token (typed into the page)
PUBLIC_PATHS = frozenset({"/healthz", "/manager"})
KIOSK_PAGES = frozenset({"/", "/kiosk"})  # ``?token=`` here also sets the cookie
# The member live view: dashboard page, hubs, zones (and desks), the SSE stream.  Matched on the URL path
# (ids cannot contain '/'), so it does not depend on how routers are included.
# The busy-times forecast is for members ("usually free at this time"), so it is live-level too
# (its CSV export, like every CSV, needs a manager).
LIVE_PATH = re.compile(
    r"^/$|^/kiosk$|^/api/stream$|^/api/hubs(/[^/]+(/(zones|desks)(/[^/]+)?|/forecast)?)?$"
)
MANAGER_SEGMENTS = frozenset({"utilisation", "heatmap", "sessions", "agents", "export", "exports"})
COOKIE = "hubsense_token"
COOKIE_MAX_AGE_S = 400 * 86400
_SET_COOKIE_KEY = "hubsense_set_cookie"
_SCRYPT_SLOTS = anyio.CapacityLimiter(2)  # scrypt needs 16 MiB and ~50 ms: never many at once


@lru_cache(maxsize=4096)
def required_access(path: str, query_format: str | None) -> Access:
    """Which role a request needs; anything not known to be public or live is manager-only."""
    if path in PUBLIC_PATHS:
        return Access.PUBLIC
    if query_format == "csv" or MANAGER_SEGMENTS.intersection(path.split("/")):
        return Access.MANAGER
    if LIVE_PATH.match(path):
        return Access.LIVE
    return Access.MANAGER


def get_token_store(app: FastAPI) -> TokenStore:
    store = getattr(app.state, "tokens", None)
    if store is None:
        store = app.state.tokens = TokenStore(app.state.settings.tokens_path)
    return store


def _bearer(request: Request) -> str | None:
    for name, raw in request.scope["headers"]:
        if name == b"authorization":
            scheme, _, token = raw.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": 'Bearer realm="hubsense"'})


async def _verify(tokens: TokenStore, token: str) -> Role | None:
    cached = tokens.cached(token)
    if cached is not TokenStore.MISS:
        return cached
    return await anyio.to_thread.run_sync(tokens.verify, token, limiter=_SCRYPT_SLOTS)


async def guard(request: Request) -> None:
    """App-wide dependency: authorisation by route, then query bounds."""
    settings: Settings = request.app.state.settings
    query = request.scope.get("query_string", b"")
    # any format=csv counts, even next to format=json: never let guard and route read different values
    csv = bool(query) and "csv" in request.query_params.getlist("format")
    access = required_access(request.scope["path"], "csv" if csv else None)
    await _authorize(request, settings, access)
    if b"bucket=" in query:
        check_buckets(request, settings)


async def _authorize(request: Request, settings: Settings, access: Access) -> None:
    if access is Access.PUBLIC or (access is Access.LIVE and settings.public_live_view):
        return
    tokens = get_token_store(request.app)
    if access is Access.MANAGER and not settings.production and not tokens.has_role(Role.MANAGER):
        return  # development: nothing to check against yet (production refuses to start like this)
    token = _bearer(request)
    from_query = False
    if token is None and access is Access.LIVE:
        token = request.query_params.get("token")
        from_query = token is not None
        token = token or request.cookies.get(COOKIE)
    if not token:
        raise _unauthorized(f"this needs a {'manager' if access is Access.MANAGER else 'kiosk'} token")
    role = await _verify(tokens, token)
    if role is None:
        raise _unauthorized("invalid or revoked token")
    if access is Access.MANAGER and not role.allows(Role.MANAGER):
        raise HTTPException(403, "this needs a manager token")
    if from_query and request.scope["path"] in KIOSK_PAGES:
        request.state.hubsense_set_cookie = token


# --- query bounds -------------------------------------------------------------------

BUCKET_S = {"hour": 3600, "day": 86400, "week": 7 * 86400, "month": 28 * 86400}


def _when(value: str | None) -> datetime | None:
    """Lenient parse for the bound check only; the route itself rejects bad values."""
    if not value:
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0), UTC)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def check_buckets(request: Request, settings: Settings) -> None:
    """Refuse (400) a ``bucket`` × ``start..end`` combination with more than ``max_buckets`` buckets."""
    q = request.query_params
    size = BUCKET_S.get(q.get("bucket", ""))
    start, end = _when(q.get("start")), _when(q.get("end"))
    if size is None or start is None or end is None:
        return
    n = (end - start).total_seconds() / size
    if n > settings.max_buckets:
        raise HTTPException(400, f"{int(n)} {q['bucket']} buckets > max_buckets ({settings.max_buckets}); "
                                 f"use a larger bucket or a shorter period")


# --- middleware ---------------------------------------------------------------------

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# Swagger UI / ReDoc load their assets from a CDN; only those two pages get this policy.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: "
            "https://fastapi.tiangolo.com; worker-src 'self' blob:; frame-ancestors 'none'")
DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
HEADERS = (
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
)


class _TooLarge(Exception):
    pass


class SecurityMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware: it would buffer the SSE stream and cost throughput)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        csp = DOCS_CSP if scope["path"] in DOCS_PATHS else CSP

        async def send_secured(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                _add_headers(message, csp, scope.get("state", {}).get(_SET_COOKIE_KEY))
            await send(message)

        length, chunked = _body_headers(scope)
        if length > self.max_body_bytes:
            await _plain(send_secured, 413, b'{"detail":"request body too large"}')
            return
        try:
            if chunked:  # no length given: read (at most the limit) now, so a route that never reads
                receive = await self._buffered(receive)  # the body cannot let an oversized one through
            await self.app(scope, self._limited(receive), send_secured)
        except _TooLarge:
            if not started:
                await _plain(send_secured, 413, b'{"detail":"request body too large"}')
        except Exception:
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await _plain(send_secured, 500, b'{"detail":"internal server error"}')
            else:
                raise

    async def _buffered(self, receive: Receive) -> Receive:
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body_bytes:
                raise _TooLarge
        replay = [{"type": "http.request", "body": bytes(body), "more_body": False}]

        async def receive_buffered() -> Message:
            return replay.pop() if replay else await receive()

        return receive_buffered

    def _limited(self, receive: Receive) -> Receive:
        seen = 0

        async def receive_limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    raise _TooLarge
            return message

        return receive_limited


def _body_headers(scope: Scope) -> tuple[int, bool]:
    """(Content-Length or 0, whether the body comes without a length, i.e. chunked)."""
    length, chunked = 0, False
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                length = 0
        elif name == b"transfer-encoding":
            chunked = True
    return length, chunked


def _add_headers(message: Message, csp: str, cookie_token: str | None) -> None:
    headers = MutableHeaders(scope=message)
    headers.setdefault("content-security-policy", csp)
    for name, value in HEADERS:
        headers.setdefault(name, value)
    if cookie_token:
        headers.append("set-cookie", f"{COOKIE}={cookie_token}; Path=/; Max-Age={COOKIE_MAX_AGE_S}; "
                                     "HttpOnly; SameSite=Strict")


async def _plain(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def install_security(app: FastAPI, settings: Settings) -> None:
    """Add CORS (if configured) and the security middleware; call before the app first runs."""
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET"],
                           allow_headers=["Authorization"], allow_credentials=False)
    app.add_middleware(SecurityMiddleware, max_body_bytes=settings.max_body_bytes)
    if not settings.production and not get_token_store(app).has_role(Role.MANAGER):
        log.warning("no manager token in %s: statistics and exports are open to anyone who can reach the API; "
                    "create one with 'hubsense token create --role manager'", settings.tokens_path)
