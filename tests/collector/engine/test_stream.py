"""The streaming replay order: within its reorder bound, exactly the canonical order (and so the
same timeline as ``replay_timeline``), with bounded memory; beyond it, late messages are counted."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.engine import Engine, replay_timeline
from collector.engine.stream import REORDER_S, Reorder
from collector.engine.timeline import canonical, step
from hubsense.protocol import AgentState, AgentStatus, Heartbeat
from tests.collector.engine.helpers import at, mini_hub
from tests.collector.engine.test_timeline import _messages
from tests.collector.engine.test_timeline import step as drawn_step

HUB = mini_hub()


def _received_order(messages: list, rnd: random.Random, jitter: float) -> list:
    """Messages as a recorder might have written them: by receive time, each line moved up to
    ``jitter`` seconds out of place, some delivered twice (a copy received a little later)."""
    copies = []
    for msg, received in messages:
        copies.append((received.timestamp() + rnd.uniform(0, jitter), msg, received))
        if rnd.random() < 0.2:
            later = received.fromtimestamp(received.timestamp() + rnd.uniform(0, 20), received.tzinfo)
            copies.append((later.timestamp() + rnd.uniform(0, jitter), msg, later))
    copies.sort(key=lambda c: c[0])
    return [(msg, received) for _, msg, received in copies]


def _released(lines: list) -> tuple[list, Reorder]:
    reorder = Reorder()
    out = []
    for msg, received in lines:
        reorder.push(msg.hub, msg, received)
        out += list(reorder.ready())
    out += list(reorder.drain())
    return out, reorder


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(drawn_step, min_size=1, max_size=60), st.integers(0, 10_000))
def test_within_the_bound_the_order_and_the_timeline_are_the_canonical_ones(steps, seed) -> None:
    messages = _messages(steps)
    lines = _received_order(messages, random.Random(seed), jitter=REORDER_S * 0.9)
    released, reorder = _released(lines)
    assert [key for _, key, _, _, _ in released] == [key for key, _, _, _ in canonical(HUB.id, messages)]
    assert reorder.late == 0 and len(reorder) == 0
    engine = Engine(HUB)
    changes = [c for _, key, kind, msg, received in released for c in step(engine, key, kind, msg, received)]
    assert changes == replay_timeline(HUB, messages)


def test_memory_holds_only_the_window() -> None:
    """A day of heartbeats every 10 s: the reorder holds a few minutes of them, never the day."""
    reorder, peak = Reorder(), 0
    for n in range(8640):
        msg = Heartbeat(hub="mini", agent="pi-a", boot="b", ts=at(10 * n), seq=n, uptime_s=10 * n, interval_s=10)
        reorder.push("mini", msg, at(10 * n))
        peak = max(peak, len(reorder))
        for _ in reorder.ready():
            pass
    assert peak <= (REORDER_S + 300) / 10 + 2


def test_a_message_beyond_the_bound_is_applied_late_and_counted() -> None:
    reorder = Reorder()
    on = AgentStatus(hub="mini", agent="pi-a", boot="b", state=AgentState.ONLINE, ts=at(0))
    beats = [Heartbeat(hub="mini", agent="pi-a", boot="b", ts=at(s), seq=s, uptime_s=s, interval_s=30)
             for s in range(0, 1200, 30)]
    out = []
    for beat in beats:
        reorder.push("mini", beat, beat.ts)
        out += list(reorder.ready())
    reorder.push("mini", on, at(0))  # read 20 minutes after a message received after it
    out += list(reorder.ready()) + list(reorder.drain())
    assert len(out) == len(beats) + 1 and reorder.late == 1


def test_a_copy_after_its_first_was_released_is_dropped() -> None:
    reorder = Reorder()
    beat = Heartbeat(hub="mini", agent="pi-a", boot="b", ts=at(0), seq=1, uptime_s=0, interval_s=30)
    reorder.push("mini", beat, at(0))
    reorder.push("mini", beat, at(0.5))  # a redelivery while the first waits: one kept
    later = Heartbeat(hub="mini", agent="pi-a", boot="b", ts=at(1000), seq=2, uptime_s=1000, interval_s=30)
    reorder.push("mini", later, at(1000))
    first = list(reorder.ready())
    reorder.push("mini", beat, at(1001))  # a redelivery long after
    rest = list(reorder.drain())
    assert [m.seq for _, _, _, m, _ in first + rest] == [1, 2]
    assert reorder.duplicates == 2 and reorder.late == 0
