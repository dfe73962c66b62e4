"""Where booking calendars come from: one iCalendar file or http(s) URL per room.

The ``bookings`` setting maps ``"{hub}/{zone}"`` (or a bare zone id, for that
zone in every hub) to a source.  Fetched calendars are kept for
``refresh_s`` seconds; if a refresh fails, the last good copy is used (with a
warning) so a flaky calendar server does not blank the reports.

What is kept is the *imported* calendar (:func:`collector.bookings.organisations.import_calendar`):
each booking attributed to an organisation of the hub, organisers, attendees and titles dropped.
The raw download is never kept.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

import httpx

from collector.bookings.calendar import Booking, parse_calendar
from collector.bookings.organisations import Attribution, import_calendar
from hubsense.config import Hub

log = logging.getLogger(__name__)


class CalendarUnavailable(RuntimeError):
    """A calendar could not be read (and no earlier copy is cached)."""


def resolve_rooms(mapping: dict[str, str], hubs: dict[str, Hub]) -> dict[str, dict[str, str]]:
    """``{hub: {zone: source}}``; raises ValueError naming every key that matches no zone."""
    rooms: dict[str, dict[str, str]] = {h: {} for h in hubs}
    unknown = []
    for key, source in mapping.items():
        hub_id, _, zone = key.rpartition("/")
        targets = [h for h in hubs.values() if (not hub_id or h.id == hub_id) and zone in {z.id for z in h.zones}]
        if not targets:
            unknown.append(key)
        for hub in targets:
            rooms[hub.id][zone] = source
    if unknown:
        raise ValueError(f"bookings: no such zone: {', '.join(sorted(unknown))} (use '{{hub}}/{{zone}}')")
    # a '{hub}/{zone}' key wins over a bare zone key
    for key, source in mapping.items():
        if "/" in key:
            hub_id, zone = key.split("/", 1)
            rooms[hub_id][zone] = source
    return rooms


class CalendarSources:
    """Loads and caches the configured calendars; thread-safe (API worker threads)."""

    def __init__(self, mapping: dict[str, str], hubs: dict[str, Hub], refresh_s: float = 300.0,
                 timeout_s: float = 10.0) -> None:
        self.hubs = hubs
        self.rooms = resolve_rooms(mapping, hubs)
        self.refresh_s = refresh_s
        self.timeout_s = timeout_s
        self._attribution = {hub_id: Attribution.of(hub) for hub_id, hub in hubs.items()}
        self._cache: dict[tuple[str, str], tuple[float, bytes]] = {}  # (hub, source) -> imported calendar
        self._lock = threading.Lock()

    def bookings(self, hub: str, start: datetime, end: datetime, zone: str | None = None) -> list[Booking]:
        """Bookings of the hub's rooms (or one room) overlapping [start, end), sorted by start."""
        tz = self.hubs[hub].tz
        out: list[Booking] = []
        for room, source in self.rooms.get(hub, {}).items():
            if zone is None or zone == room:
                try:
                    out.extend(parse_calendar(self.read(hub, source), room, tz, start, end))
                except ValueError as exc:
                    raise CalendarUnavailable(f"calendar of {hub}/{room} ({source}): {exc}") from None
        return sorted(out, key=lambda b: (b.start, b.zone))

    def read(self, hub: str, source: str) -> bytes:
        """The imported calendar (attributed to the hub's organisations, no personal data) of ``source``;
        raises ValueError for a source that is not iCalendar, CalendarUnavailable if it cannot be read."""
        now = time.monotonic()
        key = (hub, source)
        with self._lock:
            cached = self._cache.get(key)
        if cached and now - cached[0] < self.refresh_s:
            return cached[1]
        try:
            data = import_calendar(_fetch(source, self.timeout_s), self._attribution[hub])
        except (OSError, httpx.HTTPError, ValueError) as exc:
            if cached:
                log.warning("calendar %s unreadable (%s); using the copy from %.0f s ago", source, exc,
                            now - cached[0])
                return cached[1]
            if isinstance(exc, ValueError):  # not iCalendar: the caller names the room
                raise
            raise CalendarUnavailable(f"calendar {source} unreadable: {exc}") from None
        with self._lock:
            self._cache[key] = (now, data)
        return data


def _fetch(source: str, timeout_s: float) -> bytes:
    url = urlparse(source)
    if url.scheme in ("http", "https"):
        response = httpx.get(source, timeout=timeout_s, follow_redirects=True)
        response.raise_for_status()
        return response.content
    if url.scheme == "file":
        return Path(url.path).read_bytes()
    return Path(source).expanduser().read_bytes()
