"""The sensor kinds table (hubsense.protocol.SENSOR_KINDS): every kind has exactly one row, and
every consumer looks a kind up there, so a kind without a row raises instead of being taken
for another kind (docs/extending.md)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import numpy as np
import pytest

from collector.engine import Engine
from collector.simulate import hub_messages
from collector.stats.doors import openings_by_zone
from edge.scenario import plan_day
from edge.sensors import state_of
from hubsense import protocol as p
from hubsense.config import Hub, cross_reference_errors


def test_every_sensor_kind_has_a_row() -> None:
    assert set(p.SENSOR_KINDS) == set(p.SensorKind)
    for kind, spec in p.SENSOR_KINDS.items():
        assert spec.kind is kind
        assert spec.active is not spec.idle and spec.rest in spec.states == {spec.active, spec.idle}
        assert kind in p.kinds_feeding(spec.signal)


def test_an_unknown_kind_raises() -> None:
    with pytest.raises(p.UnknownSensorKind, match="'mat' has no row"):
        p.kind_spec("mat")


@pytest.fixture
def without_doors(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the door kind had been added to SensorKind but not to the table."""
    monkeypatch.delitem(p.SENSOR_KINDS, p.SensorKind.DOOR)


@pytest.mark.usefixtures("without_doors")
def test_a_kind_missing_from_the_table_raises_in_every_consumer(stockholm: Hub) -> None:
    door = next(s for a in stockholm.agents for s in a.sensors if s.kind is p.SensorKind.DOOR)
    consumers = {
        "config check": lambda: cross_reference_errors(stockholm),
        "agent pull resistor": lambda: door.model_copy(update={"pull_up": None, "active_high": None}).effective_pull_up,
        "agent state": lambda: state_of(door, True),
        "engine": lambda: Engine(stockholm),
        "statistics": lambda: openings_by_zone(stockholm, {}),
        "agent scenario": lambda: plan_day(stockholm, date(2026, 3, 2), random.Random(1)),
        "simulator": lambda: hub_messages(np.random.default_rng(1), stockholm, datetime(2026, 3, 2, tzinfo=UTC),
                                          datetime(2026, 3, 3, tzinfo=UTC)),
        "wire contract": lambda: p.SensorEvent.model_validate(
            {"v": 1, "hub": "h", "agent": "a", "sensor": "s", "kind": "door", "state": "open",
             "ts": "2026-03-02T09:00:00Z", "seq": 1, "boot": "b"}),
    }
    for name, call in consumers.items():
        with pytest.raises(p.UnknownSensorKind):
            call()
            pytest.fail(f"{name} accepted a kind without a row")
