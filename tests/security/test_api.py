"""API roles, token handling and HTTP hardening, through the real app over a real SQLite store."""

from __future__ import annotations

import logging
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from collector.api.security import COOKIE
from collector.auth import Role, create_token, revoke_token
from collector.settings import Settings
from collector.store.sqlite import SqliteStore
from dashboard import STATIC
from tests.support import api_app, collector_settings, running_collector

STATS = "/api/hubs/stockholm/utilisation?start=2026-03-02&end=2026-03-09"
MANAGER_ONLY = [STATS, "/api/hubs/stockholm/heatmap?start=2026-03-02&end=2026-03-09",
                "/api/hubs/stockholm/heatmap?start=2026-03-02&end=2026-03-09&format=csv&format=json",
                "/api/hubs/stockholm/agents", "/metrics",
                "/api/hubs/stockholm/sessions?start=2026-03-02&end=2026-03-09",
                "/api/hubs/stockholm/forecast?format=csv", "/api/hubs/stockholm/zones?format=csv"]
LIVE = ["/api/hubs", "/api/hubs/stockholm/zones", "/api/hubs/stockholm/zones/oasen", "/", "/kiosk",
        "/api/hubs/stockholm/forecast"]  # members see "usually free / busy at this time"


@dataclass(frozen=True)
class Tokens:
    path: Path
    manager: str
    manager_id: str
    kiosk: str


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Tokens:
    """Created once: scrypt is deliberately slow."""
    path = tmp_path_factory.mktemp("tokens") / "tokens.json"
    manager, record = create_token(path, Role.MANAGER, "facility manager")
    kiosk, _ = create_token(path, Role.KIOSK, "entrance screen")
    return Tokens(path, manager, record.id, kiosk)


class Api:
    def __init__(self, tmp_path: Path, tokens: Tokens, **overrides) -> None:
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.tokens_path = tmp_path / "tokens.json"
        shutil.copy(tokens.path, self.tokens_path)
        self.manager, self.manager_id, self.kiosk = tokens.manager, tokens.manager_id, tokens.kiosk
        self.settings = Settings(tokens_path=self.tokens_path, sqlite_path=tmp_path / "db.sqlite3", **overrides)
        self.store = SqliteStore(self.settings.sqlite_path)
        self.app = api_app(self.settings, self.store)
        self.client = TestClient(self.app)

    def get(self, path: str, token: str | None = None, **kw):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.get(path, headers=headers, **kw)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, tokens: Tokens) -> Iterator[Api]:
    a = Api(tmp_path_factory.mktemp("api"), tokens)
    yield a
    a.store.close()


@pytest.fixture
def own_api(tmp_path: Path, tokens: Tokens) -> Iterator[Api]:
    """For tests that change the app or its token file."""
    a = Api(tmp_path, tokens)
    yield a
    a.store.close()


@pytest.fixture(scope="module")
def closed_api(tmp_path_factory: pytest.TempPathFactory, tokens: Tokens) -> Iterator[Api]:
    a = Api(tmp_path_factory.mktemp("closed-api"), tokens, public_live_view=False)
    yield a
    a.store.close()


@pytest.mark.parametrize("path", MANAGER_ONLY)
def test_statistics_and_exports_need_a_manager_token(api: Api, path: str) -> None:
    assert api.get(path).status_code == 401
    assert api.get(path).headers["www-authenticate"].startswith("Bearer")
    assert api.get(path, api.kiosk).status_code == 403
    assert api.get(path, "hs_00000000_" + "x" * 43).status_code == 401
    assert api.get(path, api.manager).status_code == 200


@pytest.mark.parametrize("path", LIVE)
def test_live_view_is_public_by_default(api: Api, path: str) -> None:
    assert api.get(path).status_code == 200


@pytest.mark.parametrize("path", LIVE)
def test_closed_live_view_needs_a_kiosk_or_manager_token(closed_api: Api, path: str) -> None:
    assert closed_api.get(path).status_code == 401
    assert closed_api.get(path, "not-a-token").status_code == 401
    assert closed_api.get(path, closed_api.kiosk).status_code == 200
    assert closed_api.get(path, closed_api.manager).status_code == 200


def test_health_and_the_data_free_manager_page_stay_public(closed_api: Api) -> None:
    assert closed_api.get("/healthz").status_code == 200
    assert closed_api.get("/manager").status_code == 200  # its API calls need the manager token


def test_kiosk_url_token_sets_a_cookie_for_the_live_view_only(closed_api: Api) -> None:
    assert closed_api.get("/api/stream?token=wrong").status_code == 401
    kiosk = TestClient(closed_api.app)
    page = kiosk.get(f"/?token={closed_api.kiosk}")
    assert page.status_code == 200
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={closed_api.kiosk};") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert kiosk.get("/api/hubs").status_code == 200  # the cookie alone
    assert closed_api.client.get("/api/hubs").status_code == 401  # another browser
    manager_cookie = TestClient(closed_api.app, cookies={COOKIE: closed_api.manager})
    assert manager_cookie.get(STATS).status_code == 401  # cookies never unlock manager routes
    assert closed_api.get(f"{STATS}&token={closed_api.manager}").status_code == 401  # nor do URL tokens


