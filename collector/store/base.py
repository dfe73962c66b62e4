"""The storage interface every backend (SQLite, InfluxDB, the spool in front of it) implements.

:class:`Store` is what every backend must have.  Two optional capabilities are declared here too,
so callers test for them with ``isinstance`` instead of probing attributes:

* :class:`ColumnReads`: the statistics' reads as numpy columns (no Python object per row).  A
  backend without it is read through :class:`Store` by :func:`change_columns` / :func:`event_times`,
  which is what the statistics call.
* :class:`ReportsStatus`: a store that buffers writes (the spool) reports its buffer for
  ``/healthz`` and ``/metrics``.
* :class:`KeepsLearned`: what each hub's occupancy engine has learned survives a restart
  (SQLite, InfluxDB, and the spool in front of it).

Backends are used from one ingest thread for writes and from API threads for
reads; each backend handles its own thread safety.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

import numpy as np

from collector.model import STATE_CODE, AgentHealth, LearnedState, ReceivedEvent, StateChange
from hubsense.protocol import SensorKind, SensorState

TrackKey = tuple[str, str | None]  # (zone, desk or None)
Columns = tuple[np.ndarray, np.ndarray]  # (epoch seconds float64, state codes int8), sorted by time


class StoreUnavailable(Exception):
    """The backend cannot be reached right now (connection refused, timeout, 5xx).

    Transient by definition: :class:`collector.store.spool.SpooledStore` keeps the writes
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


@runtime_checkable
class ColumnReads(Protocol):
    """Optional capability: the statistics' reads as numpy columns, with no Python object per row."""

    def change_columns(self, hub: str, tracks: Sequence[TrackKey], start: datetime,
                       end: datetime) -> dict[TrackKey, Columns]:
        """Per track (zone, or zone and desk) with any data: the latest change before ``start``, then the
        changes in [start, end), as (epoch seconds, :data:`collector.model.STATE_CODE`) sorted by time.
        The same rows as :meth:`Store.changes`, for the given tracks only."""
        ...

    def event_times(self, hub: str, kind: SensorKind, state: SensorState, start: datetime,
                    end: datetime) -> dict[str, np.ndarray]:
        """Per sensor id: agent-clock epoch seconds (sorted) of its events of this kind and state
        received in [start, end).  Sensors without such an event are left out."""
        ...


@runtime_checkable
class ReportsStatus(Protocol):
    """Optional capability of a store that buffers writes (the spool in front of InfluxDB)."""

    def status(self) -> dict[str, object]:
        """``depth`` (records waiting), ``max`` (the bound), ``high_water`` (the alarm),
        ``store_available`` (the last write to the backend succeeded), ``last_error``."""
        ...


@runtime_checkable
class KeepsLearned(Protocol):
    """Optional capability: the engines' learned values (``collector.engine.Engine.learned``) kept
    across restarts, one record per hub (``collector/learned.py`` saves and restores them)."""

    def save_learned(self, state: LearnedState) -> None:
        """Keep ``state`` as the hub's learned values, replacing what was kept for it before."""
        ...

    def load_learned(self, hub: str) -> LearnedState | None:
        """The hub's last saved learned values, or None if none were ever saved."""
        ...


# --- reads for the statistics, through the capability when the backend has it -----------------

def change_columns(store: Store, hub: str, tracks: Sequence[TrackKey], start: datetime,
                   end: datetime) -> dict[TrackKey, Columns]:
    """:meth:`ColumnReads.change_columns` of any store."""
    if isinstance(store, ColumnReads):
        return store.change_columns(hub, tracks, start, end)
    zones = {zone for zone, _ in tracks}
    return columns_of(store.changes(hub, start, end, next(iter(zones)) if len(zones) == 1 else None), tracks)


def event_times(store: Store, hub: str, kind: SensorKind, state: SensorState, start: datetime,
                end: datetime) -> dict[str, np.ndarray]:
    """:meth:`ColumnReads.event_times` of any store."""
    if isinstance(store, ColumnReads):
        return store.event_times(hub, kind, state, start, end)
    return times_of(store.events(hub, start, end), hub, kind, state)


def columns_of(changes: Iterable[StateChange], tracks: Sequence[TrackKey] | None = None) -> dict[TrackKey, Columns]:
    """State changes as columns per track (only ``tracks``, if given), each sorted by time."""
    wanted = None if tracks is None else set(tracks)
    by_key: dict[TrackKey, tuple[list[float], list[int]]] = {}
    for c in changes:
        key = (c.zone, c.desk)
        if wanted is None or key in wanted:
            ats, codes = by_key.setdefault(key, ([], []))
            ats.append(c.at.timestamp())
            codes.append(STATE_CODE[c.state])
    return {k: sort_columns(np.array(a, dtype=np.float64), np.array(s, dtype=np.int8))
            for k, (a, s) in by_key.items()}


def times_of(events: Iterable[ReceivedEvent], hub: str, kind: SensorKind,
             state: SensorState) -> dict[str, np.ndarray]:
    """Agent-clock epoch seconds (sorted) of the events of this hub, kind and state, per sensor id."""
    by_sensor: dict[str, list[float]] = {}
    for e in events:
        if e.hub == hub and e.kind is kind and e.state is state:
            by_sensor.setdefault(e.sensor, []).append(e.ts.timestamp())
    return {sensor: np.sort(np.array(t, dtype=np.float64)) for sensor, t in by_sensor.items()}


def sort_columns(at: np.ndarray, code: np.ndarray) -> Columns:
    order = np.argsort(at, kind="stable")
    return at[order], code[order]
