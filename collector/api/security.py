"""API access control and HTTP hardening (see docs/security.md).

* :func:`guard` is one app-wide dependency: it reads the audience the matched route
  declares (public, live view, manager: :mod:`collector.api.access`) and checks the token.
  A route that declares none is manager-only, so a new route is locked by default;
  any ``format=csv`` export needs a manager.  It also checks a hub-scoped token against the hub
  the route names (403 for another hub's), refuses it on routes that span every hub, and leaves
  the token's :class:`~collector.auth.Grant` in ``request.state.grant`` for routes that list hubs.
* :class:`SecurityMiddleware` adds security headers to every response, limits
  request bodies (413) and turns unhandled exceptions into a bare 500.
* :class:`HeadAsGet` answers ``HEAD`` like ``GET`` without the body; Starlette's
  ``TrustedHostMiddleware`` answers only configured ``Host`` names (``allowed_hosts``).
* :func:`install_security` wires them (and CORS, when configured) into an app.

Tokens come from ``Authorization: Bearer …``; for the live view also from
``?token=`` (EventSource cannot set headers) or the ``hubsense_token`` cookie,
which ``/?token=…`` sets so a kiosk needs the token in its URL only once.
"""

from __future__ import annotations

import logging

import anyio
from fastapi import FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from starlette.datastructures import MutableHeaders
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from collector.api.access import Access, HubScope, hub_scope, names_hub, route_access
from collector.auth import Grant, Role, TokenStore
from collector.settings import Settings

log = logging.getLogger(__name__)


KIOSK_PAGES = frozenset({"/", "/kiosk"})  # ``?token=`` here also sets the cookie
COOKIE = "hubsense_token"
COOKIE_MAX_AGE_S = 400 * 86400
_SET_COOKIE_KEY = "hubsense_set_cookie"
_SCRYPT_SLOTS = anyio.CapacityLimiter(2)  # scrypt needs 16 MiB and ~50 ms: never many at once


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


async def _verify(tokens: TokenStore, token: str) -> Grant | None:
    cached = tokens.cached(token)
    if cached is not TokenStore.MISS:
        return cached  # type: ignore[return-value]
    return await anyio.to_thread.run_sync(tokens.grant, token, limiter=_SCRYPT_SLOTS)


async def guard(request: Request) -> None:
    """App-wide dependency: authorisation by the audience the matched route declares, then the
    token's hub scope against the hub the route names."""
    settings: Settings = request.app.state.settings
    route = request.scope.get("route")
    access = route_access(route, settings)
    # any format=csv counts, even next to format=json: never let guard and route read different values
    if request.scope.get("query_string") and "csv" in request.query_params.getlist("format"):
        access = Access.MANAGER
    grant = await _authorize(request, settings, access)
    if grant is not None and grant.hubs is not None:
        _check_scope(request, route, grant)
    request.state.grant = grant


def _is_open(request: Request, settings: Settings, access: Access) -> bool:
    """Whether the route answers without a token (public, the public live view, development)."""
    if access is Access.PUBLIC or (access is Access.LIVE and settings.public_live_view):
        return True
    # development: no manager token to check against yet (production refuses to start like this)
    return access is Access.MANAGER and not settings.production and not get_token_store(request.app).has_role(
        Role.MANAGER)


async def _authorize(request: Request, settings: Settings, access: Access) -> Grant | None:
    """The caller's grant (None: anonymous on an open route), or 401 / 403."""
    if access is Access.PUBLIC:
        return None
    open_route = _is_open(request, settings, access)
    token = _bearer(request)
    from_query = False
    if token is None and access is Access.LIVE:
        token = request.query_params.get("token")
        from_query = token is not None
        token = token or request.cookies.get(COOKIE)
    if not token:
        if open_route:
            return None
        raise _unauthorized(f"this needs a {'manager' if access is Access.MANAGER else 'kiosk'} token")
    grant = await _verify(get_token_store(request.app), token)
    if open_route and (grant is None or not grant.role.allows(Role.MANAGER if access is Access.MANAGER
                                                              else Role.KIOSK)):
        return None  # an open route ignores a token that adds nothing (as before hub scopes)
    if grant is None:
        raise _unauthorized("invalid or revoked token")
    if access is Access.MANAGER and not grant.role.allows(Role.MANAGER):
        raise HTTPException(403, "this needs a manager token")
    if from_query and request.scope["path"] in KIOSK_PAGES:
        request.state.hubsense_set_cookie = token
    return grant


def _check_scope(request: Request, route: object, grant: Grant) -> None:
    """403 for a hub-scoped token on another hub's route, or on a route that spans every hub."""
    scope = hub_scope(route)
    if scope is HubScope.NONE:
        return
    named = [request.scope.get("path_params", {}).get("hub")]
    if request.scope.get("query_string") and names_hub(route):
        named += request.query_params.getlist("hub")
    for hub in named:
        if hub is not None and not grant.sees(hub):
            raise HTTPException(403, f"this token is limited to hub(s) {', '.join(sorted(grant.hubs or ()))}; "
                                     f"it may not see hub {hub!r}")
    if scope is HubScope.ALL_HUBS:
        raise HTTPException(403, "this route spans every hub: it needs a token without a hub limit "
                                 f"(this one is limited to {', '.join(sorted(grant.hubs or ()))})")


# --- middleware ---------------------------------------------------------------------

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# Swagger UI / ReDoc (assets served locally, collector/api/docs.py) start from an inline script;
# only those two pages get this policy.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'")
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


class _HeadDone(Exception):
    pass


class HeadAsGet:
    """``HEAD`` answers exactly like ``GET``, without the body (routes are declared for GET only;
    they would answer 405).  The app sees a GET; a streamed response (SSE) is cut after its head."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_head(message: Message) -> None:
            if message["type"] == "http.response.start":
                await send(message)
            elif message["type"] == "http.response.body":
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                raise _HeadDone  # nothing more to send: stop the app (an SSE stream never ends by itself)

        try:
            await self.app({**scope, "method": "GET"}, receive, send_head)
        except _HeadDone:
            pass
        except BaseExceptionGroup as group:  # raised inside a task group (streaming responses)
            rest = group.subgroup(lambda e: not isinstance(e, _HeadDone))
            if rest is not None:
                raise rest from None


def allowed_hosts(settings: Settings) -> list[str]:
    """The Host header values the API answers: the configured ones, and the address it listens on."""
    hosts = list(settings.allowed_hosts)
    if settings.http_host not in ("0.0.0.0", "::", "") and settings.http_host not in hosts:
        hosts.append(settings.http_host)
    return hosts


def install_security(app: FastAPI, settings: Settings) -> None:
    """Add CORS (if configured), trusted hosts, HEAD, and the security middleware (outermost, so
    every answer carries its headers); call before the app first runs."""
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET"],
                           allow_headers=["Authorization"], allow_credentials=False)
    app.add_middleware(HeadAsGet)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(settings), www_redirect=False)
    app.add_middleware(SecurityMiddleware, max_body_bytes=settings.max_body_bytes)
    if not settings.production and not get_token_store(app).has_role(Role.MANAGER):
        log.warning("no manager token in %s: statistics and exports are open to anyone who can reach the API; "
                    "create one with 'hubsense token create --role manager'", settings.tokens_path)
