"""What the occupancy engines learned survives a restart: restored from the store when the collector
is built (before ingest starts), saved every ``learned_save_s`` from the ingest writer thread and
once more at shutdown.

The store keeps one record per hub (:class:`collector.store.base.KeepsLearned`); a store without
the capability keeps nothing (the engines then start from the kinds' defaults, as on a first
start).  A store that cannot be read at start is asked again before every save, and nothing is
saved for a hub until its earlier values were read: an InfluxDB that is down at start must not
make the collector overwrite weeks of learning with an hour's.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from datetime import UTC, datetime

from collector.live import LiveState
from collector.model import LearnedState
from collector.store.base import KeepsLearned, Store, StoreUnavailable

log = logging.getLogger(__name__)
_STORE_ERRORS = (StoreUnavailable, sqlite3.Error, OSError, RuntimeError)  # down, locked, closing: try again
_BAD_RECORD = (ValueError, KeyError, TypeError)  # a record this version cannot read: start afresh


class LearnedKeeper:
    def __init__(self, live: LiveState, store: Store, interval_s: float) -> None:
        self.live = live
        self.store = store if isinstance(store, KeepsLearned) else None
        self.interval_s = interval_s
        self.unread = set(live.engines) if self.store is not None else set()  # hubs not restored yet
        self.saves = 0  # records written
        self._next = time.monotonic() + interval_s

    def restore(self) -> None:
        """Give each engine what it learned before (hubs whose record cannot be read yet stay unread)."""
        for hub in sorted(self.unread):
            try:
                state = self.store.load_learned(hub)
            except _STORE_ERRORS as exc:  # try again before the next save
                log.warning("learned values of hub %s not restored yet (%s); trying again before saving", hub, exc)
                continue
            except _BAD_RECORD as exc:
                log.warning("learned values of hub %s cannot be read (%r); its zones learn afresh", hub, exc)
                state = None
            self.unread.discard(hub)
            if state is None:
                continue
            skipped = self.live.restore_learned(hub, state.zones)
            log.info("hub %s: learned values of %d zones restored (saved %s)%s", hub, len(state.zones) - len(skipped),
                     state.at.isoformat(), f"; not readable for {', '.join(skipped)}" if skipped else "")

    def tick(self, now: datetime) -> None:
        """After each stored batch (writer thread): save when the interval has passed."""
        if self.store is None or time.monotonic() < self._next:
            return
        self._next = time.monotonic() + self.interval_s
        self.save(now)

    def save(self, now: datetime | None = None) -> None:
        """Save every restored hub's learned values now; a failure is logged, the next save retries."""
        if self.store is None:
            return
        if self.unread:
            self.restore()
        now = now or datetime.now(UTC)
        for hub in self.live.engines:
            if hub in self.unread:
                continue
            try:
                self.store.save_learned(LearnedState(hub, now, self.live.learned(hub)))
                self.saves += 1
            except _STORE_ERRORS as exc:
                log.warning("learned values of hub %s not saved (%s); next try in %.0f s", hub, exc, self.interval_s)
