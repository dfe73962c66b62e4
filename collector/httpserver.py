"""The HTTP server's own limits: what uvicorn does before a request reaches the app.

uvicorn (httptools) reads request headers without a size limit or a deadline, and holds every
connection it accepts: one request with 64 MB of headers cost ~60 MB of RSS and got no answer, and
~20,000 connections that trickle a byte now and then made the API unavailable.  The protocol class
here adds, per connection:

* a header size limit: over ``http_max_header_bytes`` the client gets ``431`` and is closed, while
  the headers are still arriving (memory stays bounded by the limit plus one read);
* a header deadline: headers not complete ``http_header_timeout_s`` after the connection opened (or
  after the first byte of a further request on it) get ``408`` and the connection is closed;
* a connection cap: past ``http_max_connections`` (kept below the process's file-descriptor limit)
  the connection that has waited longest without a request in progress, a slow one or an idle
  keep-alive one, is closed to make room; only when every connection is busy (SSE streams,
  requests being answered) is the newcomer turned away with ``503``;
* the security headers of :mod:`collector.api.security` on every response the server writes itself
  (400 for a malformed request, 408, 431, 503), which never pass through the app's middleware.

Idle keep-alive connections are closed after ``http_keepalive_s`` by uvicorn itself.
"""

from __future__ import annotations

import logging
import resource
from functools import partial

import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from collector.api.security import CSP, HEADERS
from collector.settings import Settings

log = logging.getLogger(__name__)

FD_RESERVE = 64  # descriptors kept for the store, the broker connection, logs, ...
_SECURITY = b"".join(f"{name}: {value}\r\n".encode() for name, value in (("content-security-policy", CSP), *HEADERS))


class HardenedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits above (``limits`` is bound by :func:`server_config`)."""

    def __init__(self, *args, limits: Limits, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self._header_bytes = 0  # bytes received since the current request began, until its headers are complete
        self._header_size = 0  # URL + header names and values parsed so far
        self._awaiting_headers = True
        self._header_timer = None
        self._evicted = False
        self._refused = False

    # -- connection --------------------------------------------------------------------

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        waiting = _waiting(self.server_state)
        waiting[self] = None
        self._arm_header_timer()
        if len(self.connections) > self.limits.max_connections:
            self._make_room(waiting)

    def connection_lost(self, exc) -> None:
        _waiting(self.server_state).pop(self, None)
        if self._evicted:
            self.server_state.hubsense_evicted -= 1
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _make_room(self, waiting: dict) -> None:
        state = self.server_state
        for victim in list(waiting):
            if len(self.connections) - _evicted(state) <= self.limits.max_connections:
                return
            if victim is not self and not victim.transport.is_closing():
                waiting.pop(victim, None)
                victim._evicted = True  # its connection_lost comes later; count it as gone now
                state.hubsense_evicted = _evicted(state) + 1
                victim.transport.close()
        if len(self.connections) - _evicted(state) > self.limits.max_connections:
            self._refuse(503, "too many connections")

    # -- request headers ---------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._awaiting_headers:
            self._header_bytes += len(data)
        super().data_received(data)
        if self._awaiting_headers and self._header_bytes > self.limits.max_header_bytes:
            self._refuse(431, "request headers too large")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._awaiting_headers = True
        self._header_size = 0
        _waiting(self.server_state)[self] = None  # a further request on a kept-alive connection
        if self._header_timer is None:
            self._arm_header_timer()

    def on_url(self, url: bytes) -> None:
        self._header_size += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_size += len(name) + len(value) + 4
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._header_bytes = 0
        self._cancel_header_timer()
        _waiting(self.server_state).pop(self, None)
        if self._header_size > self.limits.max_header_bytes:  # all of it arrived in one read
            self._refuse(431, "request headers too large")
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._refused:
            super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            _waiting(self.server_state)[self] = None  # idle until the next request: may make room

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.limits.header_timeout_s, self._header_timeout)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timeout(self) -> None:
        self._header_timer = None
        if self._awaiting_headers and self._header_bytes and not self.transport.is_closing():
            self._refuse(408, "request headers not received in time")
        elif self._awaiting_headers and not self.transport.is_closing():
            self.transport.close()  # nothing sent at all: no answer owed

    # -- answers the server writes itself ------------------------------------------------

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, msg)

    def _refuse(self, status: int, msg: str) -> None:
        self._refused = True
        if self.transport.is_closing():
            return
        body = f'{{"detail":"{msg}"}}'.encode()
        self.transport.write(b"".join([
            STATUS_LINE[status],
            *(name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers),
            _SECURITY,
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]))
        self.transport.close()
        self._awaiting_headers = False
        self._cancel_header_timer()


class Limits:
    def __init__(self, max_header_bytes: int, header_timeout_s: float, max_connections: int) -> None:
        self.max_header_bytes = max_header_bytes
        self.header_timeout_s = header_timeout_s
        self.max_connections = max_connections


def _waiting(server_state) -> dict:
    """Connections without a request in progress, oldest first (a dict keeps insertion order)."""
    waiting = getattr(server_state, "hubsense_waiting", None)
    if waiting is None:
        waiting = server_state.hubsense_waiting = {}
    return waiting


def _evicted(server_state) -> int:
    return getattr(server_state, "hubsense_evicted", 0)


def connection_cap(wanted: int) -> int:
    """``wanted``, but below the file-descriptor limit, which is raised to its hard maximum first."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, wanted + FD_RESERVE)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            log.warning("could not raise the open-files limit from %s to %s", soft, target)
    if soft == resource.RLIM_INFINITY:
        return wanted
    cap = min(wanted, soft - FD_RESERVE)
    if cap < wanted:
        log.warning("http_max_connections %d lowered to %d by the open-files limit (%d)", wanted, cap, soft)
    return max(cap, 16)


def server_config(app, settings: Settings, **kwargs) -> uvicorn.Config:
    """The uvicorn configuration of the collector's API (``kwargs``: further uvicorn options)."""
    limits = Limits(settings.http_max_header_bytes, settings.http_header_timeout_s,
                    connection_cap(settings.http_max_connections))
    return uvicorn.Config(
        app, host=settings.http_host, port=settings.http_port, log_level="warning", access_log=False,
        http=partial(HardenedHttpToolsProtocol, limits=limits), timeout_keep_alive=settings.http_keepalive_s,
        server_header=False, **kwargs,
    )
