"""The notification side of the collector, in one object: zone changes from the ingest
(:meth:`Notifier.on_commit`), events from other parts (:meth:`Notifier.emit`, e.g. the bookings'
room released / walk-in / overrun), the condition monitor and the webhook dispatcher."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from collector.ingest import Commit
from collector.live import LiveState
from collector.model import OccupancyState
from collector.notify.events import DATA_MODELS, EventType
from collector.notify.webhooks import Webhooks
from collector.settings import Settings
from hubsense.config import Hub, ZoneKind

if TYPE_CHECKING:
    from collector.notify.monitor import Monitor

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, settings: Settings, hubs: dict[str, Hub], live: LiveState, webhooks: Webhooks,
                 monitor: Monitor | None = None) -> None:
        self.settings = settings
        self.hubs = hubs
        self.live = live
        self.webhooks = webhooks
        self.monitor = monitor
        self._previous: dict[tuple[str, str], OccupancyState] = {}
        self._known: dict[tuple[str, str], OccupancyState] = {}

    def start(self) -> Notifier:
        self.webhooks.start()
        if self.monitor is not None:
            self.monitor.start()
        return self

    def close(self) -> None:
        if self.monitor is not None:
            self.monitor.stop()
        self.webhooks.stop()
        self.webhooks.outbox.close()

    # -- zone changes (ingest writer thread, after the store commit, before the MQTT ack) ----------

    def on_commit(self, commit: Commit) -> None:
        """Queue ``zone.state_changed`` for the batch's zone changes.  Written to the outbox before
        the messages are acknowledged, so a crash loses none.  Never raises."""
        try:
            items = self._zone_events(commit)
            if items:
                self.webhooks.publish(items)
        except Exception:
            log.exception("queueing webhook events for a batch failed")

    def _zone_events(self, commit: Commit) -> list[tuple[str, str | None, datetime, dict]]:
        items = []
        for change in commit.changes:
            if change.desk is not None:
                continue
            key = (change.hub, change.zone)
            previous, known = self._previous.get(key), self._known.get(key)
            self._previous[key] = change.state
            if change.state is not OccupancyState.UNKNOWN:
                self._known[key] = change.state
            if not self.webhooks.subscribers(EventType.ZONE_STATE_CHANGED, change.hub):
                continue
            zone = self.hubs[change.hub].zone(change.zone)
            items.append((EventType.ZONE_STATE_CHANGED.value, change.hub, change.at, {
                "hub": change.hub, "zone": zone.id, "zone_name": zone.name, "zone_kind": zone.kind.value,
                "state": change.state.value, "previous": previous and previous.value,
                "last_known": known and known.value, "at": change.at, "reason": change.reason,
                "free_desks": self._free_desks(change.hub, zone.id, commit.now) if zone.kind is ZoneKind.DESK_AREA
                else None,
            }))
        return items

    def _free_desks(self, hub: str, zone: str, now: datetime) -> int | None:
        with self.live.lock:
            return self.live.engines[hub].view(zone, now).free_desks

    # -- events from elsewhere -----------------------------------------------------------------

    def emit(self, event_type: EventType | str, hub: str | None, data: dict, at: datetime | None = None) -> int:
        """Queue an event for every subscription that wants it (the hook for room released / walk-in /
        overrun).  ``data`` is validated against the type's model (ValueError if it does not fit);
        returns the number of deliveries queued."""
        kind = EventType(event_type)
        checked = DATA_MODELS[kind].model_validate(data).model_dump(mode="json")
        return self.webhooks.publish([(kind.value, hub, at or datetime.now(UTC), checked)])
