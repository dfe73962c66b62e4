"""Record builders shared by the store tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from collector.model import AgentHealth, OccupancyState, ReceivedEvent, StateChange
from hubsense.protocol import SensorKind, SensorState

# Recent, so InfluxDB's 90-day raw retention policy accepts the points; whole hour, so tests
# are deterministic in relative terms.
T0 = (datetime.now(UTC) - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)


def event(seq: int, agent: str = "pi-1", hub: str = "hq", boot: str = "b1", sensor: str = "pir-1",
          received_s: float | None = None, state: SensorState = SensorState.MOTION) -> ReceivedEvent:
    """Event ``seq`` of an agent: agent clock T0 + seq s, received 0.25 s later unless given."""
    kind = SensorKind.PIR if state in (SensorState.MOTION, SensorState.NO_MOTION) else SensorKind.DOOR
    ts = T0 + timedelta(seconds=seq, microseconds=123)
    received = T0 + timedelta(seconds=seq + 0.25 if received_s is None else received_s)
    return ReceivedEvent(hub, agent, sensor, kind, state, ts, seq, boot, received)


def change(minute: float, zone: str, state: OccupancyState, desk: str | None = None, hub: str = "hq",
           reason: str = "") -> StateChange:
    return StateChange(hub, zone, desk, state, T0 + timedelta(minutes=minute), reason)


def health(minute: float, agent: str, online: bool = True, hub: str = "hq", **kw) -> AgentHealth:
    return AgentHealth(hub, agent, online, T0 + timedelta(minutes=minute), **kw)
