"""Property-based API test: schemathesis generates requests from the OpenAPI schema; no response may be
a 5xx, with or without a manager token.  The endless SSE stream is left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from collector.api.app import create_app
from collector.auth import Role, create_token
from collector.model import ReceivedEvent
from collector.settings import Settings
from collector.store.sqlite import SqliteStore
from hubsense.protocol import SensorKind, SensorState

MAX_EXAMPLES = 150  # per operation and generation mode; the whole test stays well under a minute


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
    app = create_app(Settings(tokens_path=tmp / "tokens.json", sqlite_path=tmp / "db.sqlite3"), store)
    yield schemathesis.openapi.from_asgi("/openapi.json", app), {"Authorization": f"Bearer {token}"}
    store.close()


def _fuzz(operation, manager: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
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
