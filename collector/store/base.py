"""The storage interface every backend (SQLite, InfluxDB) implements.

Backends are used from one ingest thread for writes and from API threads for
reads; each backend handles its own thread safety.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from collector.model import AgentHealth, ReceivedEvent, StateChange


@runtime_checkable
class Store(Protocol):
    def add_events(self, events: Sequence[ReceivedEvent]) -> int:
        """Store raw events; idempotent on (agent, boot, seq).  Returns how many were new."""
        ...

    def add_changes(self, changes: Sequence[StateChange]) -> None:
        """Store zone / desk state changes; idempotent on (hub, zone, desk, at, state)."""
        ...

    def add_health(self, records: Sequence[AgentHealth]) -> None:
        """Store agent health observations."""
        ...

    def changes(
        self, hub: str, start: datetime, end: datetime, zone: str | None = None
    ) -> list[StateChange]:
        """State changes with ``start <= at < end``, ordered by (at, zone, desk), preceded by
        the latest change before ``start`` of each zone / desk, so the state at ``start`` is known."""
        ...

    def events(
        self, hub: str | None = None, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[ReceivedEvent]:
        """Raw events ordered by receive time (``start <= received < end``)."""
        ...

    def event_count(self, hub: str | None = None) -> int:
        ...

    def latest_health(self, hub: str) -> list[AgentHealth]:
        """The newest health record of each agent of the hub."""
        ...

    def close(self) -> None:
        ...
