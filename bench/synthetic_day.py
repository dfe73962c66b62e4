"""A synthetic coworking hub with ground truth: people, their movements, and what PIRs and doors see.

This is a person-level simulation written for the accuracy bench, independent of the engine's
rules: each person visits zones, moves now and then (often while walking or chatting, rarely
while focusing or meditating), and each PIR turns that into a retriggerable output (high for
``hold`` seconds after a movement, like an HC-SR501).  Doors open and close when people enter and
leave.  Ground truth is "at least one person in the zone".

What it contains, on purpose:

* a coffee point (short, busy visits), a campfire circle (group sessions), a focus glade (people
  sit still for an hour), a corridor people walk through;
* a meeting room and a meditation room with doors: meetings where the last person shuts the
  door behind them, meetings that leave the door open, someone leaving early while others stay,
  meditators still for a quarter of an hour;
* a desk area with six desks and a PIR under each;
* false triggers: every PIR fires on its own now and then (~1 per 3 h), the meeting room's PIR
  sees the door swing, and the coffee point's PIR sees part of the corridor.

``datasets(days)`` returns one continuous recording of ``days`` working days (nights empty), so an
engine that learns does so across days, as a live collector would.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bench.accuracy_data import Dataset, make_hub
from hubsense.protocol import SensorState
from hubsense.spans import merge_spans

START = datetime(2026, 11, 2, tzinfo=UTC).timestamp()  # a Monday
DAY = 86400.0
OPEN_H, CLOSE_H = 7.0, 19.0

SPACES = [
    {"id": "coffee", "kind": "open", "sensors": [{"id": "coffee-pir", "kind": "pir"}]},
    {"id": "campfire", "kind": "open", "sensors": [{"id": "campfire-pir1", "kind": "pir"},
                                                    {"id": "campfire-pir2", "kind": "pir"}]},
    {"id": "glade", "kind": "open", "sensors": [{"id": "glade-pir", "kind": "pir"}]},
    {"id": "corridor", "kind": "open", "sensors": [{"id": "corridor-pir", "kind": "pir"}]},
    {"id": "meeting", "kind": "room", "sensors": [{"id": "meeting-pir", "kind": "pir"},
                                                   {"id": "meeting-door", "kind": "door"}]},
    {"id": "oasis", "kind": "room", "sensors": [{"id": "oasis-pir", "kind": "pir"},
                                                 {"id": "oasis-door", "kind": "door"}]},
    {"id": "desks", "kind": "desk_area", "capacity": 6,
     "desks": [{"id": f"d{i}", "name": f"D{i}"} for i in range(1, 7)],
     "sensors": [{"id": f"d{i}-pir", "kind": "pir", "desk": f"d{i}"} for i in range(1, 7)]},
]
HOLD_S = {"coffee-pir": 4.0, "campfire-pir1": 4.0, "campfire-pir2": 4.0, "glade-pir": 8.0, "corridor-pir": 3.0,
          "meeting-pir": 6.0, "oasis-pir": 6.0, **{f"d{i}-pir": 5.0 for i in range(1, 7)}}
FALSE_PER_S = 1 / (3 * 3600)


@dataclass
class World:
    rng: random.Random
    moves: dict[str, list[float]] = field(default_factory=dict)  # sensor -> movement times
    doors: dict[str, list[tuple[float, SensorState]]] = field(default_factory=dict)
    truth: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    def present(self, zone: str, a: float, b: float) -> None:
        self.truth.setdefault(zone, []).append((a, b))

    def move(self, sensor: str, t: float) -> None:
        self.moves.setdefault(sensor, []).append(t)

    def fidget(self, sensors: list[str], a: float, b: float, mean_gap: float, tail: float = 0.0) -> None:
        """Movements in [a, b): exponential gaps of ``mean_gap``; with probability ``tail`` a gap is
        ten times longer (a person settling into stillness)."""
        t = a
        while t < b:
            for s in sensors:
                if self.rng.random() < 0.85:  # a PIR misses some movements
                    self.move(s, t)
            gap = self.rng.expovariate(1 / mean_gap)
            if self.rng.random() < tail:
                gap *= 10
            t += max(0.5, gap)

    def walk(self, sensors: list[str], t: float, seconds: float = 6.0) -> None:
        self.fidget(sensors, t, t + seconds, 1.0)

    def door(self, door: str, t: float, state: SensorState) -> None:
        self.doors.setdefault(door, []).append((t, state))


def _arrivals(rng: random.Random, day0: float, per_hour: float) -> list[float]:
    """Poisson arrivals over opening hours, busier mid-morning and mid-afternoon."""
    out, t = [], day0 + OPEN_H * 3600
    end = day0 + (CLOSE_H - 0.5) * 3600
    while t < end:
        t += rng.expovariate(per_hour / 3600)
        hour = (t - day0) / 3600
        weight = 0.4 + 0.6 * (1 if 9 <= hour < 12 or 13.5 <= hour < 16.5 else 0.3)
        if rng.random() < weight and t < end:
            out.append(t)
    return out


def _open_zone(w: World, day0: float, zone: str, per_hour: float, stay: tuple[float, float], gap: float,
               tail: float, group: tuple[int, int] = (1, 1)) -> None:
    sensors = [s["id"] for sp in SPACES if sp["id"] == zone for s in sp["sensors"]]
    for t in _arrivals(w.rng, day0, per_hour):
        n = w.rng.randint(*group)
        for k in range(n):
            a = t + k * w.rng.uniform(0, 60)
            b = a + w.rng.uniform(*stay)
            w.present(zone, a, b)
            w.walk(sensors, a)
            w.fidget(sensors, a + 6, b - 6, gap, tail)
            w.walk(sensors, b - 6)
            if zone == "corridor" or w.rng.random() < 0.5:  # leaving through the corridor
                w.walk(["corridor-pir"], b, 5)
                w.present("corridor", b, b + 5)


def _corridor(w: World, day0: float) -> None:
    for t in _arrivals(w.rng, day0, 25):
        w.present("corridor", t, t + 8)
        w.walk(["corridor-pir"], t, 8)
        if w.rng.random() < 0.3:  # the coffee point's PIR sees the end of the corridor
            w.walk(["coffee-pir"], t + 2, 2)


def _room(w: World, day0: float, zone: str, per_hour: float, stay: tuple[float, float], gap: float,
          tail: float, size: tuple[int, int]) -> None:
    pir, door = f"{zone}-pir", f"{zone}-door"
    busy_until = 0.0
    for t in _arrivals(w.rng, day0, per_hour):
        if t < busy_until + 120:
            continue
        n = w.rng.randint(*size)
        end = t + w.rng.uniform(*stay)
        busy_until = end + 60
        leave_open = w.rng.random() < 0.15
        w.door(door, t, SensorState.OPEN)
        w.walk([pir], t + 1, 8)
        for k in range(1, n):  # the others trickle in
            w.walk([pir], t + 20 * k, 5)
        if not leave_open:
            w.door(door, t + 10 + 20 * (n - 1), SensorState.CLOSED)
            if w.rng.random() < 0.5:
                w.move(pir, t + 11 + 20 * (n - 1))  # the PIR sees the door swing
        start = t + 12 + 20 * (n - 1)
        w.fidget([pir], start, end - 10, gap, tail)
        if n > 1 and w.rng.random() < 0.3 and not leave_open:  # one leaves early, the others stay
            x = w.rng.uniform(start + 300, end - 600) if end - start > 1200 else None
            if x:
                w.walk([pir], x, 4)
                w.door(door, x + 3, SensorState.OPEN)
                w.door(door, x + 8, SensorState.CLOSED)
        w.present(zone, t, end)
        w.walk([pir], end - 10, 8)
        if not leave_open:
            w.door(door, end - 3, SensorState.OPEN)
            w.door(door, end + 2, SensorState.CLOSED)  # the last one shuts it behind them
            if w.rng.random() < 0.2:
                w.move(pir, end + 3)  # one blip as the door shuts
        else:
            w.door(door, end + 30, SensorState.CLOSED) if w.rng.random() < 0.5 else None


def _desks(w: World, day0: float) -> None:
    for i in range(1, 7):
        if w.rng.random() < 0.25:
            continue  # an empty desk today
        sensor, desk_zone = f"d{i}-pir", "desks"
        a = day0 + w.rng.uniform(7.5, 10.5) * 3600
        lunch = day0 + w.rng.uniform(11.5, 12.5) * 3600
        back = lunch + w.rng.uniform(30, 60) * 60
        b = day0 + w.rng.uniform(15, 18) * 3600
        for x, y in ((a, lunch), (back, b)):
            w.present(desk_zone, x, y)
            w.walk([sensor], x, 4)
            w.fidget([sensor], x + 4, y - 4, 90, 0.08)
            w.walk([sensor], y - 4, 4)


def simulate(days: int, seed: int = 7) -> World:
    w = World(random.Random(seed))
    for d in range(days):
        day0 = START + d * DAY
        _open_zone(w, day0, "coffee", 6, (60, 360), 8, 0.02, (1, 2))
        _open_zone(w, day0, "campfire", 0.8, (1200, 3600), 20, 0.05, (2, 6))
        _open_zone(w, day0, "glade", 0.7, (1800, 5400), 150, 0.1)
        _corridor(w, day0)
        _room(w, day0, "meeting", 0.8, (1800, 3600), 25, 0.05, (2, 5))
        _room(w, day0, "oasis", 0.5, (900, 2400), 240, 0.15, (1, 2))
        _desks(w, day0)
    for sensor in HOLD_S:  # false triggers, day and night
        t = START
        while t < START + days * DAY:
            t += w.rng.expovariate(FALSE_PER_S)
            w.move(sensor, t)
    return w


def _pir_events(sensor: str, moves: list[float]) -> list[tuple[float, str, SensorState]]:
    """A retriggerable PIR: high from a movement until ``hold`` after the last one."""
    hold = HOLD_S[sensor]
    out, high_until = [], None
    for t in sorted(moves):
        if high_until is None or t > high_until:
            if high_until is not None:
                out.append((high_until, sensor, SensorState.NO_MOTION))
            out.append((t, sensor, SensorState.MOTION))
        high_until = t + hold
    if high_until is not None:
        out.append((high_until, sensor, SensorState.NO_MOTION))
    return out


def datasets(days: int = 3, seed: int = 7) -> list[Dataset]:
    w = simulate(days, seed)
    events = []
    for sensor, moves in w.moves.items():
        events += _pir_events(sensor, moves)
    for door, changes in w.doors.items():
        state = SensorState.CLOSED
        events.append((START, door, state))
        for t, st in sorted(changes):
            if st is not state:
                events.append((t, door, st))
                state = st
    events.sort(key=lambda e: (e[0], e[1]))
    hub = make_hub("synthetic", SPACES)
    truth = {z: merge_spans(v) for z, v in w.truth.items()}
    return [Dataset("synthetic-coworking", hub, events, truth, [(START, START + days * DAY)],
                    note=f"synthetic coworking hub, {days} working days, seed {seed}")]
