"""API access control and HTTP hardening (see docs/security.md).

* :class:`GuardedRoute` is the class of every API route: before FastAPI resolves the route's
  parameters, :func:`guard` checks the token against the audience the route declares (public, live
  view, manager: :mod:`collector.api.access`), worked out once when the route was made.
  A route that declares none is manager-only, so a new route is locked by default;
  any ``format=csv`` export needs a manager.  It also checks a hub-scoped token against the hub
  the route names (403 for another hub's), refuses it on routes that span every hub, and leaves
  the token's :class:`~collector.auth.Grant` in ``request.state.grant`` for routes that list hubs.
* :class:`SecurityMiddleware`, one pure ASGI layer, answers only configured ``Host`` names
  (``allowed_hosts``), answers ``HEAD`` like ``GET`` without the body, limits request bodies (413),
  adds security headers to every response and turns unhandled exceptions into a bare 500.
* :func:`install_security` wires it (and CORS, when configured) into an app.

Tokens come from ``Authorization: Bearer …``; for the live view also from
``?token=`` (EventSource cannot set headers) or the ``hubsense_token`` cookie,
which ``/?token=…`` sets so a kiosk needs the token in its URL only once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from starlette._utils import parse_host_header
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from collector.api.access import (
    Access,
    Audience,
    HubScope,
    api_routes,
    hub_scope,
    is_marker,
    names_hub,
    route_access,
    takes_format,
)
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


class GuardedRoute(APIRoute):
    """An API route that checks who may call it before FastAPI resolves its parameters.

    Every router of the app makes its routes with it (``APIRouter(route_class=GuardedRoute)``; the
    app factory refuses to build an app with any other API route).  The audience markers a route
    declares (``LIVE``, ``MANAGER``, ``EACH_HUB``, ... from :mod:`collector.api.access`) are taken
    out of its FastAPI dependencies here, once, and what the guard checks is worked out now rather
    than per request: a request pays for the token check only, not for resolving no-op dependencies.

    A route whose endpoint is marked with :func:`plain_get` answers a GET without a query string
    from that function directly, after the guard, without FastAPI resolving its parameters (the
    path parameters are already in ``request.path_params``); any other request takes the normal path.
    """

    def __init__(self, path: str, endpoint, *, dependencies=None, **kwargs) -> None:
        dependencies = list(dependencies or ())
        self.markers = tuple(d.dependency for d in dependencies if is_marker(d))
        super().__init__(path, endpoint, dependencies=[d for d in dependencies if not is_marker(d)], **kwargs)
        # an audience from a setting (the API docs) is resolved per request: settings differ between apps
        fixed = not any(isinstance(m, Audience) and m.setting for m in self.markers)
        self.fixed_access = route_access(self) if fixed else None
        self.scope_rule = hub_scope(self)
        self.hub_param = names_hub(self)
        self.takes_format = takes_format(self)
        self.plain_get: Callable[[Request], Response] | None = getattr(endpoint, _PLAIN_GET, None)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in self.methods:  # otherwise FastAPI answers 405
            request = Request(scope, receive)
            await guard(self, request)
            if self.plain_get is not None and not scope.get("query_string") and scope["method"] == "GET":
                await self.plain_get(request)(scope, receive, send)
                return
        await super().handle(scope, receive, send)


_PLAIN_GET = "hubsense_plain_get"


def plain_get(answer: Callable[[Request], Response]) -> Callable[[Callable], Callable]:
    """Mark an endpoint whose GET without a query string ``answer(request)`` gives (with every
    parameter at its default): the hottest routes skip FastAPI's per-request parameter resolution.
    ``answer`` may raise HTTPException like the endpoint; it must give what the endpoint gives."""

    def mark(endpoint: Callable) -> Callable:
        setattr(endpoint, _PLAIN_GET, answer)
        return endpoint

    return mark


async def guard(route: GuardedRoute, request: Request) -> None:
    """Authorisation by the audience the route declares, then the token's hub scope against the hub
    the route names, then ``?format=`` on a route without that form (400)."""
    settings: Settings | None = getattr(request.app.state, "settings", None)
    if settings is None:  # fail closed, and say why
        raise RuntimeError(f"{route.path}: the access guard needs app.state.settings (collector.api.app.create_app "
                           "sets it)")
    access = route.fixed_access or route_access(route, settings)
    query = request.scope.get("query_string")
    # any format=csv counts, even next to format=json: never let guard and route read different values
    formats = request.query_params.getlist("format") if query and b"format=" in query else ()
    if "csv" in formats:
        access = Access.MANAGER
    grant = await _authorize(request, settings, access)
    if grant is not None and grant.hubs is not None:
        _check_scope(request, route, grant)
    request.state.grant = grant
    if formats and not route.takes_format:
        raise HTTPException(400, f"format: {request.url.path} has no CSV or other form; it answers JSON only")


def unguarded_routes(routes: list) -> list[str]:
    """``METHOD path`` of every API route that is not a :class:`GuardedRoute` (it would check nothing)."""
    return [f"{','.join(sorted(r.methods))} {r.path}" for r in api_routes(routes) if not isinstance(r, GuardedRoute)]


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


def _check_scope(request: Request, route: GuardedRoute, grant: Grant) -> None:
    """403 for a hub-scoped token on another hub's route, or on a route that spans every hub."""
    scope = route.scope_rule
    if scope is HubScope.NONE:
        return
    named = [request.scope.get("path_params", {}).get("hub")]
    if request.scope.get("query_string") and route.hub_param:
        named += request.query_params.getlist("hub")
    named = [hub for hub in named if hub is not None]
    for hub in named:
        if not grant.sees(hub):
            raise HTTPException(403, f"this token is limited to hub(s) {', '.join(sorted(grant.hubs or ()))}; "
                                     f"it may not see hub {hub!r}")
    # a route whose optional ?hub= is left out shows every hub, unless it filters (EACH_HUB)
    if scope is HubScope.ALL_HUBS or (scope is HubScope.HUB and not named):
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


