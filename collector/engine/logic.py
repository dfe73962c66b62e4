"""The occupancy rules, as small state holders and pure evaluation functions.

Times are float epoch seconds in the *event* clock (see :func:`collector.engine.clock.event_time`).
Every ``eval_*`` function returns ``(state, reason, deadline)``: the state at ``now``, why, and
the earliest later time at which the answer can change without new input (``INF`` if never).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from collector.engine.profiles import Params
from collector.model import OccupancyState
from hubsense.protocol import SensorKind, SensorState

INF = math.inf
FREE, OCCUPIED, UNKNOWN = OccupancyState.FREE, OccupancyState.OCCUPIED, OccupancyState.UNKNOWN
MOTION, NO_MOTION = SensorState.MOTION, SensorState.NO_MOTION
OPEN, CLOSED = SensorState.OPEN, SensorState.CLOSED

EVIDENCE_WINDOW_S = 600.0  # bursts of motion counted within this window before motion ends
STRONG_ONSETS = 2  # this many bursts in the window make the evidence strong...
STRONG_HIGH_S = 60.0  # ...as does motion lasting this long
DOOR_SETTLE_S = 3.0  # motion this soon after a door moves is the door / the person passing

Result = tuple[OccupancyState, str, float]


@dataclass(slots=True)
class SensorTrack:
    """What the engine knows about one sensor."""

    id: str
    kind: SensorKind
    agent: str
    zone: str
    desk: str | None
    state: SensorState | None = None
    last_t: float = -INF  # newest observation applied (out-of-order guard)
    changed_at: float | None = None  # last state change (stuck-sensor flag)
    high_since: float | None = None  # PIR: in motion since


class PirGroup:
    """The PIRs that watch one zone or one desk, seen as one motion signal."""

    __slots__ = ("active", "high_start", "last_end", "last_onset", "onsets", "pirs", "weak")

    def __init__(self, pirs: list[SensorTrack]) -> None:
        self.pirs = pirs
        self.active = 0  # PIRs currently reporting motion
        self.high_start = -INF  # when the group last went from no PIR active to some
        self.last_end: float | None = None  # when the group last went quiet
        self.last_onset = -INF
        self.onsets: deque[float] = deque(maxlen=2 * STRONG_ONSETS)
        self.weak = False  # the last burst of motion was weak evidence

    def apply(self, s: SensorTrack, state: SensorState, t: float) -> str | None:
        """Apply a PIR state at ``t``; returns 'onset', 'end' (group went quiet) or None."""
        was = s.state
        s.state = state
        if state is was:
            return None
        s.changed_at = t
        if state is MOTION:
            s.high_since = t
            if self.active == 0:  # one burst of the group is one piece of evidence
                self.high_start = t
                self.onsets.append(t)
            self.active += 1
            self.last_onset = max(self.last_onset, t)
            return "onset"
        if was is not MOTION:
            return None
        s.high_since = None
        self.active -= 1
        if self.active:
            return None
        self.last_end = t if self.last_end is None else max(self.last_end, t)
        recent = sum(1 for x in self.onsets if x >= t - EVIDENCE_WINDOW_S)
        self.weak = recent < STRONG_ONSETS and t - self.high_start < STRONG_HIGH_S
        return "end"

    def last_activity(self) -> float:
        return max(self.last_end if self.last_end is not None else -INF, self.last_onset)

    def stuck(self, now: float, max_high: float) -> list[str]:
        """PIRs in motion for longer than ``max_high``: no longer trusted."""
        return [s.id for s in self.pirs if s.high_since is not None and now >= s.high_since + max_high]


def eval_pirs(g: PirGroup, p: Params, now: float) -> Result:
    """Open zones and desks: occupied while motion, then until the vacancy timeout."""
    if g.active:
        deadline = INF
        for s in g.pirs:
            if s.high_since is not None:
                limit = s.high_since + p.max_occupied_s
                if now >= limit:
                    return UNKNOWN, "sensor_stuck", INF
                deadline = min(deadline, limit)
        return OCCUPIED, "motion", deadline
    if g.last_end is None:
        return FREE, "no_motion", INF
    free_at = g.last_end + p.vacancy_timeout_s * (p.weak_factor if g.weak else 1.0)
    if now < free_at:
        return OCCUPIED, "motion", free_at
    return FREE, "timeout", INF


class Room:
    """Door state of an enclosed room and what the door tells about its occupants."""

    __slots__ = ("closed_on_occupied", "confirmed", "door_t", "doors", "exit_pending")

    def __init__(self, doors: list[SensorTrack]) -> None:
        self.doors = doors
        self.door_t = -INF  # last door movement
        self.confirmed = False  # door closed and motion seen inside since
        self.exit_pending = False  # door opened on an occupied room; no motion has followed yet
        self.closed_on_occupied = False  # door closed while the room was occupied

    def closed(self) -> bool:
        return bool(self.doors) and all(d.state is CLOSED for d in self.doors)

    def opened(self) -> bool:
        return any(d.state is OPEN for d in self.doors)

    def door_moved(self, t: float, occupied_before: bool) -> None:
        self.door_t = max(self.door_t, t)
        self.confirmed = False
        self.exit_pending = self.opened() and occupied_before
        self.closed_on_occupied = self.closed() and occupied_before

    def motion(self, what: str, t: float, window: float) -> None:
        """React to a PIR 'onset' or 'end' at ``t``."""
        inside = (t > self.door_t + DOOR_SETTLE_S) if what == "onset" else (t >= self.door_t + window)
        if not inside:
            return
        if self.closed():
            self.confirmed = True
        elif self.exit_pending:
            self.exit_pending = False


def eval_room(g: PirGroup, room: Room, p: Params, now: float) -> Result:
    """Rooms: door + motion ("wasp in a box"), see docs/engine.md."""
    state, reason, deadline = eval_pirs(g, p, now)
    if state is UNKNOWN or g.active:
        return state, reason, deadline
    if room.closed():
        if not room.confirmed:
            return _closed_unconfirmed(state, reason, deadline, room, p, now)
        cap = max(g.last_activity(), room.door_t) + p.max_occupied_s
        if now < cap:
            return OCCUPIED, "door_closed", cap
        return FREE, "max_occupied", INF
    if room.exit_pending and room.opened():
        free_at = room.door_t + p.door_exit_window_s
        if now < free_at:
            return OCCUPIED, "door_open", free_at
        return FREE, "door_exit", INF
    return state, reason, deadline


def _closed_unconfirmed(
    state: OccupancyState, reason: str, deadline: float, room: Room, p: Params, now: float
) -> Result:
    """Door closed, no motion inside yet: the PIR timeout, but a room that was occupied when
    the door closed stays so for a full timeout after the close (someone may sit still)."""
    if not room.closed_on_occupied:
        return state, reason, deadline
    hold = room.door_t + p.vacancy_timeout_s
    if now < hold:
        return OCCUPIED, "door_closed", min(hold, deadline) if state is OCCUPIED else hold
    return state, reason, deadline
