"""Per-zone totals of a state-change timeline (pure).

:class:`Summary` takes the changes one at a time, so a streaming replay of a year holds no list of
them; :func:`summarize` is the same over a list.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime

from collector.model import OccupancyState, StateChange

UNKNOWN, OCCUPIED = OccupancyState.UNKNOWN, OccupancyState.OCCUPIED


class _Zone:
    __slots__ = ("early", "pending", "sessions", "since", "state", "totals")

    def __init__(self) -> None:
        self.early: list[tuple[datetime, OccupancyState]] = []  # changes before the anchor, in order
        self.pending: deque[StateChange] = deque()  # added, not yet committed
        self.state: OccupancyState | None = None  # None: still before the anchor
        self.since: datetime | None = None
        self.totals = {s: 0.0 for s in OccupancyState}  # from the anchor on
        self.sessions = 0


class Summary:
    """Seconds occupied / free / unknown and occupied sessions per (hub, zone), change by change.

    Changes of one zone come in time order (the engine emits them so).  The period is only known at
    the end (a recording read in one pass: its earliest and latest receive times), so:

    * ``anchor`` is a time the start cannot be later than (the first line's receive time); the few
      changes before it are kept and clipped to the start in :meth:`result`;
    * changes wait in a short queue until :meth:`commit` says no end will come before them (the
      replay commits up to the newest receive time read); :meth:`result` drops what lies after
      the end, as :func:`summarize` does.
    """

    def __init__(self, anchor: datetime | None = None) -> None:
        self.anchor = anchor  # set before the first change is added (the replay: at its first line)
        self._zones: dict[tuple[str, str], _Zone] = {}

    def add(self, c: StateChange) -> None:
        if c.desk is not None:
            return
        z = self._zones.get((c.hub, c.zone))
        if z is None:
            z = self._zones[(c.hub, c.zone)] = _Zone()
        z.pending.append(c)

    def commit(self, horizon: datetime) -> None:
        """Sum up every change at or before ``horizon`` (the end of the period is not earlier)."""
        for z in self._zones.values():
            while z.pending and z.pending[0].at <= horizon:
                self._apply(z, z.pending.popleft())

    def _apply(self, z: _Zone, c: StateChange) -> None:
        before = z.early[-1][1] if z.state is None and z.early else z.state or UNKNOWN
        if c.state is OCCUPIED and before is not OCCUPIED:
            z.sessions += 1
        if z.state is None:
            if c.at < self.anchor:
                z.early.append((c.at, c.state))
                return
            z.state, z.since = before, self.anchor
        at = max(c.at, z.since)
        z.totals[z.state] += (at - z.since).total_seconds()
        z.state, z.since = c.state, at

    def result(self, start: datetime, end: datetime) -> dict[tuple[str, str], dict]:
        """Totals within ``[start, end]`` (``start <= anchor``); a zone is unknown before its first
        change.  Changes after ``end`` are left out."""
        self.commit(end)
        out = {}
        for key, z in self._zones.items():
            totals = {s: 0.0 for s in OccupancyState}
            state, since = UNKNOWN, start
            cut = self.anchor if z.state is not None else end
            for at, new in z.early:
                at = min(max(at, start), cut)
                totals[state] += (at - since).total_seconds()
                state, since = new, at
            if z.state is not None:
                totals[state] += max(0.0, (cut - since).total_seconds())
                for s, v in z.totals.items():
                    totals[s] += v
                state, since = z.state, z.since
            totals[state] += max(0.0, (end - since).total_seconds())
            out[key] = {
                "occupied_s": round(totals[OCCUPIED], 3),
                "free_s": round(totals[OccupancyState.FREE], 3),
                "unknown_s": round(totals[UNKNOWN], 3),
                "sessions": z.sessions,
            }
        return out


def summarize(changes: Iterable[StateChange], start: datetime, end: datetime) -> dict[tuple[str, str], dict]:
    """Seconds occupied / free / unknown and the number of occupied sessions per (hub, zone)
    within ``[start, end]``; a zone is unknown before its first change."""
    summary = Summary(start)
    for c in sorted((c for c in changes if c.desk is None), key=lambda c: c.at):
        summary.add(c)
    return summary.result(start, end)
