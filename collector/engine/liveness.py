"""Is an agent alive? Status messages, heartbeats and events, judged by receive time."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

INF = math.inf
DEFAULT_INTERVAL_S = 60.0  # assumed heartbeat interval until the agent's first heartbeat says


@dataclass(slots=True)
class AgentTrack:
    id: str
    zones: list[str] = field(default_factory=list)
    first_seen: float | None = None
    last_seen: float | None = None  # newest receive time of any message (status, heartbeat, event)
    offline_at: float | None = None  # set by an 'offline' status, cleared by newer evidence
    interval: float = DEFAULT_INTERVAL_S
    stale: bool = False
    last_heartbeat: float | None = None
    boot: str = ""
    clock_offset: float | None = None  # agent clock minus receive time, seconds

    def reason(self) -> str | None:
        """Why the agent's zones are unknown, or None when it is alive."""
        if self.offline_at is not None:
            return "offline"
        if self.last_seen is None:
            return "no_data"
        return "stale" if self.stale else None

    def reason_at(self, now: float, factor: float) -> str | None:
        """As :meth:`reason`, also judging staleness at ``now`` (read-only)."""
        reason = self.reason()
        if reason is None and now >= self.deadline(factor):
            return "stale"
        return reason

    def deadline(self, factor: float) -> float:
        """When the agent turns stale without further messages."""
        if self.last_seen is None or self.offline_at is not None or self.stale:
            return INF
        return self.last_seen + factor * self.interval

    def seen(self, received: float, now: float, factor: float, clears_offline: bool = True) -> None:
        """Evidence of life received at ``received``; ``now`` is the engine's clock."""
        if self.first_seen is None:
            self.first_seen = received
        if self.last_seen is None or received > self.last_seen:
            self.last_seen = received
        if clears_offline and self.offline_at is not None and received > self.offline_at:
            self.offline_at = None
        self.stale = self.last_seen + factor * self.interval <= now
