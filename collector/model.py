"""Domain records shared by the collector's ingest, engine, store, stats and API.

Plain frozen dataclasses (not pydantic): they are created on the hot ingest
path, after the payload has been validated once by :mod:`hubsense.protocol`.
All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from hubsense.protocol import SensorEvent, SensorKind, SensorState


class OccupancyState(StrEnum):
    FREE = "free"
    OCCUPIED = "occupied"
    UNKNOWN = "unknown"


# Small integer codes of the states, for numpy columns (statistics, :class:`collector.store.base.ColumnReads`).
STATE_CODE = {OccupancyState.FREE: 0, OccupancyState.OCCUPIED: 1, OccupancyState.UNKNOWN: 2}


@dataclass(frozen=True, slots=True)
class ReceivedEvent:
    """A validated sensor event with both clocks: the agent's and the collector's."""

    hub: str
    agent: str
    sensor: str
    kind: SensorKind
    state: SensorState
    ts: datetime  # agent clock
    seq: int
    boot: str
    received: datetime  # collector clock

    @classmethod
    def from_message(cls, msg: SensorEvent, received: datetime) -> ReceivedEvent:
        return cls(msg.hub, msg.agent, msg.sensor, msg.kind, msg.state, msg.ts, msg.seq, msg.boot, received)

    @property
    def key(self) -> tuple[str, str, int]:
        """(agent, boot, seq): identical for a duplicate delivery of the same event."""
        return (self.agent, self.boot, self.seq)


@dataclass(frozen=True, slots=True)
class StateChange:
    """A zone (``desk`` None) or desk changed state at ``at`` (effective time)."""

    hub: str
    zone: str
    desk: str | None
    state: OccupancyState
    at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AgentHealth:
    """One observation of an agent's health (status change or heartbeat)."""

    hub: str
    agent: str
    online: bool
    at: datetime  # collector clock
    boot: str = ""
    clock_offset_s: float = 0.0  # agent clock minus collector clock
    queue_depth: int = 0
    dropped: int = 0
    interval_s: float = 0.0  # heartbeat interval; 0 for a status (online/offline) record


@dataclass(frozen=True, slots=True)
class LearnedState:
    """What one hub's occupancy engine has learned (``Engine.learned()``), kept across restarts."""

    hub: str
    at: datetime  # when it was taken (UTC)
    zones: dict[str, dict]  # zone id -> what that zone learned, JSON-able (``ZoneTrack.learned()``)


@dataclass(slots=True)
class DeskView:
    id: str
    name: str
    state: OccupancyState
    since: datetime | None
    p_occupied: float | None = None  # probability that someone is at the desk; None while unknown


@dataclass(slots=True)
class ZoneView:
    """The live state of one zone, as the API shows it."""

    hub: str
    zone: str
    state: OccupancyState
    since: datetime | None  # when the zone entered this state
    last_confirmed: datetime | None  # last time its sensors were known to be alive and reporting
    reason: str = ""
    desks: list[DeskView] = field(default_factory=list)
    stuck_sensors: list[str] = field(default_factory=list)
    p_occupied: float | None = None  # calibrated probability that someone is there; None while unknown

    @property
    def free_desks(self) -> int | None:
        if not self.desks:
            return None
        return sum(1 for d in self.desks if d.state is OccupancyState.FREE)
