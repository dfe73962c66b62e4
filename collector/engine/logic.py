"""The occupancy rules, as small state holders and pure evaluation functions.

Times are float epoch seconds in the *event* clock (see :func:`collector.engine.clock.event_time`).
Every ``eval_*`` function returns a :data:`Result` ``(state, reason, deadline, at)``: the state at
``now``, why, the earliest later time at which the answer can change without new input (``INF`` if
never), and when that state began if it is known to have begun earlier than the evaluation (a room
left through its door is free from the moment the door shut, not from when the engine was sure).
``p_*`` functions give the matching probability that someone is there.  Rules: ``docs/engine.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from collector.engine.learning import FIRST, HANDOFF, GapModel, Longest, Rate
from collector.engine.profiles import Params
from collector.model import OccupancyState
from hubsense.protocol import SensorKind, SensorState

INF = math.inf
FREE, OCCUPIED, UNKNOWN = OccupancyState.FREE, OccupancyState.OCCUPIED, OccupancyState.UNKNOWN
MOTION, NO_MOTION = SensorState.MOTION, SensorState.NO_MOTION
OPEN, CLOSED = SensorState.OPEN, SensorState.CLOSED

DOOR_SETTLE_S = 3.0  # motion this soon after a door moves is the door / the person passing
SUSTAINED_S = 20.0  # motion this much longer than one movement's PIR hold is someone moving inside
INSIDE_ONSETS = 2  # this many separate bursts after the door shut: someone is inside
WEAK_BURST_S = 60.0  # a burst that starts a visit and is over sooner is weak evidence (learned separately)
P_MOTION = 0.97  # probability shown while a PIR reports motion (false triggers exist)
P_FLOOR = 0.02  # never certain that a zone without motion is empty
P_LOCKED = 0.95  # a closed room with someone seen inside

Result = tuple[OccupancyState, str, float, float | None]


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
    """The PIRs that watch one zone or one desk, seen as one motion signal, and what its gaps teach."""

    __slots__ = ("active", "ctx", "first", "fixed_hold", "high_start", "hold_used", "last_end", "last_onset",
                 "model", "pirs", "shadow")

    def __init__(self, pirs: list[SensorTrack], model: GapModel | None, fixed_hold: float | None = None) -> None:
        self.pirs = pirs
        self.model = model  # None: the hold is fixed
        self.fixed_hold = fixed_hold
        self.active = 0  # PIRs currently reporting motion
        self.high_start = -INF  # when the group last went from no PIR active to some
        self.last_end: float | None = None  # when the group last went quiet
        self.last_onset = -INF
        self.first = True  # the current burst started a visit (the zone was free)
        self.ctx = 0  # learning context of the quiet gap after the last burst
        self.hold_used = INF  # the hold that applied to the last gap
        self.shadow = False  # the current burst is a neighbour's motion seen by this group's PIRs

    def apply(self, s: SensorTrack, state: SensorState, t: float, moved_on: bool = False) -> str | None:
        """Apply a PIR state at ``t``; returns 'onset', 'end' (group went quiet) or None.

        ``moved_on``: at an 'end', another zone had motion start after this group's last onset."""
        was = s.state
        s.state = state
        if state is was:
            return None
        s.changed_at = t
        if state is MOTION:
            s.high_since = t
            self.active += 1
            self.last_onset = max(self.last_onset, t)
            if self.active == 1:
                self._onset(t)
                return "onset"
            return None
        if was is not MOTION:
            return None
        s.high_since = None
        self.active -= 1
        if self.active:
            return None
        self.last_end = t if self.last_end is None else max(self.last_end, t)
        weak = self.first and t - self.high_start < WEAK_BURST_S  # a lone short burst: a passer-by?
        self.ctx = (FIRST if weak else 0) | (HANDOFF if moved_on else 0)
        self.hold_used = self.hold()
        return "end"

    def _onset(self, t: float) -> None:
        """Motion came back: the gap since it went quiet is one more lesson for the model."""
        self.high_start = t
        self.shadow = False
        if self.last_end is None:
            self.first = True
            return
        gap = t - self.last_end
        # a new visit: the gap was more likely between visits than inside one
        self.first = gap >= (self.model.boundary() if self.model is not None else self.hold_used)
        if self.model is not None and gap > 0:
            self.model.add(gap, self.ctx)

    def hold(self) -> float:
        """Seconds the group stays occupied after it went quiet."""
        if self.model is None:
            return self.fixed_hold or 0.0
        return self.model.hold(self.ctx)

    def p_quiet(self, quiet: float) -> float:
        if self.model is None:
            return 0.9 if quiet < (self.fixed_hold or 0.0) else P_FLOOR
        return max(P_FLOOR, self.model.p_occupied(self.ctx, quiet))

    def last_activity(self) -> float:
        return max(self.last_end if self.last_end is not None else -INF, self.last_onset)

    def stuck(self, now: float, max_high: float) -> list[str]:
        """PIRs in motion for longer than ``max_high``: no longer trusted."""
        return [s.id for s in self.pirs if s.high_since is not None and now >= s.high_since + max_high]