_RAW_HEADERS = tuple((name.encode(), value.encode()) for name, value in HEADERS)
_HEADER_NAMES = frozenset(name for name, _ in _RAW_HEADERS) | {b"content-security-policy"}
_CSP = {False: CSP.encode(), True: DOCS_CSP.encode()}
_HOSTS_SEEN_MAX = 1024


class _TooLarge(Exception):
    pass


class _HeadDone(Exception):
    pass


class SecurityMiddleware:
    """Every HTTP answer of the app passes through here, one pure ASGI layer (no BaseHTTPMiddleware:
    it would buffer the SSE stream and cost throughput):

    * trusted hosts: a ``Host`` header not in ``allowed_hosts`` (``*.example.org`` matches subdomains,
      ``*`` anything) gets ``400 Invalid host header``, as Starlette's ``TrustedHostMiddleware`` answers;
    * ``HEAD`` answers exactly like ``GET``, without the body (routes are declared for GET only; they
      would answer 405): the app sees a GET, and a streamed response (SSE) is cut after its head;
    * request bodies over ``max_body_bytes`` get 413 (by ``Content-Length``, or while a chunked body is read);
    * the security headers on every response, the kiosk cookie when the guard asks for it, and an
      unhandled exception becomes a bare 500.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int, allowed_hosts: list[str] | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        hosts = [h.lower() for h in (allowed_hosts if allowed_hosts is not None else ["*"])]
        for pattern in hosts:
            if "*" in pattern[1:] or (pattern.startswith("*") and pattern != "*" and not pattern.startswith("*.")):
                raise ValueError(f"allowed_hosts: {pattern!r}: a wildcard must be like '*.example.org'")
        self.allow_any = "*" in hosts
        self.exact_hosts = frozenset(h for h in hosts if not h.startswith("*"))
        self.host_suffixes = tuple(h[1:] for h in hosts if h.startswith("*."))
        self._seen_hosts: dict[bytes | None, bool] = {}  # Host header -> trusted (one or two values, in practice)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        csp = _CSP[scope["path"] in DOCS_PATHS]

        async def send_secured(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                _add_headers(message, csp, scope.get("state", {}).get(_SET_COOKIE_KEY))
            await send(message)

        length, chunked, host = _request_headers(scope)
        if not self.allow_any and not self._trusted(host):
            await _plain(send_secured, 400, b"Invalid host header", b"text/plain; charset=utf-8")
            return
        if length > self.max_body_bytes:
            await _plain(send_secured, 413, b'{"detail":"request body too large"}')
            return
        try:
            if chunked:  # no length given: read (at most the limit) now, so a route that never reads
                receive = await self._buffered(receive)  # the body cannot let an oversized one through
            if scope["method"] == "HEAD":
                await _as_get(self.app, scope, self._limited(receive), send_secured)
            else:
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

    def _trusted(self, host: bytes | None) -> bool:
        known = self._seen_hosts.get(host)
        if known is None:
            parsed = parse_host_header(host.decode("latin-1") if host is not None else None)  # Starlette's parser
            name = parsed.host.lower() if parsed is not None else None
            known = name is not None and (name in self.exact_hosts or name.endswith(self.host_suffixes))
            if len(self._seen_hosts) >= _HOSTS_SEEN_MAX:  # bounded: a client may send any Host it likes
                self._seen_hosts.clear()
            self._seen_hosts[host] = known
        return known

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


def _request_headers(scope: Scope) -> tuple[int, bool, bytes | None]:
    """(Content-Length or 0, whether the body comes without a length (chunked), the Host header)."""
    length, chunked, host = 0, False, None
    for name, value in scope["headers"]:
        if name == b"host":
            if host is None:
                host = value
        elif name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                length = 0
        elif name == b"transfer-encoding":
            chunked = True
    return length, chunked, host


def _add_headers(message: Message, csp: bytes, cookie_token: str | None) -> None:
    """The security headers the response does not set itself (precomputed bytes: this runs on every answer)."""
    headers = list(message.get("headers", ()))
    present = {name.lower() for name, _ in headers} & _HEADER_NAMES
    if b"content-security-policy" not in present:
        headers.append((b"content-security-policy", csp))
    headers += [h for h in _RAW_HEADERS if h[0] not in present] if present else _RAW_HEADERS
    if cookie_token:
        headers.append((b"set-cookie", f"{COOKIE}={cookie_token}; Path=/; Max-Age={COOKIE_MAX_AGE_S}; "
                                       "HttpOnly; SameSite=Strict".encode("latin-1")))
    message["headers"] = headers


async def _plain(send: Send, status: int, body: bytes, content_type: bytes = b"application/json") -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _as_get(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Run a HEAD request as a GET and send only the head of the answer."""

    async def send_head(message: Message) -> None:
        if message["type"] == "http.response.start":
            await send(message)
        elif message["type"] == "http.response.body":
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            raise _HeadDone  # nothing more to send: stop the app (an SSE stream never ends by itself)

    try:
        await app({**scope, "method": "GET"}, receive, send_head)
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
    """Add CORS (if configured) and the security middleware (outermost, so every answer carries its
    headers); call before the app first runs."""
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET"],
                           allow_headers=["Authorization"], allow_credentials=False)
    app.add_middleware(SecurityMiddleware, max_body_bytes=settings.max_body_bytes,
                       allowed_hosts=allowed_hosts(settings))
    if not settings.production and not get_token_store(app).has_role(Role.MANAGER):
        log.warning("no manager token in %s: statistics and exports are open to anyone who can reach the API; "
                    "create one with 'hubsense token create --role manager'", settings.tokens_path)
