"""What the booking facts need from a store, read through the :class:`~collector.store.base.Store`
protocol only: a room's state intervals (the occupancy engine's stored state changes) and when its
door was open (raw door events, kept ``events_retention_days``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from collector.bookings.facts import States, door_open_spans
from collector.bookings.usage import Interval, state_intervals
from collector.model import OccupancyState
from collector.store.base import Store, event_times
from hubsense.config import Hub
from hubsense.protocol import SensorState, Signal, kind_spec, kinds_feeding

DOOR_LOOKBACK = timedelta(hours=12)  # how far back a door's last state is looked for


def room_states(store: Store, hub: Hub, zone: str, start: datetime, end: datetime) -> States:
    """The room's states over [start, end) (unknown before its first stored change)."""
    if end <= start:
        return {state: [] for state in OccupancyState}
    return state_intervals(store.changes(hub.id, start, end, zone), zone, start, end)


def door_spans(store: Store, hub: Hub, start: datetime, end: datetime) -> dict[str, list[Interval]]:
    """When each room's door was open in [start, end), by zone (rooms without a door sensor: none)."""
    doors = {s.id: s.zone for _, s in hub.sensors().values() if kind_spec(s.kind).signal is Signal.DOOR}
    if not doors or end <= start:
        return {}
    events: dict[str, dict[str, list[tuple[datetime, bool]]]] = {}
    for kind in kinds_feeding(Signal.DOOR):
        for state, opened in ((SensorState.OPEN, True), (SensorState.CLOSED, False)):
            for sensor, times in event_times(store, hub.id, kind, state, start - DOOR_LOOKBACK, end).items():
                if sensor in doors:
                    events.setdefault(doors[sensor], {}).setdefault(sensor, []).extend(
                        (datetime.fromtimestamp(t, UTC), opened) for t in times.tolist())
    return {zone: door_open_spans(by_sensor, end) for zone, by_sensor in events.items()}
