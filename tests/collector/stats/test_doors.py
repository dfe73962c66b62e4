from datetime import timedelta

import pytest

from collector.model import ReceivedEvent
from collector.stats.doors import door_openings, door_traffic
from hubsense.protocol import SensorKind, SensorState
from tests.collector.stats._hubs import local, make_hub


def event(sensor: str, state: SensorState, at, kind=SensorKind.DOOR, seq=0) -> ReceivedEvent:
    return ReceivedEvent("h", "a", sensor, kind, state, at, seq, "b", at + timedelta(seconds=1))


def test_openings_per_open_hour_and_by_local_hour():
    hub = make_hub(rooms=2)
    day = (2026, 6, 1)
    events = [event("r0-door", SensorState.OPEN, local(*day, 9, m)) for m in (0, 10, 20)]
    events += [event("r0-door", SensorState.CLOSED, local(*day, 9, 5)),
               event("r0-door", SensorState.OPEN, local(*day, 20)),  # after hours
               event("z-pir", SensorState.MOTION, local(*day, 9), SensorKind.PIR)]
    end = local(2026, 6, 2).timestamp()
    rows = door_traffic(hub, door_openings(hub, events), local(*day).timestamp(), end, end)
    r0, r1 = rows
    assert (r0.zone, r0.openings, r0.openings_open_hours) == ("r0", 4, 3)
    assert r0.per_open_hour == pytest.approx(3 / 9)
    assert r0.by_hour_of_day[9] == 3 and r0.by_hour_of_day[20] == 1 and sum(r0.by_hour_of_day) == 4
    assert (r1.zone, r1.openings, r1.per_open_hour) == ("r1", 0, 0)


def test_open_hours_count_only_up_to_now():
    hub = make_hub(rooms=1)
    day = (2026, 6, 1)
    events = [event("r0-door", SensorState.OPEN, local(*day, 9, m)) for m in (0, 10, 20)]
    now = local(*day, 11).timestamp()  # 3 of the day's 9 open hours have passed
    (r0,) = door_traffic(hub, door_openings(hub, events), local(*day).timestamp(), local(2026, 6, 2).timestamp(), now)
    assert r0.openings_open_hours == 3 and r0.per_open_hour == pytest.approx(3 / 3)