def eval_pirs(g: PirGroup, p: Params, now: float) -> Result:
    """Open zones and desks: occupied while motion, then for the learned hold."""
    if g.active:
        deadline = INF
        for s in g.pirs:
            if s.high_since is not None:
                limit = s.high_since + p.max_occupied_s
                if now >= limit:
                    return UNKNOWN, "sensor_stuck", INF, None
                deadline = min(deadline, limit)
        return OCCUPIED, "motion", deadline, None
    if g.last_end is None:
        return FREE, "no_motion", INF, None
    free_at = g.last_end + g.hold_used
    if now < free_at:
        return OCCUPIED, "motion", free_at, None
    return FREE, "timeout", INF, None


def p_pirs(g: PirGroup, p: Params, now: float) -> float:
    if g.active:
        if g.first and now - g.high_start < WEAK_BURST_S and g.model is not None:
            # the first motion in a free zone: a visit, or someone passing / a false trigger? As
            # likely a visit as such bursts here have been followed by more motion soon
            return max(P_FLOOR, min(P_MOTION, g.model.p_occupied(FIRST | (g.ctx & HANDOFF), 0.0)))
        return P_MOTION
    if g.last_end is None:
        return P_FLOOR
    return g.p_quiet(now - g.last_end)


class Room:
    """Door state of an enclosed room and what the door tells about its occupants.

    A *door cycle* is the door opening and shutting again.  After it shuts, motion inside tells
    someone is there: two separate bursts, or motion that goes on well beyond one movement's PIR
    hold, *confirm* it and the room stays occupied until the door opens.  A lone short blip does
    not (a sensor near the door, the door itself, a false trigger).  No motion at all after the
    door shut is *silent*: each room learns what a silent cycle means (someone left / someone
    came in and sits still) from what happened next, the last hundred times.
    """

    __slots__ = ("burst_hold", "closed_at", "confirmed", "cycle_from_occupied", "door_t", "doors", "exit_pending",
                 "inside_onsets", "opened_at", "silent_from_free", "silent_from_occupied", "silent_pending",
                 "stillness")

    def __init__(self, doors: list[SensorTrack]) -> None:
        self.doors = doors
        self.door_t = -INF  # last door movement
        self.opened_at = -INF
        self.closed_at = -INF
        self.confirmed = False  # door closed and someone seen inside since
        self.inside_onsets = 0  # bursts of motion that began after the door shut
        self.exit_pending = False  # door opened on an occupied room; no motion has followed yet
        self.cycle_from_occupied = False  # the room was occupied when this door cycle began
        self.silent_pending: bool | None = None  # a silent cycle (from occupied?) awaiting its outcome
        # what a silent cycle meant, learned: the room was empty after it / someone was inside
        self.silent_from_occupied = Rate(prior=0.85)  # P(empty)
        self.silent_from_free = Rate(prior=0.15)  # P(someone inside)
        self.stillness = Longest()
        self.burst_hold = 0.0  # a single movement's PIR hold, seen in this room

    def closed(self) -> bool:
        return bool(self.doors) and all(d.state is CLOSED for d in self.doors)

    def opened(self) -> bool:
        return any(d.state is OPEN for d in self.doors)

    def door_moved(self, t: float, occupied_before: bool, window: float) -> None:
        self._learn_silent(t, "door", window)
        self.door_t = max(self.door_t, t)
        self.confirmed = False
        self.inside_onsets = 0
        if self.opened():
            self.opened_at = t
            self.exit_pending = occupied_before
            self.cycle_from_occupied = occupied_before
        elif self.closed():
            if t - self.opened_at > window:  # open a long while: what counts is the state at the close
                self.cycle_from_occupied = occupied_before
            self.cycle_from_occupied |= occupied_before and self.exit_pending
            self.closed_at = t
            self.exit_pending = False

    def motion(self, what: str, t: float, g: PirGroup, window: float) -> None:
        """React to a PIR 'onset' or 'end' at ``t``."""
        if what == "onset":
            self._learn_silent(t, "motion", window)
            if t <= self.door_t + DOOR_SETTLE_S:
                return
            if self.closed() and self.confirmed and g.last_end is not None:
                self.stillness.add(t - max(g.last_end, self.door_t), t)
            if self.closed():
                if self.inside_onsets and g.last_end is not None and t - g.last_end >= g.hold_used:
                    self.inside_onsets = 0  # earlier blips were not followed up in time
                self.inside_onsets += 1
                # someone who just came in shows by moving; otherwise (a cycle that may have been a
                # departure, or a room shut long ago) one blip may be the leaver, the door or a
                # false trigger: wait for a second burst
                if self.inside_onsets >= INSIDE_ONSETS or self._lone_onset_is_someone(t, window):
                    self._confirm(g, t)
            elif self.exit_pending:
                self.exit_pending = False
            return
        duration = t - max(g.high_start, self.door_t)
        if duration > 0 and g.high_start > self.door_t:
            self.burst_hold = duration if self.burst_hold == 0 else min(self.burst_hold * 1.05, duration)
        if self.closed() and t >= self.sustain_at(g):
            self._confirm(g, t)
        elif self.exit_pending and t >= self.door_t + window:
            self.exit_pending = False

    def _lone_onset_is_someone(self, t: float, window: float) -> bool:
        """One burst of motion in the shut room: someone inside, or the door / a false trigger?

        Someone may stay unseen in this room for as long as its occupants have been seen to keep
        still (learned; at least the door window).  Within that, motion is someone -- except, after a
        cycle that may have been a departure, motion right at the door moment (the one who left,
        the door itself).  Beyond it, a lone blip is more likely a false trigger."""
        since = t - self.closed_at
        if since > max(window, self.stillness.longest()):
            return False
        return not self.cycle_from_occupied or since > window

    def _confirm(self, g: PirGroup, t: float) -> None:
        if not self.confirmed:
            self.confirmed = True
            self.silent_pending = None

    def sustain_at(self, g: PirGroup) -> float:
        """When the current motion, going on inside the closed room, is more than one movement explains."""
        return max(self.closed_at, g.high_start) + self.burst_hold + SUSTAINED_S

    def sustained(self, g: PirGroup, now: float) -> bool:
        return bool(g.active) and now >= self.sustain_at(g)

    def _learn_silent(self, t: float, what: str, window: float) -> None:
        """The first input after a silent cycle tells what it meant."""
        if self.silent_pending is None and self.closed() and not self.confirmed and self.inside_onsets == 0 \
                and t >= self.closed_at + window and self.closed_at > -INF:
            self.silent_pending = self.cycle_from_occupied
        if self.silent_pending is None:
            return
        if self.silent_pending:
            self.silent_from_occupied.add(what == "door")
        else:
            self.silent_from_free.add(what == "motion")
        self.silent_pending = None

    def snapshot(self) -> dict:
        return {"silent_from_occupied": [self.silent_from_occupied.yes, self.silent_from_occupied.no],
                "silent_from_free": [self.silent_from_free.yes, self.silent_from_free.no],
                "stillness": [list(x) for x in self.stillness.recent], "burst_hold": self.burst_hold}

    def restore(self, data: dict) -> None:
        self.silent_from_occupied.yes, self.silent_from_occupied.no = map(float, data["silent_from_occupied"])
        self.silent_from_free.yes, self.silent_from_free.no = map(float, data["silent_from_free"])
        self.stillness.recent.clear()
        self.stillness.recent.extend((float(t), float(s)) for t, s in data["stillness"])
        self.burst_hold = float(data["burst_hold"])

    def cap(self, p: Params) -> float:
        """Longest believable stillness of this room: the configured one, or twice the longest it has
        shown when that is longer (within ``max_occupied_limit_s``)."""
        if not p.learn_stillness:
            return p.max_occupied_s
        return min(p.max_occupied_limit_s, max(p.max_occupied_s, 2 * self.stillness.longest()))


