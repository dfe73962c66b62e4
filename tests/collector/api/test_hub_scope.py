"""Hub-scoped tokens on every route of the app.

The walk reads the routes from the app itself (``app.routes``), so a route added later (billing,
alerts, profiles, ...) is covered without touching this file: with a token of Östersund, every
route that names Stockholm answers 403, every route that lists hubs shows none of Stockholm's
data, and every route that spans all hubs answers 403.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from collector.api.access import HubScope, api_routes, hub_scope, names_hub
from collector.auth import Role, create_token
from collector.handler import MessageHandler, Outcome
from collector.live import LiveState
from collector.service import Collector
from collector.settings import Settings
from collector.simulate import simulate_history
from collector.store.sqlite import SqliteStore
from hubsense import protocol as p
from hubsense.config import Hub
from hubsense.services import Mosquitto
from tests.support import collector_settings, running_collector

MINE, OTHER = "ostersund", "stockholm"  # the scoped tokens are Östersund's; the walk asks for Stockholm
SAMPLE = {"start": "2026-03-02", "end": "2026-03-09"}  # required query parameters by name; others get "x"


@dataclass(frozen=True)
class Tokens:
    path: Path
    manager: str  # Östersund's manager
    kiosk: str  # Östersund's kiosk
    operator: str  # a manager without a hub limit


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Tokens:
    path = tmp_path_factory.mktemp("scope-tokens") / "tokens.json"
    manager, _ = create_token(path, Role.MANAGER, "Östersund manager", (MINE,))
    kiosk, _ = create_token(path, Role.KIOSK, "Östersund entrance", (MINE,))
    operator, _ = create_token(path, Role.MANAGER, "operator")
    return Tokens(path, manager, kiosk, operator)


def feed(live: LiveState, hub: Hub, now: datetime) -> None:
    """Every agent of the hub online, every other sensor active: zones occupied, agents online."""
    handler, out = MessageHandler(live), Outcome()
    for agent in hub.agents:
        status = p.AgentStatus(hub=hub.id, agent=agent.id, boot="b", state=p.AgentState.ONLINE, ts=now)
        handler.handle(p.topic(hub.id, agent.id, p.MessageKind.STATUS), p.encode(status), now, out)
        for seq, sensor in enumerate(agent.sensors[::2], 1):
            ev = p.SensorEvent(hub=hub.id, agent=agent.id, boot="b", sensor=sensor.id, kind=sensor.kind,
                               state=p.kind_spec(sensor.kind).active, ts=now, seq=seq)
            handler.handle(p.topic(hub.id, agent.id, p.MessageKind.EVENT), p.encode(ev), now, out)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, tokens: Tokens, hubs: dict[str, Hub]):
    """The whole app over a store with two days of history of both hubs and a live state of both."""
    tmp = tmp_path_factory.mktemp("scope")
    settings = Settings(tokens_path=tokens.path, sqlite_path=tmp / "db.sqlite3", production=True)
    store = SqliteStore(settings.sqlite_path)
    now = datetime.now(UTC)
    simulate_history(hubs, store, days=2, end=now)
    live = LiveState(hubs)
    for hub in hubs.values():
        feed(live, hub, now)
    collector = Collector.build(settings, store, live=live, mqtt=False)
    collector.summaries.refresh(now)
    yield collector.app
    store.close()


def _url(route: APIRoute, hub: str, zone: str) -> str:
    path = route.path.replace("{hub}", hub).replace("{zone}", zone)
    path = re.sub(r"\{[^}]+\}", "x", path)
    query = {}
    for param in _query_params(route.dependant):
        if param.field_info.is_required():
            query[param.name] = SAMPLE.get(param.name, "x")
    if names_hub(route) and "{hub}" not in route.path:
        query["hub"] = hub
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _query_params(dependant) -> list:
    out = list(dependant.query_params)
    for sub in dependant.dependencies:
        out += _query_params(sub)
    return out


def _call(client: TestClient, method: str, url: str, token: str):
    kw = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    return client.request(method, url, headers={"Authorization": f"Bearer {token}"}, **kw)


def _routes(app) -> list[tuple[APIRoute, str]]:
    return [(r, m) for r in api_routes(app.routes) for m in sorted(r.methods - {"HEAD"})]


def _streams(route: APIRoute) -> bool:
    return "StreamingResponse" in getattr(route.response_class, "__name__", "")


def test_the_walk_sees_the_routes_of_every_concern(app) -> None:
    paths = {r.path for r, _ in _routes(app)}
    assert {"/api/hubs", "/api/hubs/{hub}/zones", "/api/stream", "/api/hubs/{hub}/utilisation",
            "/api/hubs/{hub}/agents", "/api/hubs/{hub}/bookings", "/metrics", "/api/network/hubs",
            "/api/network/utilisation", "/network"} <= paths


def test_every_route_refuses_or_hides_another_hub(app, tokens: Tokens, hubs: dict[str, Hub]) -> None:
    client = TestClient(app)
    other = hubs[OTHER]
    secrets = [other.id, other.name.lower(), other.address.lower()]
    zone = other.zones[0].id
    checked: dict[HubScope, int] = {}
    for route, method in _routes(app):
        scope = hub_scope(route)
        checked[scope] = checked.get(scope, 0) + 1
        if scope is HubScope.NONE:  # public: the same for everyone, no hub's data
            continue
        url = _url(route, OTHER, zone)
        if scope is HubScope.EACH_HUB and not names_hub(route) and _streams(route):
            continue  # an endless stream: its filter is tested below with real events
        for token in (tokens.manager, tokens.kiosk):
            r = _call(client, method, url, token)
            where = f"{method} {url} ({'manager' if token == tokens.manager else 'kiosk'})"
            if scope is HubScope.EACH_HUB and not names_hub(route):
                assert r.status_code < 500, where
                body = r.text.lower().replace("europe/stockholm", "")  # both hubs' time zone
                assert not [s for s in secrets if s in body], f"{where} shows {OTHER}'s data"
            else:  # names another hub, or spans every hub
                assert r.status_code == 403, f"{where}: {r.status_code} {r.text[:200]}"
        if scope is HubScope.HUB and "{hub}" not in route.path and not _streams(route):
            # an optional ?hub= left out: the route would show every hub, so a scoped token is refused
            bare = _call(client, method, url.replace(f"hub={OTHER}", "").rstrip("?&"), tokens.manager)
            assert bare.status_code == 403, f"{method} {route.path} without ?hub=: {bare.status_code}"
        # the operator (a manager without a hub limit) is never refused for a hub
        if not _streams(route):
            assert _call(client, method, url, tokens.operator).status_code not in (401, 403), url
    assert checked.get(HubScope.HUB, 0) >= 8 and checked.get(HubScope.EACH_HUB, 0) >= 4
    assert checked.get(HubScope.ALL_HUBS, 0) >= 1  # /metrics


def test_a_scoped_token_sees_its_own_hub_everywhere(app, tokens: Tokens, hubs: dict[str, Hub]) -> None:
    client = TestClient(app)
    zone = hubs[MINE].zones[0].id
    for route, method in _routes(app):
        if hub_scope(route) is not HubScope.HUB or (_streams(route) and "{hub}" not in route.path):
            continue
        r = _call(client, method, _url(route, MINE, zone), tokens.manager)
        assert r.status_code not in (401, 403) and r.status_code < 500, f"{route.path}: {r.status_code} {r.text}"


def test_hub_lists_show_only_the_tokens_hubs(app, tokens: Tokens) -> None:
    client = TestClient(app)
    auth = lambda t: {"Authorization": f"Bearer {t}"}  # noqa: E731
    assert [h["id"] for h in client.get("/api/hubs", headers=auth(tokens.kiosk)).json()] == [MINE]
    assert {h["id"] for h in client.get("/api/hubs", headers=auth(tokens.operator)).json()} == {MINE, OTHER}
    assert {h["id"] for h in client.get("/api/hubs").json()} == {MINE, OTHER}  # public live view, no token
    network = client.get("/api/network/hubs", headers=auth(tokens.manager)).json()
    assert [h["id"] for h in network["hubs"]] == [MINE]
    compare = client.get("/api/network/utilisation?start=2026-03-02&end=2026-03-09&format=csv",
                         headers=auth(tokens.manager))
    assert compare.status_code == 200 and OTHER not in compare.text and MINE in compare.text
    assert client.get(f"/api/network/utilisation?start=2026-03-02&end=2026-03-09&hub={OTHER}",
                      headers=auth(tokens.manager)).status_code == 403
    # a hub id in another case is the same hub: no way around the scope
    assert client.get(f"/api/hubs/{OTHER.upper()}/zones", headers=auth(tokens.kiosk)).status_code == 403
    assert client.get(f"/api/hubs/{MINE.upper()}/zones", headers=auth(tokens.kiosk)).status_code == 200


def test_the_stream_without_a_hub_carries_only_the_tokens_hubs(broker: Mosquitto, tmp_path: Path,
                                                               tokens: Tokens, hubs: dict[str, Hub]) -> None:
    settings = collector_settings(broker, tmp_path, tokens_path=tokens.path)
    with running_collector(settings) as running, httpx.stream(
        "GET", f"{running.url}/api/stream?token={tokens.kiosk}", timeout=10
    ) as response:
        assert response.status_code == 200
        lines = response.iter_lines()
        assert next(lines).startswith("retry:")
        publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        publisher.connect("127.0.0.1", broker.port)
        publisher.loop_start()
        now = datetime.now(UTC)
        try:
            for hub in (hubs[OTHER], hubs[MINE]):  # the other hub's changes first
                agent = hub.agents[0]
                status = p.AgentStatus(hub=hub.id, agent=agent.id, boot="scope", state=p.AgentState.ONLINE, ts=now)
                publisher.publish(p.topic(hub.id, agent.id, p.MessageKind.STATUS), p.encode(status),
                                  qos=1).wait_for_publish(5)
            received = _read_until(lines, response, lambda e: e["hub"] == MINE)
        finally:
            publisher.loop_stop()
        assert received and received[-1]["hub"] == MINE
        assert {e["hub"] for e in received} == {MINE}


def _read_until(lines: Iterator[str], response: httpx.Response, done, timeout: float = 10.0) -> list[dict]:
    received: list[dict] = []
    timer = threading.Timer(timeout, response.close)
    timer.start()
    try:
        for line in lines:
            if line.startswith("data: "):
                received.append(json.loads(line[6:]))
                if done(received[-1]):
                    break
    except httpx.HTTPError:
        pass
    finally:
        timer.cancel()
    return received


def test_the_stream_of_another_hub_is_refused(app, tokens: Tokens) -> None:
    client = TestClient(app)
    r = client.get(f"/api/stream?hub={OTHER}&token={tokens.kiosk}")
    assert r.status_code == 403 and MINE in r.json()["detail"]


def test_history_and_today_are_in_the_comparison(app, tokens: Tokens) -> None:
    today = datetime.now(UTC).date()
    r = TestClient(app).get(f"/api/network/utilisation?start={today - timedelta(days=2)}&end={today}&bucket=day",
                            headers={"Authorization": f"Bearer {tokens.operator}"})
    assert r.status_code == 200
    series = {s["hub"]: s for s in r.json()["hubs"]}
    assert set(series) == {MINE, OTHER}
    assert all(len(s["buckets"]) == 2 for s in series.values())


def test_a_route_with_an_optional_hub_is_refused_without_it(tmp_path: Path, tokens: Tokens) -> None:
    """A new route that takes ?hub= but shows every hub when it is left out (and does not declare
    EACH_HUB) must not show other hubs to a scoped token."""
    from collector.api.access import MANAGER

    def report(hub: str | None = None) -> dict:
        return {"hub": hub}

    settings = Settings(tokens_path=tokens.path, sqlite_path=tmp_path / "db.sqlite3", production=True)
    store = SqliteStore(settings.sqlite_path)
    app = Collector.build(settings, store, mqtt=False).app
    app.add_api_route("/api/report", report, dependencies=[MANAGER])
    client = TestClient(app, base_url="http://127.0.0.1")
    auth = {"Authorization": f"Bearer {tokens.manager}"}
    assert client.get(f"/api/report?hub={MINE}", headers=auth).status_code == 200
    assert client.get(f"/api/report?hub={OTHER}", headers=auth).status_code == 403
    assert client.get("/api/report", headers=auth).status_code == 403
    assert client.get("/api/report", headers={"Authorization": f"Bearer {tokens.operator}"}).status_code == 200
    store.close()
