"""What the sensors saw during each booking of a room: the facts billing and the live room status use.

Pure: :func:`booking_facts` takes one room's bookings, its state intervals
(:func:`collector.bookings.usage.state_intervals`, from the engine's stored state changes), when its door
was open (:func:`door_open_spans`) and ``now``; nothing after ``now`` is counted.

Definitions (docs/bookings.md explains them for a finance officer):

* **sensed**: occupied time inside the booked slot (before the release, for a released booking);
* **early start**: occupied time before the start in a stretch that runs into the booking and began after
  the room's previous booking ended (else it is that booking's overrun); shown, never billed;
* **overrun**: occupied time after the end in a stretch that runs on from the booking, cut at the start of
  the room's next booking (then ``overran_into_next``) and at ``now``;
* **released**: nobody there for ``release_after`` from the start (the room known free, so no motion),
  and the door not open at that moment (closed, or never opened): a no-show, and members may take the room;
* **taken**: occupied time after the release inside the slot, i.e. walk-in use of a released booking
  (not unbooked use);
* **unknown**: time inside the slot when the room's state was unknown (agent offline or stale).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from collector.bookings.calendar import Booking
from collector.bookings.usage import Interval, booking_status, clip, length
from collector.model import OccupancyState
from hubsense.config import Hub
from hubsense.spans import merge_spans

States = dict[OccupancyState, list[Interval]]


@dataclass(frozen=True, slots=True)
class BookingFacts:
    booking: Booking
    booked_s: float  # the booked slot
    sensed_s: float  # occupied inside the slot up to now (up to the release, if released)
    early_s: float  # occupied before the start, in a stretch running into the booking
    overrun_s: float  # occupied after the end, in a stretch running on from the booking
    overran_into_next: bool  # the overrun was cut short by the room's next booking
    unknown_s: float  # the room's state unknown inside the slot, up to now
    released_at: datetime | None  # when the room was released (the booking is a no-show)
    taken_s: float  # occupied after the release inside the slot: walk-in use of the released booking
    started: bool  # the booking has started at now
    complete: bool  # the booking and its overrun are over at now

    @property
    def released(self) -> bool:
        return self.released_at is not None


def booking_facts(bookings: Sequence[Booking], states: States, door_open: Sequence[Interval], now: datetime,
                  release_after: timedelta) -> list[BookingFacts]:
    """Facts of each of one room's ``bookings`` (in their order).  ``states`` must cover the bookings, their
    early starts and overruns up to ``now``; ``door_open`` is when the room's door was open."""
    occupied = merge_spans(states[OccupancyState.OCCUPIED])
    return [_facts(b, [o for o in bookings if o is not b], occupied, states, door_open, now, release_after)
            for b in bookings]


def _facts(b: Booking, others: list[Booking], occupied: list[Interval], states: States,
           door_open: Sequence[Interval], now: datetime, release_after: timedelta) -> BookingFacts:
    until = max(b.start, min(b.end, now))
    release = min(b.start + release_after, b.end)
    status = booking_status(b, states, now, release_after).status.value
    released_at = release if status == "no_show" and not _inside(door_open, release) else None
    own_until = min(until, released_at) if released_at else until
    early = _early(b, others, occupied, now)
    overrun_end, into_next = _overrun_end(b, others, occupied, now) if released_at is None else (None, False)
    return BookingFacts(
        booking=b, booked_s=(b.end - b.start).total_seconds(),
        sensed_s=length(clip(occupied, b.start, own_until)),
        early_s=early, overrun_s=(overrun_end - b.end).total_seconds() if overrun_end else 0.0,
        overran_into_next=into_next,
        unknown_s=length(clip(states[OccupancyState.UNKNOWN], b.start, until)),
        released_at=released_at,
        taken_s=length(clip(occupied, released_at, until)) if released_at else 0.0,
        started=b.start <= now,
        complete=now >= b.end and (overrun_end is None or overrun_end < now or into_next),
    )


def _stretch_at(occupied: list[Interval], t: datetime) -> Interval | None:
    """The occupied stretch running through ``t`` (begun before it, going on after it)."""
    return next((s for s in occupied if s[0] < t < s[1]), None)


def _early(b: Booking, others: list[Booking], occupied: list[Interval], now: datetime) -> float:
    stretch = _stretch_at(occupied, b.start) if b.start < now else None
    if stretch is None:
        return 0.0
    previous_end = max((min(o.end, b.start) for o in others if o.start < b.start), default=None)
    if previous_end is not None and stretch[0] < previous_end:
        return 0.0  # the stretch began in the previous booking: its overrun, not an early start
    return (b.start - stretch[0]).total_seconds()


def _overrun_end(b: Booking, others: list[Booking], occupied: list[Interval],
                 now: datetime) -> tuple[datetime | None, bool]:
    """When the overrun ends (None: no overrun) and whether the room's next booking cut it."""
    stretch = next((s for s in occupied if s[0] < b.end <= s[1]), None) if b.end <= now else None
    if stretch is None:
        return None, False
    next_start = min((max(o.start, b.end) for o in others if o.start > b.start), default=None)
    end = min(stretch[1], now)
    if next_start is not None and next_start < end:
        return next_start, True
    return end, False


def _inside(spans: Iterable[Interval], t: datetime) -> bool:
    return any(a <= t < b for a, b in spans)


def door_open_spans(events: dict[str, Iterable[tuple[datetime, bool]]], end: datetime) -> list[Interval]:
    """When a room's door was open, up to ``end``, from its door sensors' events ``(time, opened)`` by
    sensor id (open while any of them is open).  Before a sensor's first event its door counts as closed."""
    spans: list[Interval] = []
    for sensor_events in events.values():
        opened_at: datetime | None = None
        for at, opened in sorted(sensor_events):
            if opened and opened_at is None:
                opened_at = at
            elif not opened and opened_at is not None:
                spans.append((opened_at, at))
                opened_at = None
        if opened_at is not None and opened_at < end:
            spans.append((opened_at, end))
    return merge_spans(spans)


def release_after(hub: Hub, default_min: float) -> timedelta:
    """The hub's ``billing.release_after_min``, else ``default_min`` (the ``bookings_grace_min`` setting)."""
    minutes = hub.billing.release_after_min
    return timedelta(minutes=minutes if minutes is not None else default_min)
