"""Properties of the tariff rules (collector/billing/policy.py) over any bookings and occupancy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from collector.billing.policy import Basis, amount_ore, billed_minutes, charge, from_ore, round_up, to_ore
from collector.bookings.calendar import Booking
from collector.bookings.facts import booking_facts
from collector.bookings.usage import state_intervals
from collector.model import OccupancyState, StateChange
from hubsense.config import BillingPolicy, Tariff

DAY = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
ROOM = "motesrum-ekorren"


def at(minutes: int) -> datetime:
    return DAY + timedelta(minutes=minutes)


money = st.integers(0, 300_000).map(lambda ore: Decimal(ore) / 100)
tariffs = st.builds(
    lambda price, minimum, step, grace, no_show, share: Tariff(
        id="t", rooms=[ROOM], price_per_hour=price, minimum_charge=minimum, rounding_min=step,
        overrun_grace_min=grace, no_show=no_show, no_show_share=share if no_show == "share" else None),
    money, money, st.sampled_from([15, 30, 60]), st.integers(0, 30),
    st.sampled_from(["full", "share", "none_if_taken"]), st.sampled_from([Decimal("0"), Decimal("0.5"), Decimal("1")]))
spans = st.lists(st.tuples(st.integers(0, 720), st.integers(1, 240)), max_size=8)
occupancy = st.lists(st.tuples(st.integers(0, 780), st.integers(1, 200), st.sampled_from(["occupied", "unknown"])),
                     max_size=10)


def changes_of(marks: list[tuple[int, int, str]]) -> list[StateChange]:
    """Occupied / unknown stretches on a free day (later stretches win where they overlap)."""
    out = [StateChange("stockholm", ROOM, None, OccupancyState.FREE, at(-60))]
    for start, length, state in sorted(marks):
        out += [StateChange("stockholm", ROOM, None, OccupancyState(state), at(start)),
                StateChange("stockholm", ROOM, None, OccupancyState.FREE, at(start + length))]
    return sorted(out, key=lambda c: c.at)


@settings(max_examples=300, deadline=None)
@given(spans, occupancy, tariffs, st.integers(0, 1000), st.integers(1, 40))
def test_max_bills_at_least_booked_and_used_and_nothing_below_the_minimum(
        booked: list[tuple[int, int]], marks: list[tuple[int, int, str]], tariff: Tariff, now_min: int,
        release_min: int) -> None:
    bookings = sorted((Booking(ROOM, at(a), at(a + n), uid=str(i)) for i, (a, n) in enumerate(booked)),
                      key=lambda b: (b.start, b.end))
    now = at(now_min)
    states = state_intervals(changes_of(marks), ROOM, at(-60), now)
    minimum = to_ore(tariff.minimum_charge)
    for facts in booking_facts(bookings, states, [], now, timedelta(minutes=release_min)):
        if not facts.started:
            continue
        by_policy = {p: charge(facts, tariff.model_copy(update={"policy": p})) for p in BillingPolicy}
        top = by_policy[BillingPolicy.MAX]
        for policy, c in by_policy.items():
            assert top.billed_min >= c.billed_min and top.amount_ore >= c.amount_ore, policy
            assert c.billed_min % tariff.rounding_min == 0
            if c.basis not in (Basis.NO_SHOW, Basis.NO_SHOW_WAIVED):
                assert c.amount_ore >= minimum  # rounding never bills less than the minimum charge
                assert c.billed_min * 60 >= min(facts.booked_s, c.used_s) - 0.5  # never rounded down
            if c.basis is Basis.POLICY and policy is BillingPolicy.MAX:
                assert c.billed_min * 60 >= max(facts.booked_s, c.used_s) - 0.5
        assert facts.sensed_s + facts.taken_s <= facts.booked_s + 1e-6
        assert facts.overrun_s >= 0 and facts.early_s >= 0 and facts.sensed_s >= 0


@given(st.floats(0, 50_000), st.floats(0, 50_000), st.sampled_from([15, 30, 60]))
def test_billed_minutes_max_dominates_and_rounds_up(booked_s: float, used_s: float, step: int) -> None:
    got = {p: billed_minutes(booked_s, used_s, p, step) for p in BillingPolicy}
    assert got[BillingPolicy.MAX] == max(got[BillingPolicy.BOOKED], got[BillingPolicy.USED])
    assert got[BillingPolicy.BOOKED] * 60 >= round(booked_s) and got[BillingPolicy.BOOKED] % step == 0
    assert (got[BillingPolicy.BOOKED] - step) * 60 < round(booked_s) or booked_s == 0


def test_rounding_and_money_by_hand() -> None:
    assert [round_up(s, 15) for s in (0, 1, 900, 900.4, 901, 3600.0000001)] == [0, 15, 15, 15, 30, 60]
    assert round_up(61 * 60, 60) == 120 and round_up(29 * 60, 30) == 30
    tariff = Tariff(id="t", rooms=[ROOM], price_per_hour=Decimal("450.00"), minimum_charge=Decimal("200.00"))
    assert amount_ore(15, tariff) == 20000  # 112.50 kr is below the 200 kr minimum
    assert amount_ore(45, tariff) == 33750 and amount_ore(0, tariff) == 20000
    assert to_ore(Decimal("333.33")) == 33333 and from_ore(16667) == Decimal("166.67")
    assert str(from_ore(5)) == "0.05" and str(from_ore(0)) == "0.00"