def test_revoked_token_is_refused_by_the_running_app(own_api: Api) -> None:
    api = own_api
    assert api.get(STATS, api.manager).status_code == 200  # now cached
    create_token(api.tokens_path, Role.MANAGER, "spare")  # keep a manager so the API stays locked
    assert revoke_token(api.tokens_path, api.manager_id)
    deadline = time.monotonic() + 5
    while api.get(STATS, api.manager).status_code == 200:
        assert time.monotonic() < deadline, "revoked token still accepted"
        time.sleep(0.05)
    assert api.get(STATS, api.manager).status_code == 401


def test_without_any_manager_token_statistics_are_open_only_outside_production(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(tokens_path=tmp_path / "none.json", sqlite_path=tmp_path / "db.sqlite3")
    store = SqliteStore(settings.sqlite_path)
    try:
        with caplog.at_level(logging.WARNING):
            dev = TestClient(api_app(settings, store))
        assert "no manager token" in caplog.text
        assert dev.get(STATS).status_code == 200
        prod = TestClient(api_app(settings.model_copy(update={"production": True}), store))
        assert prod.get(STATS).status_code == 401
    finally:
        store.close()


def test_security_headers_on_every_response(api: Api) -> None:
    responses = [api.get("/"), api.get("/api/hubs"), api.get("/api/hubs/nowhere/zones"), api.get(STATS),
                 api.get("/static/member.js"), api.client.post("/api/hubs", content=b"x" * 70_000)]
    assert [r.status_code for r in responses] == [200, 200, 404, 401, 200, 413]
    for r in responses:
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"


def test_dashboard_loads_nothing_external() -> None:
    external = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import""")
    files = [p for p in STATIC.rglob("*") if p.suffix in {".html", ".js", ".css"}]
    assert files
    for path in files:
        assert not external.search(path.read_text(encoding="utf-8")), path


def test_request_body_limit(api: Api) -> None:
    assert api.client.post("/api/hubs", content=b"x" * 70_000).status_code == 413

    def chunks():  # no Content-Length: the limit is counted while reading
        for _ in range(20):
            yield b"y" * 8192

    assert api.client.post("/api/hubs", content=chunks()).status_code == 413
    assert api.client.post("/api/hubs", content=b"small").status_code == 405


def test_unhandled_error_is_a_bare_500(own_api: Api, caplog: pytest.LogCaptureFixture) -> None:
    api = own_api
    def boom() -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    api.app.add_api_route("/healthz/boom", boom)
    client = TestClient(api.app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR):
        r = client.get("/healthz/boom", headers={"Authorization": f"Bearer {api.manager}"})
    assert r.status_code == 500
    assert r.json() == {"detail": "internal server error"}
    assert "secret" not in r.text and "Traceback" not in r.text
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "secret internal detail" in caplog.text  # logged for the operator


def test_cors_is_off_by_default_and_allows_only_configured_origins(api: Api, tmp_path: Path,
                                                                   tokens: Tokens) -> None:
    preflight = {"Origin": "https://intranet.example", "Access-Control-Request-Method": "GET"}
    assert "access-control-allow-origin" not in api.client.options("/api/hubs", headers=preflight).headers
    other = Api(tmp_path / "cors", tokens, cors_origins=["https://intranet.example"])
    r = other.client.options("/api/hubs", headers=preflight)
    assert r.headers["access-control-allow-origin"] == "https://intranet.example"
    evil = other.client.get("/api/hubs", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in evil.headers
    other.store.close()


def test_too_many_buckets_is_refused(api: Api) -> None:
    hourly_year = "/api/hubs/stockholm/utilisation?start=2025-03-01&end=2026-03-01&bucket=hour"
    r = api.get(hourly_year, api.manager)
    assert r.status_code == 400 and "max_buckets" in r.json()["detail"]
    assert api.get(hourly_year.replace("bucket=hour", "bucket=week"), api.manager).status_code == 200


def test_kiosk_event_stream_with_url_token(broker, tmp_path: Path, tokens: Tokens) -> None:
    """EventSource cannot send headers: over real HTTP the stream takes ``?token=``."""
    shutil.copy(tokens.path, tmp_path / "tokens.json")
    settings = collector_settings(broker, tmp_path, public_live_view=False, tokens_path=tmp_path / "tokens.json")
    with running_collector(settings) as running:
        assert running.get("/api/stream").status_code == 401
        with httpx.stream("GET", f"{running.url}/api/stream?token={tokens.kiosk}", timeout=5) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            assert next(r.iter_lines()) == "retry: 2000"