def eval_room(g: PirGroup, room: Room, p: Params, now: float) -> Result:
    """Rooms: door + motion ("wasp in a box"), see docs/engine.md."""
    state, reason, deadline, at = eval_pirs(g, p, now)
    if state is UNKNOWN:
        return state, reason, deadline, at
    if room.closed():
        return _closed(g, room, p, now, (state, reason, deadline, at))
    if room.exit_pending and room.opened() and not g.active:
        free_at = room.door_t + p.door_exit_window_s
        if now < free_at:
            return OCCUPIED, "door_open", free_at, None
        return FREE, "door_exit", INF, max(room.door_t, g.last_end or -INF)
    return state, reason, deadline, at


def _closed(g: PirGroup, room: Room, p: Params, now: float, pirs: Result) -> Result:
    if room.confirmed or room.sustained(g, now):
        if g.active:
            return OCCUPIED, "motion", pirs[2], None
        cap = max(g.last_activity(), room.door_t) + room.cap(p)
        if now < cap:
            return OCCUPIED, "door_closed", cap, None
        return FREE, "max_occupied", INF, None
    if room.inside_onsets or room.closed_at == -INF:  # a blip (or no cycle seen yet): the PIR hold
        if g.active:
            return OCCUPIED, "motion", min(pirs[2], room.sustain_at(g)), None
        return pirs
    window_end = room.closed_at + p.door_exit_window_s
    if room.cycle_from_occupied:
        if room.silent_from_occupied.p >= 0.5:
            if now < window_end:
                return OCCUPIED, "door_closed", window_end, None
            return FREE, "door_exit", INF, room.closed_at
        return _locked(g, room, p, now)
    if now >= window_end and room.silent_from_free.p >= 0.5:
        return _locked(g, room, p, now)
    if g.active:  # motion from before the close, still going: is it sustained?
        return OCCUPIED, "motion", min(pirs[2], room.sustain_at(g)), None
    state, reason, deadline, at = pirs
    return state, reason, min(deadline, window_end) if now < window_end else deadline, at


def _locked(g: PirGroup, room: Room, p: Params, now: float) -> Result:
    cap = max(g.last_activity(), room.door_t) + room.cap(p)
    if now < cap:
        return OCCUPIED, "door_closed", cap, None
    return FREE, "max_occupied", INF, None


def p_room(g: PirGroup, room: Room, p: Params, now: float, state: OccupancyState, reason: str) -> float:
    """Probability that someone is in the room, matching :func:`eval_room`'s reasons."""
    if g.active:
        return P_MOTION
    if reason == "door_closed":
        if room.confirmed:
            return P_LOCKED
        if room.cycle_from_occupied:
            return 1 - room.silent_from_occupied.p if now >= room.closed_at + p.door_exit_window_s else \
                max(1 - room.silent_from_occupied.p, 0.5)
        return room.silent_from_free.p
    if reason in ("door_exit", "max_occupied"):
        return P_FLOOR
    if reason == "door_open":
        return 0.5
    return p_pirs(g, p, now)
