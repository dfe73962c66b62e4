"""Builders for engine tests: a small hub and a scenario driver with times in seconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from collector.engine import Engine
from collector.model import OccupancyState, ReceivedEvent, StateChange, ZoneView
from hubsense.config import Hub, Profile, parse_hub
from hubsense.protocol import SensorKind, SensorState

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday 09:00 in Stockholm
FREE, OCCUPIED, UNKNOWN = OccupancyState.FREE, OccupancyState.OCCUPIED, OccupancyState.UNKNOWN


def at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def mini_hub() -> Hub:
    """Two agents: 'pi-a' watches an open zone (two PIRs) and a room (PIR on pi-a, door on pi-b);
    'pi-b' also watches a desk area with two desks."""
    return parse_hub({
        "id": "mini", "name": "Mini", "timezone": "Europe/Stockholm",
        "opening_hours": [{"days": ["mon", "tue", "wed", "thu", "fri"], "open": "07:00", "close": "19:00"}],
        "zones": [
            {"id": "glade", "name": "Gläntan", "kind": "open", "capacity": 10},
            {"id": "room", "name": "Rummet", "kind": "room", "capacity": 6},
            {"id": "desks", "name": "Skrivbord", "kind": "desk_area", "capacity": 3,
             "desks": [{"id": "d1", "name": "D1"}, {"id": "d2", "name": "D2"}]},
        ],
        "agents": [
            {"id": "pi-a", "sensors": [
                {"id": "glade-pir1", "kind": "pir", "pin": 4, "zone": "glade"},
                {"id": "glade-pir2", "kind": "pir", "pin": 5, "zone": "glade"},
                {"id": "room-pir", "kind": "pir", "pin": 6, "zone": "room"},
            ]},
            {"id": "pi-b", "sensors": [
                {"id": "room-door", "kind": "door", "pin": 4, "zone": "room"},
                {"id": "d1-pir", "kind": "pir", "pin": 5, "zone": "desks", "desk": "d1"},
                {"id": "d2-pir", "kind": "pir", "pin": 6, "zone": "desks", "desk": "d2"},
            ]},
        ],
    })


class Scenario:
    """Drives an engine: every input first advances time to it; alive agents heartbeat at each
    step (interval 3600 s) so long scenarios do not go stale unless a test wants them to."""

    def __init__(self, hub: Hub, profiles: dict[str, Profile] | None = None, agents: list[str] | None = None):
        self.hub = hub
        self.engine = Engine(hub, profiles)
        self.changes: list[StateChange] = []
        self.agent_of = {s.id: (a.id, s.kind) for a in hub.agents for s in a.sensors}
        self.alive = list(agents if agents is not None else [a.id for a in hub.agents])
        self.seq: dict[str, int] = {}
        for agent in self.alive:
            self.changes += self.engine.status(agent, True, at(0))

    def tick(self, s: float) -> None:
        for agent in self.alive:
            self.changes += self.engine.heartbeat(agent, at(s), 3600, {})
        self.changes += self.engine.advance(at(s))

    def ev(self, sensor: str, state: str, s: float, *, received: float | None = None,
           seq: int | None = None, boot: str = "b1") -> list[StateChange]:
        agent, kind = self.agent_of[sensor]
        self.tick(s if received is None else received)
        if seq is None:
            seq = self.seq[agent] = self.seq.get(agent, 0) + 1
        rec = at(s if received is None else received)
        out = self.engine.event(ReceivedEvent(self.hub.id, agent, sensor, SensorKind(kind), SensorState(state),
                                              at(s), seq, boot, rec))
        self.changes += out
        return out

    def view(self, zone: str, s: float | None = None) -> ZoneView:
        if s is not None:
            self.tick(s)
        return next(v for v in self.engine.views(at(s if s is not None else 0)) if v.zone == zone)

    def state(self, zone: str, s: float) -> OccupancyState:
        return self.view(zone, s).state

    def history(self, zone: str, desk: str | None = None) -> list[tuple[OccupancyState, float, str]]:
        return [(c.state, (c.at - T0).total_seconds(), c.reason)
                for c in self.changes if c.zone == zone and c.desk == desk]
