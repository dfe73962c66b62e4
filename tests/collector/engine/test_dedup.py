from __future__ import annotations

from collector.engine.dedup import MAX_BOOTS, MAX_PENDING, Deduplicator, SeqWindow


def test_window_sees_each_seq_once_in_any_order() -> None:
    w = SeqWindow()
    assert [w.add(s) for s in (1, 3, 2, 3, 1, 0, 0)] == [True, True, True, False, False, True, False]
    assert w.mark == 3 and not w.above


def test_window_memory_is_bounded() -> None:
    w = SeqWindow()
    for s in range(1, 10 * MAX_PENDING, 2):  # every other seq lost
        w.add(s)
    assert len(w.above) <= MAX_PENDING


def test_boots_are_separate_and_bounded() -> None:
    d = Deduplicator()
    assert d.first_time("a", "b1", 1) and d.first_time("a", "b2", 1) and d.first_time("x", "b1", 1)
    assert not d.first_time("a", "b1", 1)
    for i in range(MAX_BOOTS + 5):
        d.first_time("a", f"boot{i}", 1)
    assert len(d._boots["a"]) == MAX_BOOTS
