"""The API server's own limits and manners, against the real collector app under the real uvicorn
(issue 19, defects 3, 11 and 12): header size and time limits, a connection cap that keeps the API
answering under thousands of slow connections, the security headers on the server's own errors,
HEAD, trusted hosts, no slash redirects, and who may read the API documentation."""

from __future__ import annotations

import contextlib
import resource
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from collector.auth import Role, create_token
from collector.httpserver import connection_cap
from collector.service import Collector
from collector.settings import Settings
from collector.store.sqlite import SqliteStore
from hubsense.services import free_port

SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy")


@contextlib.contextmanager
def serving(tmp_path: Path, **overrides) -> Iterator[tuple[str, Settings]]:
    values = dict(http_port=free_port(), sqlite_path=tmp_path / "db.sqlite3", tokens_path=tmp_path / "tokens.json",
                  http_header_timeout_s=1.0, http_keepalive_s=1.0)
    settings = Settings(**{**values, **overrides})
    store = SqliteStore(settings.sqlite_path)
    try:
        with Collector.build(settings, store, mqtt=False).serving() as collector:
            yield collector.url, settings
    finally:
        store.close()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    with serving(tmp_path_factory.mktemp("http"), http_max_connections=300) as running:
        yield running


def _raw(settings: Settings) -> socket.socket:
    return socket.create_connection(("127.0.0.1", settings.http_port), timeout=10)


def _answer(sock: socket.socket) -> tuple[int, dict[str, str]]:
    """Status and headers of the response on ``sock`` (read until the blank line)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in head[1:] if ": " in line)
    return int(head[0].split()[1]), {k.lower(): v for k, v in headers.items()}


def test_huge_headers_get_431_at_once_and_cost_no_memory(api) -> None:
    """Before: one request with 64 MB of headers got no answer and cost ~60 MB of RSS."""
    _, settings = api
    process = psutil.Process()
    before = process.memory_info().rss
    sock = _raw(settings)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
    sent = 0
    with contextlib.suppress(OSError):  # the server closes the connection long before the 64 MB are sent
        chunk = b"a" * (1 << 20)
        for _ in range(64):
            sock.sendall(chunk)
            sent += len(chunk)
    status, headers = _answer(sock)
    assert status == 431 and all(h in headers for h in SECURITY_HEADERS)
    assert sent < 64 << 20
    assert process.memory_info().rss - before < 16 << 20
    sock.close()


def test_headers_that_arrive_too_slowly_get_408_and_idle_connections_are_closed(api) -> None:
    url, settings = api
    slow = _raw(settings)
    slow.sendall(b"GET /healthz HTTP/1.1\r\n")  # and nothing more
    started = time.monotonic()
    status, headers = _answer(slow)
    assert status == 408 and all(h in headers for h in SECURITY_HEADERS)
    assert time.monotonic() - started < settings.http_header_timeout_s + 5
    silent = _raw(settings)  # connects and never says anything: closed without an answer
    silent.settimeout(10)
    assert silent.recv(1) == b""
    with httpx.Client() as client:  # a kept-alive connection is closed after http_keepalive_s
        assert client.get(url + "/healthz").status_code == 200
        time.sleep(settings.http_keepalive_s + 1)
        assert client.get(url + "/healthz").status_code == 200  # httpx reconnects: no error
    for s in (slow, silent):
        s.close()


def test_the_api_keeps_answering_with_far_more_slow_connections_than_its_cap(api) -> None:
    """Before: ~20,000 connections trickling headers held every slot and 887 of 887 requests failed.
    Now, past the cap the connection waiting longest for its headers makes room."""
    url, settings = api
    slow: list[socket.socket] = []
    try:
        for _ in range(1000):  # more than three times the cap of 300
            sock = socket.create_connection(("127.0.0.1", settings.http_port), timeout=10)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nX-Slow: ")
            slow.append(sock)
        answered = 0
        with httpx.Client(timeout=10) as client:
            for _ in range(20):
                answered += client.get(url + "/healthz", headers={"Connection": "close"}).status_code == 200
        assert answered == 20
    finally:
        for sock in slow:
            sock.close()


def test_the_servers_own_400_carries_the_security_headers(api) -> None:
    _, settings = api
    sock = _raw(settings)
    sock.sendall(b"NOT HTTP AT ALL\x00\r\n\r\n")
    status, headers = _answer(sock)
    assert status == 400 and all(h in headers for h in SECURITY_HEADERS)
    sock.close()


def test_head_answers_like_get_without_a_body(api) -> None:
    url, _ = api
    for path in ("/healthz", "/api/hubs", "/api/hubs/stockholm/zones", "/"):
        head, get = httpx.head(url + path), httpx.get(url + path)
        assert head.status_code == get.status_code == 200, path
        assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]
    stream = httpx.head(url + "/api/stream", timeout=5)  # an endless stream: its head, then done
    assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")


def test_only_configured_hosts_and_no_redirect_on_a_trailing_slash(api) -> None:
    """Before: GET /api/hubs/ with Host: evil.example redirected to http://evil.example/api/hubs."""
    url, _ = api
    evil = httpx.get(url + "/api/hubs/", headers={"Host": "evil.example"})
    assert evil.status_code == 400 and "location" not in evil.headers
    assert all(h in evil.headers for h in SECURITY_HEADERS)
    slash = httpx.get(url + "/api/hubs/")
    assert slash.status_code == 404 and "location" not in slash.headers
    assert httpx.get(url + "/api/hubs", headers={"Host": "localhost"}).status_code == 200


@pytest.mark.parametrize(("production", "setting", "public"), [
    (True, None, False), (False, None, True), (True, "public", True), (False, "manager", False),
])
def test_who_reads_the_api_documentation_is_a_setting(tmp_path: Path, production: bool, setting: str | None,
                                                      public: bool) -> None:
    """Before: /openapi.json, /docs and /redoc were public even in production."""
    manager, _ = create_token(tmp_path / "tokens.json", Role.MANAGER, "manager")
    with serving(tmp_path, production=production, api_docs_access=setting) as (url, _):
        for path in ("/openapi.json", "/docs", "/redoc"):
            anonymous = httpx.get(url + path)
            assert (anonymous.status_code == 200) is public, (path, anonymous.status_code)
            assert httpx.get(url + path, headers={"Authorization": f"Bearer {manager}"}).status_code == 200


def test_the_connection_cap_stays_below_the_open_files_limit() -> None:
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    cap = connection_cap(10**9)  # raises the soft limit to the hard one first
    assert cap < resource.getrlimit(resource.RLIMIT_NOFILE)[0] and resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= soft
    assert connection_cap(100) == 100
