"""March 2026 in Mötesrum Ekorren: a real Outlook calendar (data/ekorren-outlook.ics)
and what the room's sensors saw, as the engine's state changes and door events.

The calendar has a weekly meeting across the DST change (29 March) with a cancelled, a moved and an
EXDATE'd occurrence, back-to-back bookings, an early start, an overrun into the next booking, an overrun
past the grace, a no-show released and then taken by walk-ins, a no-show with a peek through the door, a
booking whose door was left open (not released), a booking by nobody's organisation and a booking during
which the room's sensors were unknown.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from collector.bookings.calendar import Booking, parse_calendar
from collector.bookings.organisations import Attribution, import_calendar
from collector.model import OccupancyState, StateChange
from hubsense.config import DEFAULT_CONFIG_DIR, Hub, load_hubs

TZ = ZoneInfo("Europe/Stockholm")
ROOM = "motesrum-ekorren"
CALENDAR = Path(__file__).resolve().parent / "data" / "ekorren-outlook.ics"
FREE, OCC, UNK = OccupancyState.FREE, OccupancyState.OCCUPIED, OccupancyState.UNKNOWN
RELEASE_AFTER = timedelta(minutes=15)
AFTER_MONTH = datetime(2026, 4, 2, tzinfo=UTC)


def lt(text: str) -> datetime:
    """'2026-03-03 09:03' in Stockholm as UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ).astimezone(UTC)


def stockholm() -> Hub:
    return load_hubs([DEFAULT_CONFIG_DIR / "stockholm.toml"])["stockholm"]


def bookings(hub: Hub) -> list[Booking]:
    """The calendar's bookings from 28 February to 2 April, attributed to the hub's organisations."""
    data = import_calendar(CALENDAR.read_bytes(), Attribution.of(hub))
    return parse_calendar(data, ROOM, hub.tz, lt("2026-02-28 00:00"), lt("2026-04-02 00:00"))


OCCUPIED = [  # local times the room was occupied
    ("2026-03-03 09:03", "2026-03-03 09:58"),  # styrgrupp 09-10 (CET)
    ("2026-03-03 10:01", "2026-03-03 10:50"),  # workshop 10-11, back to back
    ("2026-03-05 12:50", "2026-03-05 13:55"),  # 13-14, started 10 min early
    ("2026-03-12 09:02", "2026-03-12 10:50"),  # 09-10 overruns into the 10:15-11:00 booking
    ("2026-03-17 13:00", "2026-03-17 14:05"),  # styrgrupp moved to 13-14; 5 min overrun (within the grace)
    ("2026-03-19 15:05", "2026-03-19 16:12"),  # 15-16 overruns 12 min (past the 10 min grace)
    ("2026-03-26 10:40", "2026-03-26 11:30"),  # 10-12 released at 10:15, then taken by walk-ins
    ("2026-03-27 09:00", "2026-03-27 09:30"),  # 09-09:30, an unassigned booking
    ("2026-03-30 14:00", "2026-03-30 14:20"),  # 14-15, then the agent is offline 14:20-14:40
    ("2026-03-30 14:40", "2026-03-30 14:50"),
    ("2026-03-31 09:00", "2026-03-31 09:45"),  # styrgrupp 09-10 after the DST change (CEST)
]
UNKNOWN = [("2026-03-30 14:20", "2026-03-30 14:40")]
DOOR_OPEN = [("2026-03-27 13:05", "2026-03-27 13:06"),  # a peek into the no-show at 13-14: closed again
             ("2026-03-27 15:10", "2026-03-27 15:40")]  # 15-16: the door stands open at 15:15, not released


def changes(hub_id: str = "stockholm", zone: str = ROOM) -> list[StateChange]:
    out = [StateChange(hub_id, zone, None, FREE, lt("2026-02-27 00:00"), "test")]
    marks = [(lt(a), OCC, lt(b)) for a, b in OCCUPIED] + [(lt(a), UNK, lt(b)) for a, b in UNKNOWN]
    ends = {lt(a) for a, _ in OCCUPIED + UNKNOWN}
    for start, state, end in sorted(marks, key=lambda m: m[0]):
        out.append(StateChange(hub_id, zone, None, state, start, "test"))
        if end not in ends:  # the room is free again (unless another state starts right then)
            out.append(StateChange(hub_id, zone, None, FREE, end, "test"))
    return out


def door_spans() -> list[tuple[datetime, datetime]]:
    return [(lt(a), lt(b)) for a, b in DOOR_OPEN]
