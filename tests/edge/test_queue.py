from __future__ import annotations

import threading
from pathlib import Path

import pytest

from edge.queue import EventQueue


def _fill(q: EventQueue, n: int, boot: str = "b1", start: int = 1) -> list[int]:
    return [q.put(boot, seq, "t", f"p{seq}".encode()) for seq in range(start, start + n)]


def test_fifo_take_and_ack(tmp_path: Path) -> None:
    q = EventQueue(tmp_path / "q.sqlite3")
    _fill(q, 5)
    first = q.take(3)
    assert [e.seq for e in first] == [1, 2, 3]
    assert q.depth == 5 and q.pending == 2
    assert [e.seq for e in q.take(10)] == [4, 5]  # handed-out ones are not taken twice
    q.ack([first[0].id, first[1].id])  # PUBACK mode: delivered means gone
    assert q.depth == 3 and q.pending == 0
    q.rewind()  # a new connection: whatever is left goes out again, oldest first
    assert [e.seq for e in q.take(10)] == [3, 4, 5]


def test_sent_events_stay_until_the_collector_confirms_them(tmp_path: Path) -> None:
    q = EventQueue(tmp_path / "q.sqlite3")
    _fill(q, 6, boot="b1")
    _fill(q, 2, boot="b2")
    q.sent([e.id for e in q.take(8)])  # all PUBACKed by the broker
    assert q.depth == 8 and q.pending == 0
    assert q.confirm([("b1", 1, 2), ("b1", 5, 5), ("b2", 1, 1), ("other", 1, 9)]) == 4
    assert q.depth == 4
    q.rewind()  # e.g. after a broker crash: the unconfirmed ones go again, in order
    assert [(e.boot, e.seq) for e in q.take(10)] == [("b1", 3), ("b1", 4), ("b1", 6), ("b2", 2)]


def test_confirming_pending_and_in_flight_events_keeps_the_counts(tmp_path: Path) -> None:
    q = EventQueue(tmp_path / "q.sqlite3")
    _fill(q, 10)
    q.take(4)  # 1-4 in flight, 5-10 pending
    assert q.confirm([("b1", 3, 6)]) == 4
    assert (q.depth, q.pending) == (6, 4)
    assert [e.seq for e in q.take(10)] == [7, 8, 9, 10]
    q.failed([1])  # refused by the broker: sent again after the next rewind
    q.rewind()
    assert [e.seq for e in q.take(10)] == [1, 2, 7, 8, 9, 10]


def test_bound_drops_oldest_and_counts(tmp_path: Path) -> None:
    q = EventQueue(tmp_path / "q.sqlite3", max_events=4)
    _fill(q, 10)
    assert q.depth == 4
    assert q.dropped == 6
    assert [e.seq for e in q.take(10)] == [7, 8, 9, 10]


def test_bound_never_drops_in_flight_events(tmp_path: Path) -> None:
    q = EventQueue(tmp_path / "q.sqlite3", max_events=3)
    _fill(q, 3)
    in_flight = q.take(1)  # seq 1 is with the broker
    _fill(q, 2, start=4)
    q.failed([in_flight[0].id])
    q.rewind()
    assert [e.seq for e in q.take(10)] == [1, 4, 5]
    assert q.dropped == 2


def test_bound_drops_sent_but_unconfirmed_events_too(tmp_path: Path) -> None:
    q = EventQueue(tmp_path / "q.sqlite3", max_events=3)
    _fill(q, 3)
    q.sent([e.id for e in q.take(3)])  # PUBACKed, the collector has not confirmed them
    _fill(q, 2, start=4)
    assert (q.depth, q.dropped) == (3, 2)
    q.rewind()
    assert [e.seq for e in q.take(10)] == [3, 4, 5]


def test_survives_reopen_with_count(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "q.sqlite3"
    q = EventQueue(path, max_events=3)
    _fill(q, 5, boot="old")
    q.take(2)  # in flight when the process dies: pending again after restart
    q.close()
    q2 = EventQueue(path, max_events=3)
    assert q2.depth == 3 and q2.dropped == 2
    _fill(q2, 1, boot="new")
    assert [(e.boot, e.seq) for e in q2.take(10)] == [("old", 4), ("old", 5), ("new", 1)]
    assert q2.dropped == 3


def test_concurrent_puts_keep_every_event(tmp_path: Path) -> None:
    q = EventQueue(tmp_path / "q.sqlite3")
    threads = [threading.Thread(target=_fill, args=(q, 50, f"b{i}")) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    events = q.take(1000)
    assert len(events) == 200 == q.depth
    for i in range(4):
        assert [e.seq for e in events if e.boot == f"b{i}"] == list(range(1, 51))


def test_rejects_zero_bound() -> None:
    with pytest.raises(ValueError):
        EventQueue(":memory:", max_events=0)
