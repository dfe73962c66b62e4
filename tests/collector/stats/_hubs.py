"""Small hub configs and history builders for the statistics tests."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from collector.model import OccupancyState, StateChange
from hubsense.config import Hub, parse_hub

TZ = ZoneInfo("Europe/Stockholm")
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
FREE, OCC, UNK = OccupancyState.FREE, OccupancyState.OCCUPIED, OccupancyState.UNKNOWN


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


def make_hub(hours: list[dict] | None = None, desks: int = 0, rooms: int = 0) -> Hub:
    """Zone 'z' (open); with desks a desk area 'd' of that many desks; rooms 'r0'.. with doors."""
    zones = [{"id": "z", "name": "Z", "kind": "open", "capacity": 4}]
    if desks:
        zones.append({"id": "d", "name": "D", "kind": "desk_area", "capacity": desks + 2,
                      "desks": [{"id": f"k{i}", "name": f"K{i}"} for i in range(desks)]})
    sensors = [{"id": "z-pir", "kind": "pir", "pin": 4, "zone": "z"}]
    for i in range(rooms):
        zones.append({"id": f"r{i}", "name": f"R{i}", "kind": "room", "capacity": 4})
        sensors.append({"id": f"r{i}-door", "kind": "door", "pin": 5 + i, "zone": f"r{i}"})
    return parse_hub({
        "id": "h", "name": "H", "timezone": "Europe/Stockholm",
        "opening_hours": hours or [{"days": ALL_DAYS, "open": "08:00", "close": "17:00"}],
        "zones": zones, "agents": [{"id": "a", "sensors": sensors}],
    })


def change(state: OccupancyState, at: datetime, zone: str = "z", desk: str | None = None) -> StateChange:
    return StateChange("h", zone, desk, state, at)
