"""A day of people in a hub, as sensor state changes (pure: no I/O, no clock).

:func:`plan_day` draws, from a seeded random generator, visits to each zone
weighted by time of day and zone kind, and turns them into the changes the
hub's sensors would see:

* open zones: people arrive (more at mid-morning and mid-afternoon, fewer at
  lunch), stay 10 min to 2 h and move now and then;
* rooms: meetings (bookable rooms) or solo visits: door opens, motion, door
  closes, motion now and then, someone may step out, door opens, people
  leave, door closes;
* desks: someone sits down for hours, with intermittent motion and a lunch
  break.

A PIR output stays high for ``hold_s`` after each movement (retriggerable,
like an HC-SR501), so movements closer together merge into one motion period;
gaps shorter than ``min_gap_s`` are merged too, so that a time-compressed
replay never produces pulses too short for gpiozero's 10 Hz sampling.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from hubsense.config import Hub, Sensor, Zone, ZoneKind
from hubsense.protocol import SensorState, Signal, kind_spec

# Relative arrival intensity by local hour (lunch dip, mid-morning and afternoon peaks).
HOURLY_WEIGHT = {7: 0.3, 8: 0.6, 9: 0.9, 10: 1.0, 11: 0.9, 12: 0.5, 13: 0.8, 14: 1.0, 15: 0.9, 16: 0.7,
                 17: 0.4, 18: 0.25, 19: 0.15, 20: 0.1}


@dataclass(frozen=True, slots=True, order=True)
class Change:
    """Sensor ``sensor`` enters ``state`` at ``at`` (seconds since the day's local midnight)."""

    at: float
    sensor: str
    state: SensorState


@dataclass(frozen=True)
class Timing:
    """Minimum durations in simulated seconds (scaled with the replay speed)."""

    hold_s: float = 60.0  # PIR output hold time after a movement
    min_gap_s: float = 6.0  # shortest no-motion gap kept (shorter ones merge)
    min_door_s: float = 6.0  # shortest time a door stays open or closed

    @classmethod
    def for_speed(cls, speed: float) -> Timing:
        """Durations that stay >= ~0.4 s of real time when replayed ``speed`` times faster."""
        real = 0.4 * max(speed, 1.0)
        return cls(hold_s=max(60.0, 1.2 * real), min_gap_s=max(6.0, real), min_door_s=max(6.0, real))


def opening_hours(hub: Hub, day: date) -> tuple[float, float] | None:
    """The day's (first) opening span in seconds since local midnight (wall clock), or None if closed."""
    if hub.always_open:
        return 0.0, 86400.0
    midnight = day_start(hub, day)
    spans = hub.open_spans(midnight.timestamp(), (midnight + timedelta(days=1)).timestamp())
    if not spans:
        return None
    opens, closes = (datetime.fromtimestamp(t, hub.tz).time() for t in spans[0])
    return _seconds(opens), _seconds(closes)


def _seconds(t: time) -> float:
    return t.hour * 3600 + t.minute * 60 + t.second


def _weight(at: float) -> float:
    return HOURLY_WEIGHT.get(int(at // 3600), 0.05)


def plan_day(hub: Hub, day: date, rng: random.Random, timing: Timing | None = None) -> list[Change]:
    """All sensor changes of ``hub`` on ``day`` (empty if the hub is closed), in time order."""
    hours = opening_hours(hub, day)
    if hours is None:
        return []
    timing = timing or Timing()
    start, end = hours
    by_zone: dict[str, list[Sensor]] = {}
    for agent in hub.agents:
        for sensor in agent.sensors:
            by_zone.setdefault(sensor.zone, []).append(sensor)
    changes: list[Change] = []
    for zone in hub.zones:
        sensors = by_zone.get(zone.id, [])
        pirs = [s for s in sensors if kind_spec(s.kind).signal is Signal.MOTION]
        doors = [s for s in sensors if kind_spec(s.kind).signal is Signal.DOOR]
        if zone.kind is ZoneKind.DESK_AREA:
            for pir in pirs:
                moves = _desk_moves(rng, start, end) if pir.desk else _open_moves(rng, zone, start, end)
                changes += _pir_changes(pir.id, moves, timing)
            continue
        if zone.kind is ZoneKind.ROOM:
            moves, door_events = _room_visits(rng, zone, start, end, timing)
            for door in doors:
                changes += _door_changes(door.id, door_events, timing)
        else:
            moves = _open_moves(rng, zone, start, end)
        for pir in pirs:
            changes += _pir_changes(pir.id, moves, timing)
    changes.sort()
    return changes


def _poisson_arrivals(rng: random.Random, rate_per_h: float, start: float, end: float) -> list[float]:
    """Arrival times from a Poisson process thinned by the hourly weight."""
    out, t = [], start
    if rate_per_h <= 0:
        return out
    while True:
        t += rng.expovariate(rate_per_h / 3600)
        if t >= end:
            return out
        if rng.random() < _weight(t):
            out.append(t)


def _movements(rng: random.Random, start: float, end: float, mean_gap_s: float) -> list[float]:
    out, t = [], start
    while t < end:
        out.append(t)
        t += rng.expovariate(1 / mean_gap_s)
    return out


def _open_moves(rng: random.Random, zone: Zone, start: float, end: float) -> list[float]:
    moves: list[float] = []
    for arrival in _poisson_arrivals(rng, 0.35 * zone.capacity, start, end):
        stay = min(rng.lognormvariate(7.8, 0.6), 3 * 3600)  # median ~40 min
        moves += _movements(rng, arrival, min(arrival + stay, end), mean_gap_s=240)
    return moves


def _desk_moves(rng: random.Random, start: float, end: float) -> list[float]:
    """One or two sittings at a desk, with a lunch break and long still spells."""
    moves: list[float] = []
    if rng.random() > 0.75:
        return moves
    sit = max(start, rng.gauss(start + 2 * 3600, 3600))
    while sit < end - 1800:
        leave = min(end, sit + rng.uniform(2, 5) * 3600)
        lunch = rng.gauss(12.2 * 3600, 1200)
        spans = [(sit, leave)] if not sit < lunch < leave - 3600 else [(sit, lunch), (lunch + 2700, leave)]
        for a, b in spans:
            moves += _movements(rng, a, b, mean_gap_s=rng.choice([120, 240, 600]))
        if rng.random() > 0.3:
            break
        sit = leave + rng.uniform(1800, 3 * 3600)
    return moves


def _room_visits(
    rng: random.Random, zone: Zone, start: float, end: float, timing: Timing
) -> tuple[list[float], list[tuple[float, SensorState]]]:
    """Meetings on the half hour (bookable rooms) or solo visits (other rooms)."""
    moves: list[float] = []
    doors: list[tuple[float, SensorState]] = []
    step = timing.min_door_s
    t = start
    while t < end - 1800:
        p = (0.45 if zone.bookable else 0.2) * _weight(t)
        if rng.random() >= p:
            t += 1800
            continue
        minutes = rng.choice([30, 60, 60, 90, 120]) if zone.bookable else rng.choice([15, 20, 30, 45])
        begin = t + rng.uniform(-300, 120)
        finish = min(end, begin + minutes * 60 + rng.uniform(-300, 300))
        entered = begin + max(step, rng.uniform(15, 60))
        doors += [(begin, SensorState.OPEN), (entered, SensorState.CLOSED)]
        moves += [begin + rng.uniform(2, 8)]
        moves += _movements(rng, entered, finish, mean_gap_s=90 if zone.bookable else 300)
        if rng.random() < 0.3 and finish - entered > 1200:  # someone steps out and back
            out = rng.uniform(entered + 300, finish - 600)
            doors += [(out, SensorState.OPEN), (out + max(step, rng.uniform(5, 20)), SensorState.CLOSED)]
        doors += [(finish, SensorState.OPEN), (finish + max(step, rng.uniform(10, 40)), SensorState.CLOSED)]
        moves += [finish + rng.uniform(1, 5)]
        t = finish + 2 * step + 1800 - (finish % 1800)
    return moves, doors


def _pir_changes(sensor_id: str, moves: list[float], timing: Timing) -> list[Change]:
    """Motion periods: each movement holds the output high for ``hold_s``; close periods merge."""
    out: list[Change] = []
    high_until: float | None = None
    for m in sorted(moves):
        if high_until is not None and m <= high_until + timing.min_gap_s:
            high_until = max(high_until, m + timing.hold_s)
            continue
        if high_until is not None:
            out.append(Change(high_until, sensor_id, SensorState.NO_MOTION))
        out.append(Change(m, sensor_id, SensorState.MOTION))
        high_until = m + timing.hold_s
    if high_until is not None:
        out.append(Change(high_until, sensor_id, SensorState.NO_MOTION))
    return out


def _door_changes(sensor_id: str, events: list[tuple[float, SensorState]], timing: Timing) -> list[Change]:
    """Door changes in order, skipping repeats and flips closer than ``min_door_s``."""
    out: list[Change] = []
    state, last = SensorState.CLOSED, float("-inf")
    for at, new in sorted(events):
        at = max(at, last + timing.min_door_s)
        if new is state:
            continue
        out.append(Change(at, sensor_id, new))
        state, last = new, at
    return out


def day_start(hub: Hub, day: date) -> datetime:
    """Local midnight of ``day`` in the hub's time zone (aware)."""
    return datetime.combine(day, time(0), tzinfo=hub.tz)


def next_opening(hub: Hub, after: datetime, max_days: int = 14) -> datetime:
    """``after`` if the hub is open then, else its next opening (local time); ValueError if it never opens."""
    spans = hub.open_spans(after.timestamp(), after.timestamp() + max_days * 86400.0)
    if not spans:
        raise ValueError(f"hub {hub.id} is never open")
    return datetime.fromtimestamp(spans[0][0], hub.tz)


def next_open_day(hub: Hub, day: date, max_days: int = 14) -> date:
    """``day`` or the first day after it on which the hub is open."""
    return next_opening(hub, day_start(hub, day), max_days).date()
