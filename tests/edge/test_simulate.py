from __future__ import annotations

import threading
from datetime import datetime

from edge.simulate import default_start, run_simulated_hub
from hubsense.config import Hub
from hubsense.protocol import MessageKind, SensorKind, SensorState
from tests.edge.conftest import wait_for


def test_simulated_hub_publishes_valid_events(hub: Hub, broker, recorder_factory) -> None:
    rec = recorder_factory(broker.port, f"hubsense/{hub.id}/+/+")
    stop = threading.Event()
    start = datetime(2026, 11, 30, 9, 30, tzinfo=hub.tz)  # a Monday morning
    result: list[int] = []
    t = threading.Thread(target=lambda: result.append(
        run_simulated_hub(hub, "127.0.0.1", broker.port, 600, 42, stop, start=start)))
    t.start()
    try:
        assert rec.wait_until(lambda r: {e.kind for e in r.events()} == {SensorKind.PIR, SensorKind.DOOR}
                              and len({e.agent for e in r.events()}) == len(hub.agents), 20)
        # the day goes on: some PIR's motion period ends, i.e. the replay drives pins over time
        assert rec.wait_until(lambda r: any(e.state is SensorState.NO_MOTION for e in r.events()), 10)
    finally:
        stop.set()
        t.join(20)
    assert not t.is_alive() and result[0] > 0
    events = rec.events()  # each parsed against the contract
    for agent in {e.agent for e in events}:
        seqs = [e.seq for e in events if e.agent == agent]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert wait_for(lambda: len(rec.of_kind(MessageKind.STATUS)) >= 2 * len(hub.agents))  # online + offline
    assert {m.parsed().state.value for m in rec.of_kind(MessageKind.STATUS)} == {"online", "offline"}


def test_default_start(stockholm: Hub) -> None:
    open_now = datetime(2026, 11, 30, 10, 15, tzinfo=stockholm.tz)
    assert default_start(stockholm, open_now) == open_now
    sunday_night = datetime(2026, 11, 29, 22, 0, tzinfo=stockholm.tz)
    assert default_start(stockholm, sunday_night) == datetime(2026, 11, 30, 6, 55, tzinfo=stockholm.tz)
    saturday_late = datetime(2026, 11, 28, 16, 0, tzinfo=stockholm.tz)
    assert default_start(stockholm, saturday_late) == datetime(2026, 11, 30, 6, 55, tzinfo=stockholm.tz)
