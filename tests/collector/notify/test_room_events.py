"""Room events from the bookings (collector/bookings/rooms.py) fit the webhook payloads and reach a
real receiver through Notifier.emit, the hook Collector.build connects the room watch to."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collector.bookings.calendar import Booking
from collector.bookings.rooms import RoomNow, RoomStatus, room_events
from collector.live import LiveState
from collector.notify.outbox import DELIVERED
from collector.service import build_notifier
from collector.settings import Settings
from collector.store.sqlite import SqliteStore
from hubsense.config import Hub
from tests.collector.notify.receiver import Receiver
from tests.collector.notify.test_webhooks import subscription
from tests.support import wait_for


def test_released_walk_in_and_overrun_are_delivered(tmp_path: Path, hubs: dict[str, Hub], stockholm: Hub) -> None:
    now = datetime(2026, 11, 30, 13, 20, tzinfo=UTC)
    room = next(z.id for z in stockholm.zones if z.bookable)
    booking = Booking(room, now - timedelta(minutes=20), now + timedelta(minutes=40))
    booked = RoomNow("stockholm", room, now, RoomStatus.BOOKED, booking, None, None, None, None, 0.0)
    released = replace(booked, status=RoomStatus.RELEASED, released_at=now, free_until=booking.end)
    taken = replace(released, status=RoomStatus.RELEASED_IN_USE, occupied_since=now + timedelta(minutes=5))
    over = replace(booked, at=booking.end + timedelta(minutes=20), status=RoomStatus.OVERRUN, overrun_s=1200.0)
    events = [*room_events(stockholm, booked, released, timedelta(minutes=5)),
              *room_events(stockholm, released, taken, timedelta(minutes=5)),
              *room_events(stockholm, booked, over, timedelta(minutes=5))]
    assert [e.type.value for e in events] == ["room.released", "room.walk_in", "room.overrun"]

    receiver = Receiver().start()
    store = SqliteStore(tmp_path / "db.sqlite3")
    settings = Settings(sqlite_path=tmp_path / "db.sqlite3", webhook_private_networks=["127.0.0.1/32"],
                        webhook_backoff_s=0.05)
    notifier = build_notifier(settings, hubs, LiveState(hubs), store, monitor=False)
    try:
        sub = subscription(receiver.url, receiver.secret, events=tuple(e.type.value for e in events))
        notifier.webhooks.outbox.save_subscription(sub)
        notifier.start()
        for e in events:
            assert notifier.emit(e.type.value, e.hub, e.data, e.at) == 1
        wait_for(lambda: notifier.webhooks.outbox.counts(sub.id)[DELIVERED] == 3, timeout=10)
        got = receiver.accepted()
        assert [r.type for r in got] == ["room.released", "room.walk_in", "room.overrun"]
        assert got[0].body["data"]["free_until"] == booking.end.isoformat().replace("+00:00", "Z")
        assert got[2].body["data"]["overrun_min"] == 20.0
        with pytest.raises(ValueError):
            notifier.emit("room.released", "stockholm", {"hub": "stockholm"})  # data that does not fit
    finally:
        notifier.close()
        store.close()
        receiver.stop()
