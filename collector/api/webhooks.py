"""Webhook subscriptions for managers: create, change, pause, delete, rotate the secret, send a test
event and read the delivery log (docs/integrations.md#webhooks)."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from collector.api.access import MANAGER
from collector.api.models import (
    DeliveryCounts,
    DeliveryLog,
    DeliveryOut,
    EventTypeOut,
    PingQueued,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatch,
)
from collector.api.params import find_hub, get_hubs, unknown_id
from collector.api.security import GuardedRoute
from collector.notify.events import DESCRIPTIONS, EventType
from collector.notify.notifier import Notifier
from collector.notify.outbox import PENDING, Delivery, Subscription
from collector.notify.signing import new_secret
from collector.notify.targets import TargetRefused, check
from hubsense.config import Hub

router = APIRouter(dependencies=[MANAGER], route_class=GuardedRoute)


async def get_notifier(request: Request) -> Notifier:
    return request.app.state.notifier


def _dt(t: float | None) -> datetime | None:
    return None if t is None else datetime.fromtimestamp(t, UTC)


def _out(n: Notifier, sub: Subscription, secret: bool = False) -> SubscriptionOut:
    return SubscriptionOut(
        id=sub.id, url=sub.url, events=list(sub.events), hubs=list(sub.hubs), free_occupied_only=sub.free_occupied_only,
        rate_per_minute=sub.rate_per_minute, description=sub.description, active=sub.active,
        created=_dt(sub.created), deliveries=DeliveryCounts(**n.webhooks.outbox.counts(sub.id)),
        secret=sub.secret if secret else None)


def _delivery(d: Delivery) -> DeliveryOut:
    return DeliveryOut(id=d.id, type=d.type, status=d.status, attempts=d.attempts, created=_dt(d.created),
                       last_attempt_at=_dt(d.last_attempt_at), next_attempt_at=_dt(d.next_at) if d.status == PENDING
                       else None, last_status=d.last_status, last_error=d.last_error, done_at=_dt(d.done_at))


def _checked_url(n: Notifier, url: str) -> str:
    try:
        check(url, n.webhooks.targets)
    except TargetRefused as exc:
        raise HTTPException(422, f"url: {exc}") from None
    return url


def _hub_ids(hubs: dict[str, Hub], wanted: list[str]) -> tuple[str, ...]:
    return tuple(find_hub(hubs, h).id for h in wanted)  # 404 naming the hubs for an unknown one


def _find(n: Notifier, sub_id: str) -> Subscription:
    sub = n.webhooks.outbox.subscription(sub_id)
    if sub is None:
        raise HTTPException(404, unknown_id("subscription", sub_id, (s.id for s in n.webhooks.outbox.subscriptions())))
    return sub


@router.get("/api/webhooks/events", response_model=list[EventTypeOut], summary="Event types a webhook can get")
def event_types() -> list[EventTypeOut]:
    return [EventTypeOut(type=t, description=DESCRIPTIONS[t], schema_url=f"docs/schema/webhooks/{t.value}.schema.json")
            for t in EventType]


@router.get("/api/webhooks", response_model=list[SubscriptionOut], summary="Webhook subscriptions")
def list_subscriptions(n: Notifier = Depends(get_notifier)) -> list[SubscriptionOut]:
    return [_out(n, s) for s in n.webhooks.outbox.subscriptions()]


@router.post("/api/webhooks", response_model=SubscriptionOut, status_code=201,
             summary="Create a subscription (the answer carries its signing secret, once)")
def create_subscription(body: SubscriptionIn, n: Notifier = Depends(get_notifier),
                        hubs: dict[str, Hub] = Depends(get_hubs)) -> SubscriptionOut:
    settings = n.settings
    sub = Subscription(
        id="wh_" + secrets.token_hex(6), url=_checked_url(n, body.url), secret=new_secret(),
        events=tuple(dict.fromkeys(e.value for e in body.events)), hubs=_hub_ids(hubs, body.hubs),
        free_occupied_only=body.free_occupied_only,
        rate_per_minute=body.rate_per_minute or settings.webhook_rate_per_minute,
        description=body.description, active=body.active, created=time.time())
    n.webhooks.outbox.save_subscription(sub)
    return _out(n, sub, secret=True)


@router.patch("/api/webhooks/{sub_id}", response_model=SubscriptionOut, summary="Change or pause a subscription")
def change_subscription(sub_id: str, body: SubscriptionPatch, n: Notifier = Depends(get_notifier),
                        hubs: dict[str, Hub] = Depends(get_hubs)) -> SubscriptionOut:
    sub = _find(n, sub_id)
    changes = body.model_dump(exclude_none=True)
    if "url" in changes:
        _checked_url(n, changes["url"])
    if "events" in changes:
        changes["events"] = tuple(dict.fromkeys(EventType(e).value for e in changes["events"]))
    if "hubs" in changes:
        changes["hubs"] = _hub_ids(hubs, changes["hubs"])
    fields = {k: getattr(sub, k) for k in Subscription.__dataclass_fields__} | changes
    new = Subscription(**fields)
    n.webhooks.outbox.save_subscription(new)
    n.webhooks.wake()
    return _out(n, new)


@router.post("/api/webhooks/{sub_id}/secret", response_model=SubscriptionOut,
             summary="Rotate the signing secret (the answer carries the new one)")
def rotate_secret(sub_id: str, n: Notifier = Depends(get_notifier)) -> SubscriptionOut:
    sub = _find(n, sub_id)
    fields = {k: getattr(sub, k) for k in Subscription.__dataclass_fields__} | {"secret": new_secret()}
    new = Subscription(**fields)
    n.webhooks.outbox.save_subscription(new)
    return _out(n, new, secret=True)


@router.delete("/api/webhooks/{sub_id}", status_code=204, summary="Delete a subscription and its deliveries")
def delete_subscription(sub_id: str, n: Notifier = Depends(get_notifier)) -> None:
    _find(n, sub_id)
    n.webhooks.outbox.delete_subscription(sub_id)


@router.post("/api/webhooks/{sub_id}/test", response_model=PingQueued, status_code=202,
             summary="Send a test event ('ping'); its outcome appears in the delivery log")
def send_test(sub_id: str, n: Notifier = Depends(get_notifier)) -> PingQueued:
    return PingQueued(delivery=n.webhooks.ping(_find(n, sub_id)))


@router.get("/api/webhooks/{sub_id}/deliveries", response_model=DeliveryLog,
            summary="Delivery log of a subscription: status, attempts, last error (newest first)")
def delivery_log(sub_id: str, limit: int = Query(50, ge=1, le=500, description="Most deliveries listed."),
                 n: Notifier = Depends(get_notifier)) -> DeliveryLog:
    _find(n, sub_id)
    log = n.webhooks.outbox.deliveries(sub_id, limit)
    return DeliveryLog(subscription=sub_id, deliveries=[_delivery(d) for d in log])
