"""Supervised tuning (pure): per zone, the pinned vacancy timeout that is right most often against
ground truth, or none when the zone's own learning does better (``hubsense tune --truth``,
``bench/accuracy.py``'s leave-one-out).

Each :class:`Labelled` recording is replayed once per candidate with *every* zone pinned to that
candidate (a zone's state depends only on its own parameters, its sensors and its agents'
liveness, so one replay scores all zones at once), and once with the defaults (learning on).
Scoring: the share of scoring times at which the zone's state matches the truth (occupied inside a
truth interval, free outside); times at which the zone is unknown are not scored.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from collector.engine.profiles import Params, resolve
from collector.model import OccupancyState, StateChange
from hubsense.config import Hub, Profile

GRID_POINTS = 16  # candidates per zone, log-spaced within the zone kind's bounds
Interval = tuple[float, float]
Replay = Callable[[dict[str, Profile]], Iterable[StateChange]]  # profiles by zone id -> the hub's timeline


@dataclass
class Labelled:
    """One recording of one hub with ground truth."""

    replay: Replay
    times: list[float]  # scoring times (epoch s), ascending
    truth: dict[str, list[Interval]]  # zone -> occupied [start, end) intervals, sorted, disjoint


@dataclass
class Score:
    correct: int = 0
    scored: int = 0

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.scored if self.scored else None

    def __iadd__(self, other: Score) -> Score:
        self.correct += other.correct
        self.scored += other.scored
        return self


@dataclass
class ZoneFit:
    zone: str
    default: Score  # the engine as configured (learning on)
    best: float | None  # pinned vacancy_timeout_s, or None: the default is at least as good
    tuned: Score  # with ``best``
    by_value: dict[float, Score] = field(default_factory=dict)


def candidates(params: Params, n: int = GRID_POINTS) -> list[float]:
    """``n`` log-spaced vacancy timeouts from the kind's lower to its upper bound, rounded to 0.1 s."""
    lo, hi = params.vacancy_timeout_min_s, params.vacancy_timeout_max_s
    if n <= 1 or hi <= lo:
        return [round(lo, 1)]
    step = math.log(hi / lo) / (n - 1)
    return [round(lo * math.exp(step * k), 1) for k in range(n)]


def score(changes: Iterable[StateChange], zone: str, times: list[float], truth: list[Interval]) -> Score:
    """How often the zone's state at ``times`` matches ``truth`` (unknown: not scored)."""
    timeline = sorted(((c.at.timestamp(), c.state) for c in changes if c.zone == zone and c.desk is None),
                      key=lambda x: x[0])
    out = Score()
    state, k = OccupancyState.UNKNOWN, 0
    for t in times:
        while k < len(timeline) and timeline[k][0] <= t:
            state = timeline[k][1]
            k += 1
        if state is OccupancyState.UNKNOWN:
            continue
        out.scored += 1
        out.correct += (state is OccupancyState.OCCUPIED) == inside(truth, t)
    return out


def inside(spans: list[Interval], t: float) -> bool:
    i = bisect.bisect_right(spans, (t, math.inf)) - 1
    return i >= 0 and spans[i][0] <= t < spans[i][1]


def fit(hub: Hub, recordings: list[Labelled], zones: Iterable[str] | None = None,
        n: int = GRID_POINTS) -> dict[str, ZoneFit]:
    """The best pinned vacancy timeout per zone with truth (``zones``: only these) over all
    ``recordings``; a pin is chosen only where it is right more often than the defaults."""
    wanted = [z for z in hub.zones if (zones is None or z.id in set(zones))
              and any(z.id in r.truth for r in recordings)]
    grids = {z.id: candidates(resolve(z), n) for z in wanted}
    default = _scores(recordings, {}, [z.id for z in wanted])
    by_value: dict[str, dict[float, Score]] = {z.id: {} for z in wanted}
    for k in range(max((len(g) for g in grids.values()), default=0)):
        pins = {z: Profile(vacancy_timeout_s=g[k]) for z, g in grids.items() if k < len(g)}
        for zone, s in _scores(recordings, pins, list(pins)).items():
            by_value[zone][grids[zone][k]] = s
    out = {}
    for z in wanted:
        base = default[z.id]
        value, tuned = None, base
        for v, s in by_value[z.id].items():
            if s.scored and (tuned.accuracy is None or s.accuracy > tuned.accuracy):
                value, tuned = v, s
        out[z.id] = ZoneFit(z.id, base, value, tuned, by_value[z.id])
    return out


def _scores(recordings: list[Labelled], profiles: dict[str, Profile], zones: list[str]) -> dict[str, Score]:
    total = {z: Score() for z in zones}
    for r in recordings:
        changes = list(r.replay(profiles))
        for z in zones:
            if z in r.truth:
                total[z] += score(changes, z, r.times, r.truth[z])
    return total
