"""The condition monitor: every ``alerts_check_s`` it reads the live agent health and the spool,
opens and closes conditions (:mod:`collector.notify.conditions`, kept in the outbox file), queues
their webhook events, feeds the e-mail alerts, and once a day per hub queues ``summary.daily``."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as dtime

from collector.live import LiveState
from collector.notify import conditions as cond
from collector.notify.events import EventType
from collector.notify.mail import EmailAlerts
from collector.notify.outbox import Outbox
from collector.notify.webhooks import Webhooks
from collector.stats import utilisation
from collector.stats.load import load_history
from collector.store.base import ReportsStatus, Store
from hubsense.config import Hub

log = logging.getLogger(__name__)
SUMMARY_KEY = "summary.sent:"  # + hub: the last local date summarised, kept with the conditions


class Monitor:
    def __init__(self, hubs: dict[str, Hub], live: LiveState, store: Store, outbox: Outbox, webhooks: Webhooks,
                 interval_s: float = 10.0, summary_at: dtime = dtime(6, 0), alerts: EmailAlerts | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.hubs = hubs
        self.live = live
        self.store = store
        self.outbox = outbox
        self.webhooks = webhooks
        self.interval_s = interval_s
        self.summary_at = summary_at
        self.alerts = alerts  # None: no e-mail alerts
        self.clock = clock
        self.names = {(h.id, a.id): a.name or a.id for h in hubs.values() for a in h.agents}
        self.sensor_zones = {(h.id, s.id): s.zone for h in hubs.values() for a in h.agents for s in a.sensors}
        self._open: cond.Open | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Monitor:
        self._thread = threading.Thread(target=self._run, name="alert-monitor", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(15)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.check()
            except Exception:
                log.exception("alert monitor: a check failed; trying again in %.0f s", self.interval_s)

    def snapshot(self, now: float) -> cond.Snapshot:
        at = datetime.fromtimestamp(now, UTC)
        health = {hub: self.live.health(hub, at) for hub in self.hubs}
        spool = self.store.status() if isinstance(self.store, ReportsStatus) else None
        return cond.Snapshot(now, health, self.names, self.sensor_zones, spool)

    def check(self) -> None:
        """One round (the thread calls it every ``interval_s``; tests call it directly)."""
        now = self.clock()
        if self._open is None:
            self._open = {k: v for k, v in self.outbox.conditions().items() if not k.startswith(SUMMARY_KEY)}
        ev = cond.evaluate(self.snapshot(now))
        opened, closed = cond.diff(self._open, ev, now)
        self.outbox.set_conditions(opened, closed)  # before the events: a crash repeats nothing
        self._open = cond.refreshed(self._open, ev) | opened
        events = [(t, hub, datetime.fromtimestamp(at, UTC), data) for t, hub, at, data in
                  cond.events_for(opened, closed, now)]
        if events:
            self.webhooks.publish(events)
        if self.alerts is not None:
            self.alerts.update(self._open, closed, now)
        self.daily_summaries(now)

    # -- summary.daily -------------------------------------------------------------------------

    def daily_summaries(self, now: float) -> None:
        sent = {k[len(SUMMARY_KEY):]: v[1].get("date") for k, v in self.outbox.conditions().items()
                if k.startswith(SUMMARY_KEY)}
        for hub in self.hubs.values():
            local = datetime.fromtimestamp(now, hub.tz)
            day = local.date() - timedelta(days=1)
            if local.time() < self.summary_at or sent.get(hub.id) == day.isoformat():
                continue
            if self.webhooks.subscribers(EventType.DAILY_SUMMARY, hub.id):
                self.webhooks.publish([(EventType.DAILY_SUMMARY.value, hub.id, datetime.fromtimestamp(now, UTC),
                                        daily_summary(hub, self.store, day, datetime.fromtimestamp(now, UTC)))])
            self.outbox.set_conditions({SUMMARY_KEY + hub.id: (now, {"date": day.isoformat()})}, [])


def yesterday(hubs: dict[str, Hub], store: Store, now: float) -> list[dict]:
    """``summary.daily`` data of every hub for the day before ``now`` (the morning digest)."""
    at = datetime.fromtimestamp(now, UTC)
    return [daily_summary(h, store, at.astimezone(h.tz).date() - timedelta(days=1), at) for h in hubs.values()]


def daily_summary(hub: Hub, store: Store, day, now: datetime) -> dict:
    """``summary.daily`` data: the hub's utilisation per zone on one local day."""
    start = datetime.combine(day, dtime(0), hub.tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), dtime(0), hub.tz).astimezone(UTC)
    report = utilisation.utilisation(hub, load_history(store, hub, start, end, now), "day")

    def figure(values) -> float | None:
        value = float(values[0]) if len(values) else float("nan")
        return None if value != value else round(value, 4)

    zones = [{"zone": s.zone.id, "zone_name": s.zone.name, "open_s": float(s.open_s[0]),
              "occupied_s": round(float(s.occupied_s[0]), 3), "known_s": round(float(s.known_s[0]), 3),
              "utilisation": figure(s.utilisation), "data_quality": figure(s.data_quality)}
             for s in report.zones if s.zone is not None]
    return {"hub": hub.id, "date": day.isoformat(), "timezone": hub.timezone,
            "utilisation": figure(report.hub.utilisation), "zones": zones}
