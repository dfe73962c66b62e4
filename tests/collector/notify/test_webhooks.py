"""Webhook delivery against a real HTTP receiver: down for a while, 500 then 200, slow, the rate
limit, giving up, and the signature checked with the documented recipe."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from collector.notify.events import EventType
from collector.notify.outbox import DELIVERED, FAILED, PENDING, Outbox, Subscription
from collector.notify.signing import new_secret
from collector.notify.targets import TargetPolicy
from collector.notify.webhooks import DeliveryPolicy, Webhooks
from tests.collector.notify.receiver import Receiver, always
from tests.support import wait_for

LOOPBACK = TargetPolicy.from_lists([], ["127.0.0.0/8"])
FAST = DeliveryPolicy(timeout_s=1.0, backoff_s=0.05, backoff_max_s=0.2, retry_for_s=60, idle_poll_s=0.05)
ZONE = EventType.ZONE_STATE_CHANGED.value


def subscription(url: str, secret: str, **kw) -> Subscription:
    values = dict(id="wh_test", url=url, secret=secret, events=(ZONE, EventType.PING.value), hubs=(),
                  free_occupied_only=False, rate_per_minute=6000, description="", active=True, created=time.time())
    return Subscription(**(values | kw))


def zone_events(n: int, start: int = 0) -> list[tuple[str, str, datetime, dict]]:
    return [(ZONE, "stockholm", datetime.now(UTC), {"n": i, "state": "occupied" if i % 2 else "free"})
            for i in range(start, start + n)]


@pytest.fixture
def hooks(tmp_path: Path) -> Iterator[Webhooks]:
    webhooks = Webhooks(Outbox(tmp_path / "notify.sqlite3"), LOOPBACK, FAST).start()
    yield webhooks
    webhooks.stop()
    webhooks.outbox.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(secret=new_secret())
    yield r
    r.stop()


def numbers(r: Receiver) -> list[int]:
    return [x.body["data"]["n"] for x in r.accepted()]


def test_a_receiver_down_for_a_while_gets_everything_once_in_order(hooks: Webhooks, receiver: Receiver) -> None:
    sub = subscription(receiver.url, receiver.secret)
    hooks.outbox.save_subscription(sub)
    assert hooks.publish(zone_events(10)) == 10
    wait_for(lambda: hooks.outbox.deliveries(sub.id)[-1].attempts >= 3, timeout=10)  # connection refused, retried
    assert receiver.requests == 0
    hooks.publish(zone_events(10, start=10))
    receiver.start()
    wait_for(lambda: hooks.outbox.counts(sub.id)[DELIVERED] == 20, timeout=20)
    assert numbers(receiver) == list(range(20))  # in order
    ids = receiver.accepted_ids()
    assert len(set(ids)) == 20 == receiver.requests  # each exactly once, no request repeated
    assert all(r.signed for r in receiver.got)
    first = hooks.outbox.deliveries(sub.id)[-1]
    assert first.attempts >= 4 and first.status == DELIVERED and first.last_error is None


def test_500_then_200_is_retried_and_later_events_wait_their_turn(hooks: Webhooks, receiver: Receiver) -> None:
    receiver.behaviour = lambda r, body, n: (500 if n < 2 else 200, 0.0, {})
    receiver.start()
    sub = subscription(receiver.url, receiver.secret)
    hooks.outbox.save_subscription(sub)
    hooks.publish(zone_events(3))
    wait_for(lambda: hooks.outbox.counts(sub.id)[DELIVERED] == 3, timeout=10)
    assert [r.answered for r in receiver.got] == [500, 500, 200, 200, 200]
    assert [r.body["data"]["n"] for r in receiver.got] == [0, 0, 0, 1, 2]
    assert len({r.id for r in receiver.got[:3]}) == 1  # the same delivery id on every retry
    first = hooks.outbox.deliveries(sub.id)[-1]
    assert first.attempts == 3 and first.last_status == 200


def test_a_failed_attempt_keeps_its_error_in_the_log(hooks: Webhooks, receiver: Receiver) -> None:
    receiver.behaviour = always(503)
    receiver.start()
    sub = subscription(receiver.url, receiver.secret)
    hooks.outbox.save_subscription(sub)
    hooks.publish(zone_events(1))
    wait_for(lambda: hooks.outbox.deliveries(sub.id)[0].attempts >= 2, timeout=10)
    d = hooks.outbox.deliveries(sub.id)[0]
    assert d.status == PENDING and d.last_status == 503 and d.last_error.startswith("HTTP 503")


def test_a_slow_receiver_times_out_and_the_delivery_is_retried(tmp_path: Path, receiver: Receiver) -> None:
    receiver.behaviour = lambda r, body, n: (200, 1.5 if n == 0 else 0.0, {})
    receiver.start()
    policy = DeliveryPolicy(timeout_s=0.5, backoff_s=0.05, backoff_max_s=0.2, retry_for_s=60, idle_poll_s=0.05)
    hooks = Webhooks(Outbox(tmp_path / "o.sqlite3"), LOOPBACK, policy).start()
    try:
        sub = subscription(receiver.url, receiver.secret)
        hooks.outbox.save_subscription(sub)
        hooks.publish(zone_events(3))
        wait_for(lambda: hooks.outbox.counts(sub.id)[DELIVERED] == 3, timeout=15)
        first = hooks.outbox.deliveries(sub.id)[-1]
        assert first.attempts == 2
        log_errors = [r.id for r in receiver.got]
        assert log_errors.count(first.id) >= 1
        # the receiver finished the slow request after we gave up on it: deduplicated by id, it saw
        # every event once and in order
        seen: list[int] = []
        wait_for(lambda: len(receiver.got) == 4, timeout=5)
        for r in receiver.got:
            if r.body["data"]["n"] not in seen:
                seen.append(r.body["data"]["n"])
        assert seen == [0, 1, 2]
    finally:
        hooks.stop()
        hooks.outbox.close()


def test_a_delivery_is_given_up_after_the_retry_window_and_the_next_one_goes(tmp_path: Path,
                                                                             receiver: Receiver) -> None:
    receiver.behaviour = lambda r, body, n: (500 if body["data"]["n"] == 0 else 200, 0.0, {})
    receiver.start()
    policy = DeliveryPolicy(timeout_s=1, backoff_s=0.05, backoff_max_s=0.1, retry_for_s=0.5, idle_poll_s=0.05)
    hooks = Webhooks(Outbox(tmp_path / "o.sqlite3"), LOOPBACK, policy).start()
    try:
        sub = subscription(receiver.url, receiver.secret)
        hooks.outbox.save_subscription(sub)
        hooks.publish(zone_events(2))
        wait_for(lambda: hooks.outbox.counts(sub.id) == {PENDING: 0, DELIVERED: 1, FAILED: 1}, timeout=10)
        failed = hooks.outbox.deliveries(sub.id)[-1]
        assert failed.status == FAILED and failed.attempts >= 2 and failed.last_status == 500
        assert numbers(receiver) == [1]
    finally:
        hooks.stop()
        hooks.outbox.close()


def test_the_rate_limit_holds_back_deliveries(hooks: Webhooks, receiver: Receiver) -> None:
    receiver.start()
    sub = subscription(receiver.url, receiver.secret, rate_per_minute=3)
    hooks.outbox.save_subscription(sub)
    hooks.publish(zone_events(6))
    wait_for(lambda: len(receiver.got) == 3, timeout=10)
    time.sleep(1.0)
    assert len(receiver.got) == 3 and hooks.outbox.counts(sub.id)[PENDING] == 3


def test_subscriptions_are_ordered_each_on_its_own(hooks: Webhooks, receiver: Receiver) -> None:
    """A receiver that is down holds back only its own subscription."""
    receiver.start()
    down = Receiver(secret=new_secret())
    hooks.outbox.save_subscription(subscription(down.url, down.secret, id="wh_down"))
    hooks.outbox.save_subscription(subscription(receiver.url, receiver.secret, id="wh_up"))
    hooks.publish(zone_events(5))
    wait_for(lambda: hooks.outbox.counts("wh_up")[DELIVERED] == 5, timeout=10)
    assert numbers(receiver) == [0, 1, 2, 3, 4]
    assert hooks.outbox.counts("wh_down")[PENDING] == 5


def test_the_signature_fails_with_another_secret(hooks: Webhooks, receiver: Receiver) -> None:
    receiver.start()
    hooks.outbox.save_subscription(subscription(receiver.url, new_secret()))
    hooks.publish(zone_events(1))
    wait_for(lambda: receiver.got, timeout=10)
    assert not receiver.got[0].signed
    headers = receiver.got[0].headers
    assert headers["Hubsense-Delivery"] == receiver.got[0].id and headers["Hubsense-Event"] == ZONE


def test_free_occupied_only_skips_unknown(hooks: Webhooks, receiver: Receiver) -> None:
    receiver.start()
    hooks.outbox.save_subscription(subscription(receiver.url, receiver.secret, free_occupied_only=True))
    changes = [("free", None), ("occupied", "free"), ("unknown", "occupied"), ("occupied", "occupied"),
               ("free", "occupied")]
    hooks.publish([(ZONE, "stockholm", datetime.now(UTC), {"n": i, "state": s, "last_known": k})
                   for i, (s, k) in enumerate(changes)])
    wait_for(lambda: len(receiver.got) == 2, timeout=10)
    time.sleep(0.3)
    assert numbers(receiver) == [1, 4]
