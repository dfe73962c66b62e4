"""History is a function of the set of distinct messages; the live engine never shows a dead
agent's zone as free.  Property tests with hypothesis."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.engine import Engine, replay_timeline
from collector.model import ReceivedEvent
from hubsense.config import Profile
from hubsense.protocol import AgentState, AgentStatus, Heartbeat, SensorEvent, SensorKind, SensorState
from tests.collector.engine.helpers import FREE, OCCUPIED, UNKNOWN, at, mini_hub

HUB = mini_hub()
SENSORS = {s.id: (a.id, s.kind) for a in HUB.agents for s in a.sensors}
STATES = {SensorKind.PIR: [SensorState.MOTION, SensorState.NO_MOTION],
          SensorKind.DOOR: [SensorState.OPEN, SensorState.CLOSED]}
ZONE_AGENTS = {"glade": {"pi-a"}, "room": {"pi-a", "pi-b"}, "desks": {"pi-b"}}


def _event(sensor: str, state: SensorState, ts: float, seq: int, boot: str) -> SensorEvent:
    agent, kind = SENSORS[sensor]
    return SensorEvent(hub="mini", agent=agent, boot=boot, sensor=sensor, kind=kind, state=state,
                       ts=at(ts), seq=seq)


step = st.one_of(
    st.tuples(st.just("event"), st.sampled_from(sorted(SENSORS)), st.booleans(), st.integers(1, 200),
              st.sampled_from([0, 0, 0, 2, 30, 400, -400])),
    st.tuples(st.just("status"), st.sampled_from(["pi-a", "pi-b"]), st.booleans(), st.integers(1, 200),
              st.just(0)),
    st.tuples(st.just("heartbeat"), st.sampled_from(["pi-a", "pi-b"]), st.sampled_from([30, 60]),
              st.integers(1, 200), st.just(0)),
)


def _messages(steps: list[tuple]) -> list[tuple[object, object]]:
    """Turn drawn steps into (message, received) pairs with increasing times and seqs."""
    t = 0.0
    seqs: dict[str, int] = {}
    out = []
    for kind, who, flag, gap, skew in steps:
        t += gap
        if kind == "event":
            agent, sensor_kind = SENSORS[who]
            seqs[agent] = seqs.get(agent, 0) + 1
            state = STATES[sensor_kind][int(flag)]
            out.append((_event(who, state, t + skew, seqs[agent], "b1"), at(t)))
        elif kind == "status":
            state = AgentState.ONLINE if flag else AgentState.OFFLINE
            out.append((AgentStatus(hub="mini", agent=who, boot="b1", state=state, ts=at(t)), at(t)))
        else:
            out.append((Heartbeat(hub="mini", agent=who, boot="b1", ts=at(t), seq=seqs.get(who, 0),
                                  uptime_s=t, interval_s=flag), at(t)))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=40), st.randoms(use_true_random=False),
       st.lists(st.integers(0, 1000), max_size=8))
def test_timeline_is_independent_of_delivery_order_and_duplicates(steps, rnd: random.Random, dups) -> None:
    messages = _messages(steps)
    reference = replay_timeline(HUB, messages)
    delivered = list(messages)
    for i in dups:  # redeliveries arrive later than the original
        msg, received = messages[i % len(messages)]
        delivered.append((msg, at((received - at(0)).total_seconds() + 5 + i)))
    rnd.shuffle(delivered)
    assert replay_timeline(HUB, delivered) == reference


def test_replayed_timeline_for_a_set_does_not_depend_on_order_concrete() -> None:
    messages = [
        (AgentStatus(hub="mini", agent="pi-a", boot="b", state=AgentState.ONLINE, ts=at(0)), at(0)),
        (Heartbeat(hub="mini", agent="pi-a", boot="b", ts=at(1), seq=0, uptime_s=1, interval_s=3600), at(1)),
        (_event("glade-pir1", SensorState.MOTION, 10, 1, "b"), at(10)),
        (_event("glade-pir1", SensorState.NO_MOTION, 100, 2, "b"), at(100)),
        (_event("glade-pir2", SensorState.MOTION, 105, 1, "c"), at(105)),
        (_event("glade-pir2", SensorState.NO_MOTION, 110, 2, "c"), at(110)),
    ]
    fixed = {"glade": Profile(vacancy_timeout_s=300)}
    forward = replay_timeline(HUB, messages, fixed, until=at(2000))
    backward = replay_timeline(HUB, messages[::-1] + messages[3:4], fixed, until=at(2000))
    assert forward == backward
    assert [(c.state, c.at) for c in forward if c.zone == "glade"] == [
        (FREE, at(0)), (OCCUPIED, at(10)), (FREE, at(410))]


def test_replay_with_other_parameters_answers_what_if(stockholm) -> None:
    def pir(state: SensorState, t: float, seq: int) -> tuple:
        return (SensorEvent(hub="stockholm", agent="sthlm-pi-skog", boot="b", sensor="skogsglantan-pir",
                            kind=SensorKind.PIR, state=state, ts=at(t), seq=seq), at(t))
    status = (AgentStatus(hub="stockholm", agent="sthlm-pi-skog", boot="b", state=AgentState.ONLINE,
                          ts=at(0)), at(0))
    beats = [(Heartbeat(hub="stockholm", agent="sthlm-pi-skog", boot="b", ts=at(t), seq=2, uptime_s=t,
                        interval_s=600), at(t)) for t in range(0, 4000, 600)]
    messages = [status, pir(SensorState.MOTION, 100, 1), pir(SensorState.NO_MOTION, 200, 2), *beats]
    frees = {}
    for minutes in (30, 20):
        profiles = {"skogsglantan": Profile(vacancy_timeout_s=minutes * 60)}
        timeline = replay_timeline(stockholm, messages, profiles, until=at(3900))
        frees[minutes] = [c.at for c in timeline if c.zone == "skogsglantan" and c.state is FREE][-1]
    assert frees == {30: at(200 + 1800), 20: at(200 + 1200)}


# -- the live engine never calls a dead agent's zone free ------------------------------------

live_op = st.one_of(
    st.tuples(st.just("event"), st.sampled_from(sorted(SENSORS)), st.booleans(), st.integers(0, 120)),
    st.tuples(st.just("dup"), st.just(""), st.just(False), st.integers(0, 60)),
    st.tuples(st.just("status"), st.sampled_from(["pi-a", "pi-b"]), st.booleans(), st.integers(0, 120)),
    st.tuples(st.just("heartbeat"), st.sampled_from(["pi-a", "pi-b"]), st.booleans(), st.integers(0, 120)),
    st.tuples(st.just("advance"), st.just(""), st.just(False), st.integers(0, 400)),
)


class _Model:
    """Independent bookkeeping of which agents are dead (offline, stale or never heard)."""

    def __init__(self) -> None:
        self.offline: dict[str, bool] = {}
        self.last: dict[str, float] = {}
        self.interval: dict[str, float] = {}

    def alive_msg(self, agent: str, t: float, interval: float | None = None) -> None:
        self.offline[agent] = False
        self.last[agent] = max(self.last.get(agent, t), t)
        if interval is not None:
            self.interval[agent] = interval

    def dead(self, agent: str, t: float) -> bool:
        if self.offline.get(agent) or agent not in self.last:
            return True
        return t >= self.last[agent] + 3 * self.interval.get(agent, 60.0)


@settings(max_examples=80, deadline=None)
@given(st.lists(live_op, min_size=1, max_size=60))
def test_live_engine_never_reports_free_for_an_offline_or_stale_agent(ops) -> None:
    engine = Engine(HUB, stale_factor=3.0)
    model = _Model()
    t = 0.0
    seq: dict[str, int] = {}
    sent: list[ReceivedEvent] = []
    for kind, who, flag, gap in ops:
        t += gap
        changes = []
        if kind == "event":
            agent, sensor_kind = SENSORS[who]
            seq[agent] = seq.get(agent, 0) + 1
            ev = ReceivedEvent("mini", agent, who, sensor_kind, STATES[sensor_kind][int(flag)], at(t),
                               seq[agent], "b1", at(t))
            sent.append(ev)
            changes = engine.event(ev)
            model.alive_msg(agent, t)
        elif kind == "dup" and sent:
            old = sent[len(sent) // 2]
            changes = engine.event(ReceivedEvent(old.hub, old.agent, old.sensor, old.kind, old.state, old.ts,
                                                 old.seq, old.boot, at(t)))
        elif kind == "status":
            changes = engine.status(who, flag, at(t))
            if flag:
                model.alive_msg(who, t)
            else:
                model.offline[who] = True
        elif kind == "heartbeat":
            interval = 30.0 if flag else 60.0
            changes = engine.heartbeat(who, at(t), interval, {})
            model.alive_msg(who, t, interval)
        changes += engine.advance(at(t))
        last_state = {}
        for c in changes:
            if c.desk is None:
                last_state[c.zone] = c.state
        for view in engine.views(at(t)):
            dead = any(model.dead(a, t) for a in ZONE_AGENTS[view.zone])
            if dead:
                assert view.state is UNKNOWN, (view, t)
                assert all(d.state is UNKNOWN for d in view.desks)
                assert last_state.get(view.zone) is not FREE


def test_late_event_is_ignored_live_but_placed_in_history() -> None:
    hb = (Heartbeat(hub="mini", agent="pi-a", boot="b", ts=at(0), seq=0, uptime_s=0, interval_s=3600), at(0))
    on = (_event("glade-pir1", SensorState.MOTION, 100, 1, "b"), at(100))
    late_off = (_event("glade-pir1", SensorState.NO_MOTION, 110, 2, "b"), at(350))  # delayed 4 min
    on_again = (_event("glade-pir1", SensorState.MOTION, 300, 3, "b"), at(300))
    live = Engine(HUB)
    for msg, received in (hb, on, on_again, late_off):
        live.advance(received)
        if isinstance(msg, Heartbeat):
            live.heartbeat(msg.agent, received, msg.interval_s, {})
        else:
            live.event(ReceivedEvent.from_message(msg, received))
    assert live.counters["late"] == 1
    assert live.sensors["glade-pir1"].state is SensorState.MOTION  # live state not moved back
    history = replay_timeline(HUB, [late_off, on_again, on, hb], {"glade": Profile(vacancy_timeout_s=60)},
                              until=at(800))
    assert [(c.state, c.at) for c in history if c.zone == "glade"] == [
        (FREE, at(0)), (OCCUPIED, at(100)), (FREE, at(110 + 60)), (OCCUPIED, at(300))]


@settings(max_examples=40, deadline=None)
@given(st.lists(step, min_size=1, max_size=40))
def test_live_engine_in_order_gives_the_replayed_timeline(steps) -> None:
    """Delivered in order with correct clocks, live processing and history agree."""
    messages = _messages([(kind, who, flag, gap, 0) for kind, who, flag, gap, _ in steps])
    live = Engine(HUB)
    changes = []
    for msg, received in messages:
        changes += live.advance(received)
        if isinstance(msg, SensorEvent):
            changes += live.event(ReceivedEvent.from_message(msg, received))
        elif isinstance(msg, AgentStatus):
            changes += live.status(msg.agent, msg.state is AgentState.ONLINE, received)
        else:
            changes += live.heartbeat(msg.agent, received, msg.interval_s, dict(msg.sensors), ts=msg.ts)
    assert changes == replay_timeline(HUB, messages)


def test_single_zone_view_matches_the_list() -> None:
    engine = Engine(HUB)
    engine.status("pi-a", True, at(0))
    assert engine.view("glade", at(1)) == engine.views(at(1))[0]
