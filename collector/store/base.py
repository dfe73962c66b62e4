"""The storage interface every backend (SQLite, InfluxDB) implements.

Backends are used from one ingest thread for writes and from API threads for
reads; each backend handles its own thread safety.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from collector.model import AgentHealth, ReceivedEvent, StateChange


class StoreUnavailable(Exception):
    """The backend cannot be reached right now (connection refused, timeout, 5xx).

    Transient by definition: :class:`collector.spool.SpooledStore` keeps the writes
    and replays them later.  Any other exception from a write is a bug or bad data.
    """


@runtime_checkable
class Store(Protocol):
    def add_events(self, events: Sequence[ReceivedEvent]) -> int:
        """Store raw events; idempotent on (agent, boot, seq).  Returns how many were new."""
        ...

    def add_changes(self, changes: Sequence[StateChange]) -> None:
        """Store zone / desk state changes; idempotent on (hub, zone, desk, at, state).

        A zone / desk has one state per instant: a second change with the same
        (hub, zone, desk, at) replaces the first (InfluxDB point semantics)."""
        ...

    def add_health(self, records: Sequence[AgentHealth]) -> None:
        """Store agent health observations; idempotent on (hub, agent, at), the last write wins."""
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
        """Raw events ordered by receive time (``start <= received < end``), ties by (agent, boot, seq)."""
        ...

    def event_count(self, hub: str | None = None) -> int:
        ...

    def health(
        self, hub: str | None = None, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[AgentHealth]:
        """Health records ordered by ``at`` (``start <= at < end``)."""
        ...

    def latest_health(self, hub: str) -> list[AgentHealth]:
        """The newest health record of each agent of the hub."""
        ...

    def prune(self, now: datetime) -> dict[str, int]:
        """Apply retention: delete records older than the configured periods.

        Returns rows deleted per kind (``events``, ``changes``, ``health``).  Backends with
        server-side retention (InfluxDB retention policies) return zeros."""
        ...

    def close(self) -> None:
        ...
