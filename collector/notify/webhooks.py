"""Outbound webhooks: events to the outbox (:meth:`Webhooks.publish`) and a dispatcher thread
that delivers them.

Per subscription one delivery is in flight at a time, the oldest pending one, so deliveries
arrive in order; a failed attempt is retried with exponential backoff (``webhook_backoff_s``,
doubling up to ``webhook_backoff_max_s``) until ``webhook_retry_for_s`` (25 h by default) have
passed since the event, then marked failed and the next one goes.  At most ``rate_per_minute``
attempts per subscription start in any 60 s.  Every attempt re-checks the target
(:mod:`collector.notify.targets`) and signs the body afresh (:mod:`collector.notify.signing`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from collector.notify.events import SCHEMA_VERSION, EventType, new_delivery_id
from collector.notify.http import Result, post
from collector.notify.outbox import Delivery, Outbox, Subscription
from collector.notify.signing import signature_header
from collector.notify.targets import TargetPolicy, TargetRefused, check

log = logging.getLogger(__name__)
KNOWN = ("free", "occupied")


@dataclass(frozen=True)
class DeliveryPolicy:
    timeout_s: float = 10.0
    backoff_s: float = 30.0
    backoff_max_s: float = 3600.0
    retry_for_s: float = 25 * 3600.0
    workers: int = 4
    rate_window_s: float = 60.0
    idle_poll_s: float = 1.0
    log_days: float = 14.0  # finished deliveries are pruned after this long

    def next_attempt(self, delivery: Delivery, now: float) -> float | None:
        """When to try again after a failed attempt, or None: give up."""
        if now - delivery.created >= self.retry_for_s:
            return None
        return now + min(self.backoff_s * 2 ** delivery.attempts, self.backoff_max_s)


def wanted(sub: Subscription, event_type: str, hub: str | None, data: dict) -> bool:
    """Does this subscription get this event?  ``free_occupied_only`` keeps the zone changes between
    free and occupied (an unknown spell in between is skipped over)."""
    if not sub.wants(event_type, hub):
        return False
    if event_type == EventType.ZONE_STATE_CHANGED and sub.free_occupied_only:
        return data["state"] in KNOWN and data.get("last_known") not in (None, data["state"])
    return True


def envelope(delivery_id: str, event_type: str, hub: str | None, created: datetime, data: dict) -> bytes:
    return orjson.dumps({"id": delivery_id, "type": event_type, "v": SCHEMA_VERSION, "created": created,
                         "hub": hub, "data": data}, option=orjson.OPT_UTC_Z)


class Webhooks:
    """The outbox's writer (publish) and its dispatcher thread."""

    def __init__(self, outbox: Outbox, targets: TargetPolicy, policy: DeliveryPolicy | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.outbox = outbox
        self.targets = targets
        self.policy = policy or DeliveryPolicy()
        self.clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._in_flight: set[str] = set()
        self._sent: dict[str, deque[float]] = {}
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None

    # -- publishing --------------------------------------------------------------------------

    def subscribers(self, event_type: str, hub: str | None = None) -> bool:
        """Does any subscription take this type (cheap: the hot path asks before building payloads)?"""
        return any(s.wants(event_type, hub) for s in self.outbox.subscriptions())

    def publish(self, items: list[tuple[str, str | None, datetime, dict]]) -> int:
        """Queue events ``(type, hub, created, data)`` for every subscription that wants them, in one
        transaction (in order); returns the number of deliveries queued."""
        rows = []
        subs = self.outbox.subscriptions()
        for event_type, hub, created, data in items:
            for sub in subs:
                if wanted(sub, event_type, hub, data):
                    did = new_delivery_id()
                    rows.append((did, sub.id, event_type, envelope(did, event_type, hub, created, data)))
        n = self.outbox.enqueue(rows, self.clock())
        if n:
            self._wake.set()
        return n

    def ping(self, sub: Subscription) -> str:
        """Queue a test event for one subscription (even a paused one's log shows it); its delivery id."""
        did = new_delivery_id()
        data = {"subscription": sub.id, "message": "Test event from hubsense: this subscription works."}
        self.outbox.enqueue([(did, sub.id, EventType.PING.value,
                              envelope(did, EventType.PING.value, None, datetime.now(UTC), data))], self.clock())
        self._wake.set()
        return did

    # -- dispatching -------------------------------------------------------------------------

    def start(self) -> Webhooks:
        self._pool = ThreadPoolExecutor(self.policy.workers, thread_name_prefix="webhook")
        self._thread = threading.Thread(target=self._run, name="webhook-dispatcher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        next_prune = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + 3600
                    self.outbox.prune(self.clock() - self.policy.log_days * 86400)
                wait = self._dispatch()
            except Exception:
                log.exception("webhook dispatcher: reading the outbox failed; retrying")
                wait = self.policy.idle_poll_s
            self._wake.wait(max(0.0, wait))
            self._wake.clear()

    def _dispatch(self) -> float:
        """Start every due head delivery; the seconds until something may be due next."""
        now = self.clock()
        wait = self.policy.idle_poll_s
        for delivery in self.outbox.heads():
            sub = self.outbox.subscription(delivery.subscription)
            if sub is None or delivery.subscription in self._in_flight:
                continue
            if not sub.active and delivery.type != EventType.PING:
                continue
            due = max(delivery.next_at, self._rate_free_at(sub, now))
            if due > now:
                wait = min(wait, due - now)
                continue
            self._in_flight.add(sub.id)
            self._sent.setdefault(sub.id, deque()).append(now)
            assert self._pool is not None
            self._pool.submit(self._attempt, sub, delivery)
        return wait

    def _rate_free_at(self, sub: Subscription, now: float) -> float:
        sent = self._sent.get(sub.id)
        if not sent:
            return now
        while sent and sent[0] <= now - self.policy.rate_window_s:
            sent.popleft()
        if len(sent) < max(1, sub.rate_per_minute):
            return now
        return sent[0] + self.policy.rate_window_s

    def _attempt(self, sub: Subscription, delivery: Delivery) -> None:
        try:
            result = self._send(sub, delivery)
            now = self.clock()
            next_at = None if result.ok else self.policy.next_attempt(delivery, now)
            if not result.ok:
                log.info("webhook %s to %s failed (attempt %d): %s", delivery.id, sub.url, delivery.attempts + 1,
                         result.error)
            self.outbox.attempted(delivery, now, result.status, result.error, next_at)
        except Exception:
            log.exception("webhook delivery %s: recording the attempt failed", delivery.id)
        finally:
            self._in_flight.discard(sub.id)
            self._wake.set()

    def _send(self, sub: Subscription, delivery: Delivery) -> Result:
        try:
            target = check(sub.url, self.targets)
        except TargetRefused as exc:
            return Result(None, f"refused: {exc}")
        headers = {
            "Hubsense-Signature": signature_header([sub.secret], int(self.clock()), delivery.body),
            "Hubsense-Delivery": delivery.id,
            "Hubsense-Event": delivery.type,
        }
        try:
            return post(target, delivery.body, headers, self.policy.timeout_s, self.targets)
        except Exception as exc:  # a bug must not stop the dispatcher
            log.exception("webhook delivery %s crashed", delivery.id)
            return Result(None, f"internal error: {exc!r}")
