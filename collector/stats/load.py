"""Read what the statistics need from a store, as columns.

Through the :class:`~collector.store.base.Store` protocol only: :func:`collector.store.base.change_columns`
and :func:`~collector.store.base.event_times` use a backend's
:class:`~collector.store.base.ColumnReads` capability when it has one (SQLite reads a year of a busy hub
without one Python object per row) and ``Store.changes`` / ``Store.events`` otherwise.  Same
semantics either way: per track the latest change before ``start``, then the changes in [start, end).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from collector.stats.doors import DOOR_KINDS, openings_by_zone
from collector.stats.history import History, TrackKey
from collector.stats.localtime import to_epoch
from collector.store.base import Store, change_columns, event_times
from hubsense.config import Hub
from hubsense.protocol import SensorState


def hub_tracks(hub: Hub, zone: str | None = None) -> list[TrackKey]:
    """Every track of the hub config (each zone, and each desk of a desk area)."""
    zones = [z for z in hub.zones if zone is None or z.id == zone]
    return [(z.id, None) for z in zones] + [(z.id, d.id) for z in zones for d in z.desks]


def load_history(store: Store, hub: Hub, start: datetime, end: datetime, now: datetime,
                 zone: str | None = None) -> History:
    """The history of the hub's configured tracks (of one zone if given) for [start, end), as
    observed at ``now`` (nothing after it is known; changes stamped later are not read)."""
    series = change_columns(store, hub.id, hub_tracks(hub, zone), start, min(end, max(start, now)))
    return History(to_epoch(start), to_epoch(end), series, to_epoch(now))


def load_door_openings(store: Store, hub: Hub, start: datetime, end: datetime,
                       slack: timedelta = timedelta(hours=1)) -> dict[str, np.ndarray]:
    """Epoch seconds (agent clock) of door openings per room zone, sorted.

    Events are selected by receive time widened by ``slack`` (late delivery, clock
    skew); callers cut on the agent clock.
    """
    times = {sensor: t for kind in DOOR_KINDS
             for sensor, t in event_times(store, hub.id, kind, SensorState.OPEN, start - slack, end + slack).items()}
    return openings_by_zone(hub, times)
