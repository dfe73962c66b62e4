"""The composition root: every part of the collector is created and wired here, once.

:meth:`Collector.build` makes the store, the live state, the MQTT ingest, the Prometheus
registry, the Home Assistant publisher, the booking calendar sources and the app, and connects
them.  After each stored batch the ingest calls its ``after_commit`` listeners in this order: the
store-latency metric, the live state (SSE fan-out), the learned-values keeper, Home Assistant.
:meth:`Collector.serve` runs it under uvicorn (``hubsense collector``, ``hubsense demo``);
:meth:`Collector.serving` does the same in a thread (browser tests, screenshots, the test suite).
Nothing else starts uvicorn.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import time as dt_time

import uvicorn
from fastapi import FastAPI

from collector.api.app import AppParts, create_app
from collector.api.models import RoomOut
from collector.bookings.rooms import RoomEvent, RoomNow
from collector.bookings.sources import CalendarSources
from collector.bookings.watch import RoomWatch
from collector.handler import IngestCounters
from collector.homeassistant import HomeAssistantPublisher
from collector.httpserver import server_config
from collector.ingest import Ingest
from collector.learned import LearnedKeeper
from collector.live import LiveState
from collector.metrics import CollectorMetrics
from collector.network import NetworkSummaries
from collector.notify.mail import AlertRules, EmailAlerts, SmtpConfig, SmtpSender, utilisation_lines
from collector.notify.monitor import Monitor, yesterday
from collector.notify.notifier import Notifier
from collector.notify.outbox import Outbox
from collector.notify.targets import TargetPolicy
from collector.notify.webhooks import DeliveryPolicy, Webhooks
from collector.settings import Settings
from collector.store import open_store
from collector.store.base import Store
from hubsense.config import ConfigError, Hub, Profile, load_hubs
from hubsense.services import port_in_use

log = logging.getLogger(__name__)

# Open SSE streams never end by themselves: stop waiting for them after this long.
GRACEFUL_SHUTDOWN_S = 3


class PortInUse(RuntimeError):
    pass


@dataclass
class Collector:
    settings: Settings
    hubs: dict[str, Hub]
    store: Store
    live: LiveState
    ingest: Ingest | None  # None: the API over the store, without MQTT
    metrics: CollectorMetrics
    homeassistant: HomeAssistantPublisher | None  # None unless homeassistant_discovery is on
    notifier: Notifier  # webhooks (outbox + dispatcher), alert conditions, e-mail alerts
    learned: LearnedKeeper  # what the engines learned: restored at build, saved periodically and at shutdown
    summaries: NetworkSummaries  # per-hub rows of /api/hubs and /network; history refreshed in a thread
    rooms: RoomWatch  # bookable rooms now and the room events (released, walk-in, overrun)
    app: FastAPI = field(repr=False)
    owns_store: bool = True  # close the store on shutdown

    @classmethod
    def build(cls, settings: Settings, store: Store | None = None,
              profiles: dict[str, dict[str, Profile]] | None = None, *, hubs: dict[str, Hub] | None = None,
              live: LiveState | None = None, mqtt: bool = True) -> Collector:
        """Create and wire every part.

        ``store``: one the caller owns (and closes); by default the one the settings select, closed on
        shutdown.  ``profiles`` overrides zone profiles by hub and zone id (the demo shortens timeouts).
        ``hubs``: configs already loaded (default: ``settings.config_paths``).  ``live``: an existing
        live state.  ``mqtt=False``: no ingest, the API over the store only (tests, benchmarks).
        Raises ConfigError for a bad hub config or an unknown ``default_hub``, ValueError if ``bookings``
        names an unknown room."""
        hubs = hubs if hubs is not None else (live.hubs if live else load_hubs(settings.config_paths))
        if settings.default_hub is not None and settings.default_hub not in hubs:
            raise ConfigError([f"default_hub: unknown hub {settings.default_hub!r}; known hubs: {', '.join(hubs)}"])
        calendars = CalendarSources(settings.bookings, hubs, settings.bookings_refresh_s)
        owns_store = store is None
        store = store if store is not None else open_store(settings)
        live = live or LiveState(hubs, profiles or {}, stale_factor=settings.stale_after_factor)
        learned = LearnedKeeper(live, store, settings.learned_save_s)
        learned.restore()  # before ingest starts: the zones go on from what they had learned
        counters = IngestCounters()
        ingest = Ingest(settings, live, store, counters) if mqtt else None
        metrics = CollectorMetrics(live, store, counters=lambda: counters,
                                   connected=ingest.connected.is_set if ingest else lambda: None)
        homeassistant = None
        if ingest is not None:
            ingest.after_commit += [metrics.on_commit, lambda commit: live.announce(commit.changes, commit.now),
                                    lambda commit: learned.tick(commit.now)]
            if settings.homeassistant_discovery:
                homeassistant = HomeAssistantPublisher(hubs, live, settings.homeassistant_prefix).attach(ingest)
        notifier = build_notifier(settings, hubs, live, store, monitor=ingest is not None)
        if ingest is not None:
            ingest.after_commit.append(notifier.on_commit)
        summaries = NetworkSummaries(hubs, live, store, default_hub=settings.default_hub, simulated=settings.demo,
                                     refresh_s=settings.network_refresh_s)
        rooms = build_room_watch(settings, hubs, calendars, store, live, notifier)
        if ingest is not None:
            ingest.after_commit.append(rooms.on_commit)
        app = create_app(AppParts(settings, store, hubs, live, counters, metrics, calendars, summaries, ingest,
                                  notifier, rooms))
        collector = cls(settings, hubs, store, live, ingest, metrics, homeassistant, notifier, learned, summaries,
                        rooms, app, owns_store)
        app.router.lifespan_context = collector._lifespan
        return collector

    @asynccontextmanager
    async def _lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        self.notifier.start()
        if self.ingest is not None:
            self.ingest.start()
            self.rooms.start()
        self.summaries.start()
        try:
            yield
        finally:
            self.summaries.stop()
            if self.homeassistant is not None:
                self.homeassistant.close()  # a clean disconnect sends no Last Will: say 'offline' first
            self.rooms.stop()
            if self.ingest is not None:
                self.ingest.stop()
                self.learned.save()  # the writer has stopped: nothing learns any more
            self.notifier.close()
            if self.owns_store:
                self.store.close()

    # --- serving -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.settings.http_host}:{self.settings.http_port}"

    def serve(self) -> None:
        """Run until interrupted."""
        log.info("API and dashboard on %s/", self.url)
        self._server().run()

    @contextmanager
    def serving(self, timeout: float = 20.0) -> Iterator[Collector]:
        """Serve in a thread for the length of the block: entered once the API answers and the
        ingest (if any) is subscribed to the broker; stopped (and shut down) on exit."""
        server = self._server()
        thread = threading.Thread(target=server.run, name="collector-uvicorn", daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout
        while not (server.started and (self.ingest is None or self.ingest.subscribed.is_set())):
            if time.monotonic() > deadline or not thread.is_alive():
                server.should_exit = True
                thread.join(15)
                raise RuntimeError("the collector did not start")
            time.sleep(0.02)
        try:
            yield self
        finally:
            server.should_exit = True
            thread.join(15)

    def _server(self) -> uvicorn.Server:
        s = self.settings
        return uvicorn.Server(server_config(self.app, s, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S))


def build_notifier(settings: Settings, hubs: dict[str, Hub], live: LiveState, store: Store,
                   monitor: bool) -> Notifier:
    """Webhooks (always: inert without subscriptions) and, with the MQTT ingest, the condition monitor."""
    outbox = Outbox(settings.notify_file)
    targets = TargetPolicy.from_lists(settings.webhook_allowed_hosts, settings.webhook_private_networks)
    webhooks = Webhooks(outbox, targets, DeliveryPolicy(
        timeout_s=settings.webhook_timeout_s, backoff_s=settings.webhook_backoff_s,
        backoff_max_s=settings.webhook_backoff_max_s, retry_for_s=settings.webhook_retry_for_s,
        log_days=settings.webhook_log_days))
    watcher = None
    if monitor:
        alerts = email_alerts(settings, hubs, store, outbox)
        watcher = Monitor(hubs, live, store, outbox, webhooks, settings.alerts_check_s, _clock(settings.summary_at),
                          alerts)
    return Notifier(settings, hubs, live, webhooks, watcher)


def email_alerts(settings: Settings, hubs: dict[str, Hub], store: Store, outbox: Outbox) -> EmailAlerts | None:
    """E-mail alerts when an SMTP host and recipients are set."""
    s = settings
    if not (s.smtp_host and s.alert_email_to):
        return None
    sender = SmtpSender(SmtpConfig(s.smtp_host, s.smtp_port, s.smtp_security, s.smtp_username, s.smtp_password,
                                   s.smtp_tls_ca, s.smtp_from, s.smtp_timeout_s))
    rules = AlertRules(s.alert_offline_min * 60, s.alert_no_data_min * 60, s.alert_group_s, s.alert_min_interval_s,
                       _clock(s.alert_digest_at) if s.alert_digest_at else None)
    names = {h.id: h.name for h in hubs.values()}
    return EmailAlerts(sender, s.alert_email_to, hubs, outbox, rules, s.alert_email_lang,
                       lambda now: utilisation_lines(yesterday(hubs, store, now), names, s.alert_email_lang),
                       s.default_hub)


def _clock(text: str) -> dt_time:
    hour, minute = map(int, text.split(":"))
    return dt_time(hour, minute)


def build_room_watch(settings: Settings, hubs: dict[str, Hub], calendars: CalendarSources, store: Store,
                     live: LiveState, notifier: Notifier) -> RoomWatch:
    """The room watch and its listeners: room events become webhook deliveries (room.released,
    room.walk_in, room.overrun); a room card that changes goes to the SSE stream as a ``room`` event.
    Another consumer of room events registers here with ``rooms.add_listener``."""
    rooms = RoomWatch(hubs, calendars, store, settings.bookings_grace_min)

    def to_webhooks(event: RoomEvent) -> None:
        notifier.emit(event.type.value, event.hub, event.data, event.at)

    def to_stream(room: RoomNow) -> None:
        payload = RoomOut.build(hubs[room.hub], room).model_dump(mode="json")
        live.broadcaster.publish(room.hub, {"type": "room", "room": {"hub": room.hub, **payload}})

    rooms.add_listener(to_webhooks)
    rooms.add_status_listener(to_stream)
    return rooms


def check_port(settings: Settings) -> None:
    """Raise PortInUse if something already listens on the API's address."""
    if port_in_use(settings.http_port, settings.http_host):
        raise PortInUse(
            f"port {settings.http_port} on {settings.http_host} is already in use: stop what runs there "
            f"or choose another with --port / HUBSENSE_HTTP_PORT"
        )


def refuse_insecure_production(settings: Settings) -> None:
    """In production mode, empty or default secrets are a configuration error (exit status 2)."""
    from collector.auth import production_problems

    if settings.production and (problems := production_problems(settings)):
        raise ConfigError([f"production mode: {p}" for p in problems])


def serve(settings: Settings) -> None:
    """``hubsense collector``: run the collector until interrupted."""
    refuse_insecure_production(settings)
    check_port(settings)
    Collector.build(settings).serve()
