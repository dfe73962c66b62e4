"""Property-based API test: schemathesis generates requests from the OpenAPI schema; no response may be
a 5xx, with or without a manager token.  The endless SSE stream is left out."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from collector.auth import Role, create_token
from collector.model import ReceivedEvent
from collector.settings import Settings
from collector.store.sqlite import SqliteStore
from hubsense.protocol import SensorKind, SensorState
from tests.support import api_app

MAX_EXAMPLES = 40  # per operation; ~10 s in all (300 per operation found nothing more either)


def _some_events(now: datetime) -> list[ReceivedEvent]:
    """A few hours of motion on one Stockholm sensor, so statistics have data to chew on."""
    events = []
    for i in range(40):
        ts = now - timedelta(hours=40 - i)
        state = SensorState.MOTION if i % 2 == 0 else SensorState.NO_MOTION
        events.append(ReceivedEvent("stockholm", "sthlm-pi-entre", "pir-lagerelden", SensorKind.PIR, state,
                                    ts, i + 1, "fuzzboot", ts))
    return events


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("schemathesis")
    token, _ = create_token(tmp / "tokens.json", Role.MANAGER, "schemathesis")
    store = SqliteStore(tmp / "db.sqlite3")
    store.add_events(_some_events(datetime.now(UTC)))
    # webhooks only to a name that never resolves: fuzzed subscriptions must not reach any real address
    app = api_app(Settings(tokens_path=tmp / "tokens.json", sqlite_path=tmp / "db.sqlite3",
                           webhook_allowed_hosts=["hooks.invalid"]), store)
    yield schemathesis.openapi.from_asgi("/openapi.json", app), {"Authorization": f"Bearer {token}"}
    store.close()


# Calendar edges (issue 19: 435 x 500 from these): year 1 and year 9999, +-14:00 offsets, the bounds
# of what the API takes (1970 .. 2200) and just beyond.
EDGE_PERIODS = [
    ("0001-01-01", "0001-01-05"), ("0001-01-01T00:00:00+14:00", "0001-01-02T00:00:00-14:00"),
    ("9999-12-25", "9999-12-31"), ("9999-12-30T00:00:00+14:00", "9999-12-31T23:59:59-14:00"),
    ("2026-01-01", "9999-12-31"), ("1970-01-01T00:00:00Z", "1970-01-08T00:00:00Z"),
    ("1970-01-01T00:00:00+14:00", "1970-01-02T00:00:00-14:00"), ("2199-12-25", "2199-12-31T23:59:59-14:00"),
    ("2199-12-31T00:00:00-14:00", "2200-01-01T00:00:00Z"), ("2026-03-01T00:00:00+14:00", "2026-03-02T00:00:00-14:00"),
]


def _realistic(cases: st.SearchStrategy) -> st.SearchStrategy:
    """Free strings are almost never a configured hub, zone or date: half the time use real ones (periods
    sometimes reversed or longer than max_range_days, sometimes at the calendar's edges) so the code
    behind the 404s and 400s runs too."""
    def fix(args: tuple) -> schemathesis.Case:
        case, start, days, use, zone, edge = args
        if not use:
            return case
        if case.path_parameters and "hub" in case.path_parameters:
            case.path_parameters["hub"] = "stockholm"
            if "zone" in case.path_parameters:
                case.path_parameters["zone"] = zone
        if case.query and "start" in case.query and "end" in case.query:
            case.query["start"] = start.isoformat()
            case.query["end"] = (start + timedelta(days=days)).isoformat()
            if edge is not None:
                case.query["start"], case.query["end"] = edge
        if case.query and "zone" in case.query:
            case.query["zone"] = zone
        return case

    dates = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 1, 1))
    zones = st.sampled_from(["lagerelden", "oasen", "skrivbordet", "nowhere"])
    edges = st.one_of(st.none(), st.sampled_from(EDGE_PERIODS))
    return st.tuples(cases, dates, st.integers(-2, 450), st.booleans(), zones, edges).map(fix)


def test_every_edge_period_is_a_400_or_an_answer(api_schema) -> None:
    """Each edge period on each statistics route, deterministically (the fuzzing above samples them)."""
    schema, manager = api_schema
    for operation in (result.ok() for result in schema.get_all_operations()):
        params = {p.name for p in operation.query}
        if not {"start", "end"} <= params:
            continue
        for start, end in EDGE_PERIODS:
            query = {"start": start, "end": end, **({"bucket": "day"} if "bucket" in params else {})}
            case = operation.Case(path_parameters={"hub": "stockholm"} if "{hub}" in operation.path else {},
                                  query=query)
            response = case.call(headers=dict(manager))
            assert response.status_code < 500, (operation.path, start, end, response.status_code)


def _fuzz(operation, manager: dict[str, str]) -> None:
    @given(case=_realistic(operation.as_strategy()))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=dict(manager), checks=[not_a_server_error])
        case.call_and_validate(checks=[not_a_server_error])  # unauthenticated: 401s, never a 5xx

    run()


def test_no_server_errors_for_any_generated_request(api_schema) -> None:
    schema, manager = api_schema
    operations = [result.ok() for result in schema.get_all_operations()]
    tested = []
    for operation in operations:
        if operation.path == "/api/stream":  # endless Server-Sent Events
            continue
        _fuzz(operation, manager)  # parameters are mostly free strings: "positive" cases are weird enough
        tested.append(operation.path)
    assert "/api/hubs/{hub}/utilisation" in tested and "/api/hubs/{hub}/zones" in tested
