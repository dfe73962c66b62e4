"""The room watch (collector/bookings/watch.py): rooms evaluated as time passes, room events and card changes
handed to listeners, a failing listener isolated; on a real SQLite store and a real Outlook calendar."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from collector.bookings.rooms import RoomEvent, RoomEventType, RoomNow, RoomStatus
from collector.bookings.sources import CalendarSources
from collector.bookings.watch import RoomWatch
from collector.ingest import Commit
from collector.store.sqlite import SqliteStore
from tests.collector.bookings.scenario import CALENDAR, ROOM, changes, lt, stockholm


@pytest.fixture
def watch(tmp_path: Path) -> Iterator[RoomWatch]:
    hub = stockholm()
    store = SqliteStore(tmp_path / "db.sqlite3")
    store.add_changes(changes())
    sources = CalendarSources({f"stockholm/{ROOM}": str(CALENDAR)}, {"stockholm": hub})
    yield RoomWatch({"stockholm": hub}, sources, store, grace_min=15)
    store.close()


def test_poll_hands_events_and_card_changes_to_the_listeners(watch: RoomWatch) -> None:
    events: list[RoomEvent] = []
    cards: list[RoomNow] = []

    def broken(event: RoomEvent) -> None:
        raise RuntimeError("a listener with a bug")

    watch.add_listener(broken)  # logged; the next listener still gets every event
    watch.add_listener(events.append)
    watch.add_status_listener(cards.append)
    for minute in range(0, 60, 5):  # 26 March, 10:00-10:55
        watch.poll(lt("2026-03-26 10:00") + timedelta(minutes=minute))
    assert [(e.type, e.at) for e in events] == [(RoomEventType.RELEASED, lt("2026-03-26 10:15")),
                                                (RoomEventType.WALK_IN, lt("2026-03-26 10:40"))]
    assert [c.status for c in cards] == [RoomStatus.BOOKED, RoomStatus.RELEASED, RoomStatus.RELEASED_IN_USE]
    assert watch.recent("stockholm") == events and watch.recent("ostersund") == []
    assert watch.recent("stockholm", since=lt("2026-03-26 10:30")) == events[1:]
    assert [r.status for r in watch.rooms("stockholm", lt("2026-03-26 12:05"))] == [RoomStatus.FREE]


def test_a_stored_batch_in_a_watched_room_wakes_the_watch(watch: RoomWatch) -> None:
    other = changes(zone="lagerelden")[:1]
    watch.on_commit(Commit(other, lt("2026-03-26 10:00"), 1, 0.0))  # not a room with a calendar
    assert not watch._wake.is_set()
    watch.on_commit(Commit(changes()[:1], lt("2026-03-26 10:00"), 1, 0.0))
    assert watch._wake.is_set()


def test_an_unreadable_calendar_is_logged_once_and_the_other_hubs_go_on(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    hub = stockholm()
    store = SqliteStore(tmp_path / "db.sqlite3")
    missing = tmp_path / "gone.ics"
    sources = CalendarSources({f"stockholm/{ROOM}": str(missing)}, {"stockholm": hub}, refresh_s=0)
    watch = RoomWatch({"stockholm": hub}, sources, store, grace_min=15)
    with caplog.at_level("INFO", logger="collector.bookings.watch"):
        for minute in range(3):
            assert watch.poll(lt("2026-03-26 10:00") + timedelta(minutes=minute)) == []
        missing.write_bytes(CALENDAR.read_bytes())
        watch.poll(lt("2026-03-26 10:05"))
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if "not evaluated" in m and "gone.ics" in m]) == 1
    assert messages[-1] == "rooms of hub stockholm evaluated again"
    store.close()
