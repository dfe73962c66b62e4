"""A straightforward per-interval loop implementation of utilisation and heatmap.

It is the oracle the vectorised code is checked against (tests, with hypothesis)
and the baseline of ``bench/stats.py``.  It shares no code with the numpy path:
opening hours, buckets and local hours come from plain ``datetime`` / zoneinfo
calls, and every interval is split in Python.
"""

from __future__ import annotations

import itertools
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from collector.model import OccupancyState, StateChange
from hubsense.config import WEEKDAYS, Hub, Zone, ZoneKind


def _dates(hub: Hub, start: datetime, end: datetime) -> list[date]:
    first = start.astimezone(hub.tz).date() - timedelta(days=1)
    last = end.astimezone(hub.tz).date() + timedelta(days=1)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def opening(hub: Hub, start: datetime, end: datetime) -> list[tuple[float, float]]:
    s, e = start.timestamp(), end.timestamp()
    if hub.always_open:
        return [(s, e)] if e > s else []
    spans = []
    for d in _dates(hub, start, end):
        for h in hub.opening_hours:
            if WEEKDAYS[d.weekday()] in h.days:
                a = max(s, datetime.combine(d, h.open, hub.tz).timestamp())
                b = min(e, datetime.combine(d, h.close, hub.tz).timestamp())
                if b > a:
                    spans.append((a, b))
    merged: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def edges(hub: Hub, start: datetime, end: datetime, bucket: str) -> list[float]:
    s, e = start.timestamp(), end.timestamp()
    points = set()
    for d in _dates(hub, start, end):
        if bucket == "hour":
            for hour in range(24):
                for fold in (0, 1):
                    points.add(datetime.combine(d, time(hour), hub.tz).replace(fold=fold).timestamp())
        elif (bucket == "day" or (bucket == "week" and d.weekday() == 0)
              or (bucket == "month" and d.day == 1)):
            points.add(datetime.combine(d, time(0), hub.tz).timestamp())
    return [s, *sorted(p for p in points if s < p < e), e]


Segments = dict[tuple[str, str | None], list[tuple[float, float, OccupancyState]]]


def segments(changes: Sequence[StateChange], start: datetime, end: datetime) -> Segments:
    """(from, to, state) of every track inside [start, end); unknown before its first change."""
    s, e = start.timestamp(), end.timestamp()
    rows: dict = defaultdict(list)
    for i, c in enumerate(changes):
        rows[(c.zone, c.desk)].append((c.at.timestamp(), i, c.state))
    out: Segments = defaultdict(list)
    for key, track in rows.items():
        cur_t, cur_state = s, OccupancyState.UNKNOWN
        for at, _, state in sorted(track):
            at = min(max(at, s), e)
            if at > cur_t:
                out[key].append((cur_t, at, cur_state))
                cur_t = at
            cur_state = state
        if e > cur_t:
            out[key].append((cur_t, e, cur_state))
    return out


def _track_segments(segs: Segments, key: tuple[str, str | None], start: datetime, end: datetime):
    return segs[key] if key in segs else [(start.timestamp(), end.timestamp(), OccupancyState.UNKNOWN)]


def _open_parts(a: float, b: float, spans: list[tuple[float, float]]):
    """Pieces of [a, b) inside opening hours."""
    k = max(bisect_right(spans, (a, float("inf"))) - 1, 0)
    while k < len(spans) and spans[k][0] < b:
        x, y = max(a, spans[k][0]), min(b, spans[k][1])
        if y > x:
            yield x, y
        k += 1


def _split(a: float, b: float, cuts: list[float]):
    """Pieces of [a, b) cut at ``cuts`` (sorted), with the index of the cut interval holding each."""
    while a < b:
        k = bisect_right(cuts, a) - 1
        z = min(b, cuts[k + 1]) if k + 1 < len(cuts) else b
        yield k, a, z
        a = z


def _tracks(zone: Zone) -> list[tuple[str, str | None]]:
    if zone.kind is ZoneKind.DESK_AREA:
        return [(zone.id, d.id) for d in zone.desks]
    return [(zone.id, None)]


def zone_bucket_sums(hub: Hub, segs: Segments, zone: Zone, start: datetime, end: datetime,
                     bucket: str) -> tuple[list[float], list[float], list[float]]:
    """(open_s, known_s, occupied_s) per bucket, zone-equivalent seconds."""
    cuts = edges(hub, start, end, bucket)
    n = len(cuts) - 1
    open_s, known, occ = [0.0] * n, [0.0] * n, [0.0] * n
    spans = opening(hub, start, end)
    for a, b in spans:
        for k, x, y in _split(a, b, cuts):
            open_s[k] += y - x
    keys = _tracks(zone)
    for key in keys:
        for a, b, state in _track_segments(segs, key, start, end):
            if state is OccupancyState.UNKNOWN:
                continue
            for x, y in _open_parts(a, b, spans):
                for k, p, q in _split(x, y, cuts):
                    known[k] += (q - p) / len(keys)
                    if state is OccupancyState.OCCUPIED:
                        occ[k] += (q - p) / len(keys)
    return open_s, known, occ


def zone_heatmap(hub: Hub, segs: Segments, zone: Zone, start: datetime, end: datetime) -> tuple[dict, dict, dict]:
    """(open_s, known_s, occupied_s) per (weekday, hour) cell of local time."""
    cuts = edges(hub, start, end, "hour")
    open_s: dict = defaultdict(float)
    known: dict = defaultdict(float)
    occ: dict = defaultdict(float)

    def cell(t: float) -> tuple[int, int]:
        local = datetime.fromtimestamp(t, hub.tz)
        return local.weekday(), local.hour

    spans = opening(hub, start, end)
    for a, b in spans:
        for _, x, y in _split(a, b, cuts):
            open_s[cell(x)] += y - x
    keys = _tracks(zone)
    for key in keys:
        for a, b, state in _track_segments(segs, key, start, end):
            if state is OccupancyState.UNKNOWN:
                continue
            for x, y in _open_parts(a, b, spans):
                for _, p, q in _split(x, y, cuts):
                    c = cell(p)
                    known[c] += (q - p) / len(keys)
                    if state is OccupancyState.OCCUPIED:
                        occ[c] += (q - p) / len(keys)
    return open_s, known, occ


def peak_desks(hub: Hub, segs: Segments, zone: Zone, start: datetime, end: datetime, bucket: str) -> list[int]:
    """Most desks occupied at once inside opening hours, per bucket (-1: never open)."""
    cuts = edges(hub, start, end, bucket)
    spans = opening(hub, start, end)
    desk_segs = {key: _track_segments(segs, key, start, end) for key in _tracks(zone)}
    points = sorted({*cuts, *(p for sp in spans for p in sp), *(a for ss in desk_segs.values() for a, _, _ in ss)})
    out = [-1] * (len(cuts) - 1)
    for a, b in itertools.pairwise(points):
        mid = (a + b) / 2
        if not any(oa <= mid < ob for oa, ob in spans) or not cuts[0] <= mid < cuts[-1]:
            continue
        n = sum(1 for ss in desk_segs.values() for x, y, st in ss if x <= mid < y and st is OccupancyState.OCCUPIED)
        k = bisect_right(cuts, mid) - 1
        out[k] = max(out[k], n)
    return out
