"""Door traffic from raw events: openings per zone, per open hour and by local hour of day."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from collector.model import ReceivedEvent
from collector.stats.localtime import HOUR, local_seconds
from collector.stats.opening import Mask
from collector.store.base import times_of
from hubsense.config import Hub
from hubsense.protocol import SensorState, Signal, kind_spec, kinds_feeding


@dataclass(frozen=True)
class DoorTraffic:
    zone: str
    openings: int  # in the whole period
    openings_open_hours: int  # inside opening hours
    per_open_hour: float | None  # openings_open_hours / open hours
    by_hour_of_day: list[int]  # 24 counts, local time


DOOR_KINDS = kinds_feeding(Signal.DOOR)  # sensor kinds that watch a room's door (hubsense.protocol)


def door_openings(hub: Hub, events: Iterable[ReceivedEvent]) -> dict[str, np.ndarray]:
    """Epoch seconds (agent clock) of every door opening among the events, per room zone, sorted."""
    events = list(events)
    return openings_by_zone(hub, {sensor: t for kind in DOOR_KINDS
                                  for sensor, t in times_of(events, hub.id, kind, SensorState.OPEN).items()})


def openings_by_zone(hub: Hub, times: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Door sensors' opening times (by sensor id) grouped by the room zone they watch; every
    door zone is in the result, maybe with no openings."""
    out: dict[str, list[np.ndarray]] = {}
    for _, sensor in hub.sensors().values():
        if kind_spec(sensor.kind).signal is Signal.DOOR:
            out.setdefault(sensor.zone, []).append(times.get(sensor.id, np.zeros(0)))
    return {zone: np.sort(np.concatenate(parts)) for zone, parts in out.items()}


def door_traffic(hub: Hub, openings: dict[str, np.ndarray], start: float, end: float, now: float,
                 zones: list[str] | None = None) -> list[DoorTraffic]:
    """Door traffic in [start, end); open hours count only up to ``now`` (the future has no traffic yet)."""
    mask = Mask.opening(hub, start, min(end, max(start, now)))
    open_hours = mask.lengths(np.array([start, end]))[0] / HOUR
    out = []
    for zone, t in sorted(openings.items()):
        if zones is not None and zone not in zones:
            continue
        t = t[(t >= start) & (t < end)]
        in_open = int(np.count_nonzero(_inside(mask, t)))
        hours = np.floor(np.mod(local_seconds(hub.tz, t), 86400.0) / HOUR).astype(np.int64)
        out.append(DoorTraffic(
            zone, len(t), in_open, in_open / open_hours if open_hours > 0 else None,
            np.bincount(hours, minlength=24).tolist(),
        ))
    return out


def _inside(mask: Mask, t: np.ndarray) -> np.ndarray:
    iv = mask.intervals
    k = np.searchsorted(iv[:, 0], t, side="right") - 1
    return (k >= 0) & (t < iv[np.clip(k, 0, None), 1]) if len(iv) else np.zeros(len(t), bool)
