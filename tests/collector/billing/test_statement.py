"""Booking facts, tariffs and the monthly statement against hand-computed figures (collector/bookings/facts.py,
collector/billing/policy.py, collector/billing/statement.py), on a real Outlook calendar."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from collector.billing.policy import Basis
from collector.billing.statement import MonthStatement, build_statement, month_span
from collector.bookings.facts import booking_facts
from collector.bookings.usage import state_intervals
from hubsense.config import Hub, Tariff
from tests.collector.bookings.scenario import (
    AFTER_MONTH,
    RELEASE_AFTER,
    ROOM,
    TZ,
    bookings,
    changes,
    door_spans,
    lt,
    stockholm,
)


def key(start: datetime) -> str:
    return start.astimezone(TZ).strftime("%m-%d %H:%M")


def statement(hub: Hub, now: datetime = AFTER_MONTH) -> MonthStatement:
    found = bookings(hub)
    states = state_intervals(changes(), ROOM, lt("2026-02-28 00:00"), min(now, lt("2026-04-02 00:00")))
    return build_statement(hub, "2026-03", found, {ROOM: states}, {ROOM: door_spans()}, now, RELEASE_AFTER)


def with_tariff(hub: Hub, **changes) -> Hub:
    tariffs = [Tariff.model_validate({**t.model_dump(), **changes}) if t.id == "motesrum" else t
               for t in hub.billing.tariffs]
    return hub.model_copy(update={"billing": hub.billing.model_copy(update={"tariffs": tariffs})})


def amounts(s: MonthStatement) -> dict[str, dict[str, int]]:
    return {o.id: {key(line.booking.start): line.charge.amount_ore for line in o.lines} for o in s.organisations}


def test_the_calendar_is_attributed_at_import_across_dst_moves_and_cancellations() -> None:
    found = bookings(stockholm())
    assert [(key(b.start), key(b.end)[6:], b.organisation) for b in found] == [
        ("03-03 09:00", "10:00", "trafikverket"),  # weekly, CET
        ("03-03 10:00", "11:00", "region-stockholm"),  # back to back; organiser's domain in any case
        ("03-05 13:00", "14:00", "stockholms-stad"),
        ("03-12 09:00", "10:00", "stockholms-stad"),
        ("03-12 10:15", "11:00", "region-stockholm"),  # a gmail organiser, CATEGORIES:Region Stockholm
        ("03-17 13:00", "14:00", "trafikverket"),  # the 09:00 occurrence moved (RECURRENCE-ID)
        ("03-19 15:00", "16:00", "trafikverket"),
        ("03-26 10:00", "12:00", "stockholms-stad"),
        ("03-27 09:00", "09:30", None),  # matches no organisation
        ("03-27 13:00", "14:00", "region-stockholm"),
        ("03-27 15:00", "16:00", "trafikverket"),  # it.trafikverket.se: a subdomain
        ("03-30 14:00", "15:00", "trafikverket"),
        ("03-31 09:00", "10:00", "trafikverket"),  # weekly, after the DST change still 09:00 local
    ]  # 03-10 is cancelled by an override, 03-24 by EXDATE
    assert found[-1].start == datetime(2026, 3, 31, 7, 0, tzinfo=UTC)
    assert found[0].start == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def test_booking_facts_by_hand() -> None:
    found = bookings(stockholm())
    states = state_intervals(changes(), ROOM, lt("2026-02-28 00:00"), AFTER_MONTH)
    facts = {key(f.booking.start): f for f in booking_facts(found, states, door_spans(), AFTER_MONTH, RELEASE_AFTER)}
    got = {k: (f.booked_s / 60, f.sensed_s / 60, f.early_s / 60, f.overrun_s / 60, f.overran_into_next,
               key(f.released_at) if f.released_at else None, f.taken_s / 60, f.unknown_s / 60, f.complete)
           for k, f in facts.items()}
    # booked, sensed, early, overrun, into next, released at, taken, unknown, complete (minutes)
    assert got == {
        "03-03 09:00": (60, 55, 0, 0, False, None, 0, 0, True),
        "03-03 10:00": (60, 49, 0, 0, False, None, 0, 0, True),  # back to back, nobody between 09:58 and 10:01
        "03-05 13:00": (60, 55, 10, 0, False, None, 0, 0, True),  # in the room from 12:50
        "03-12 09:00": (60, 58, 0, 15, True, None, 0, 0, True),  # ran on to 10:50, cut at the next start 10:15
        "03-12 10:15": (45, 35, 0, 0, False, None, 0, 0, True),  # the previous meeting's stretch: no early start
        "03-17 13:00": (60, 60, 0, 5, False, None, 0, 0, True),
        "03-19 15:00": (60, 55, 0, 12, False, None, 0, 0, True),
        "03-26 10:00": (120, 0, 0, 0, False, "03-26 10:15", 50, 0, True),  # released, then walk-ins 10:40-11:30
        "03-27 09:00": (30, 30, 0, 0, False, None, 0, 0, True),
        "03-27 13:00": (60, 0, 0, 0, False, "03-27 13:15", 0, 0, True),  # the door was opened and closed again
        "03-27 15:00": (60, 0, 0, 0, False, None, 0, 0, True),  # the door stood open at 15:15: not released
        "03-30 14:00": (60, 30, 0, 0, False, None, 0, 20, True),
        "03-31 09:00": (60, 45, 0, 0, False, None, 0, 0, True),
    }


def test_statement_under_the_real_meeting_room_tariff() -> None:
    # motesrum: 350 kr/h, minimum 175 kr, 15-min steps rounded up, policy max, overrun grace 10 min,
    # no-show free when the released room was used by others. 15 min = 87.50 kr = 8750 öre.
    s = statement(stockholm())
    assert (s.currency, s.month, s.upcoming, s.unbilled_rooms) == ("SEK", "2026-03", 0, [])
    assert amounts(s) == {
        "trafikverket": {
            "03-03 09:00": 35000,  # max(60, 55) = 60 min
            "03-17 13:00": 35000,  # 60 sensed + 5 overrun within the grace: 60
            "03-19 15:00": 43750,  # max(60, 55 + 12) = 67 -> 75 min = 5 x 87.50
            "03-27 15:00": 35000,  # not released (door open): max(60, 0) = 60
            "03-30 14:00": 35000,  # sensors unknown for 20 min: billed as booked
            "03-31 09:00": 35000,  # max(60, 45)
        },
        "region-stockholm": {
            "03-03 10:00": 35000,
            "03-12 10:15": 26250,  # max(45, 35) = 45 min
            "03-27 13:00": 35000,  # no-show, nobody took the room: full
        },
        "stockholms-stad": {
            "03-05 13:00": 35000,  # the early start is not billed
            "03-12 09:00": 43750,  # max(60, 58 + 15) = 73 -> 75 min
            "03-26 10:00": 0,  # no-show, but the released room was used by others
        },
        "unassigned": {"03-27 09:00": 17500},  # 30 min = 175 kr = the minimum
    }
    trafikverket, region, stad, unassigned = s.organisations
    assert trafikverket.amount_ore == 218750 and region.amount_ore == 96250 and stad.amount_ore == 78750
    assert (trafikverket.bookings, trafikverket.booked_s / 3600, trafikverket.used_s / 60) == (6, 6, 262)
    assert (trafikverket.overrun_s / 60, trafikverket.no_shows, trafikverket.sensors_unknown) == (17, 0, 1)
    assert (region.no_shows, region.no_show_rate, region.used_s / 60) == (1, pytest.approx(1 / 3), 84)
    assert (stad.no_shows, stad.overrun_s / 60, stad.used_s / 60) == (1, 15, 128)
    assert (unassigned.name, s.unassigned) == ("Ej tilldelade / unassigned", 1)
    bases = {key(line.booking.start): line.charge.basis for o in s.organisations for line in o.lines}
    assert bases["03-30 14:00"] is Basis.SENSORS_UNKNOWN and bases["03-26 10:00"] is Basis.NO_SHOW_WAIVED
    assert bases["03-27 13:00"] is Basis.NO_SHOW and bases["03-31 09:00"] is Basis.POLICY


def test_policy_used_bills_what_was_sensed_plus_a_long_overrun() -> None:
    s = statement(with_tariff(stockholm(), policy="used"))
    assert amounts(s)["trafikverket"] == {
        "03-03 09:00": 35000,  # 55 -> 60 min
        "03-17 13:00": 35000,  # 60, the 5 min overrun is within the grace
        "03-19 15:00": 43750,  # 55 + 12 = 67 -> 75 min
        "03-27 15:00": 17500,  # nothing sensed: 0 min, the minimum charge
        "03-30 14:00": 35000,  # sensors unknown: as booked
        "03-31 09:00": 26250,  # 45 min
    }
    assert sum(o.amount_ore for o in s.organisations) == 192500 + 96250 + 78750 + 17500


def test_policy_booked_bills_the_slot_and_a_full_no_show() -> None:
    s = statement(with_tariff(stockholm(), policy="booked", no_show="full"))
    got = amounts(s)
    assert set(got["trafikverket"].values()) == {35000} and sum(got["trafikverket"].values()) == 210000
    assert got["region-stockholm"] == {"03-03 10:00": 35000, "03-12 10:15": 26250, "03-27 13:00": 35000}
    assert got["stockholms-stad"] == {"03-05 13:00": 35000, "03-12 09:00": 35000, "03-26 10:00": 70000}


def test_a_share_of_an_odd_price_is_rounded_half_up_to_the_ore() -> None:
    hub = with_tariff(stockholm(), price_per_hour=Decimal("333.33"), minimum_charge=Decimal(0), rounding_min=30,
                      no_show="share", no_show_share=Decimal("0.25"))
    got = amounts(statement(hub))
    assert got["stockholms-stad"]["03-26 10:00"] == 16667  # 2 h = 666.66 kr; x 0.25 = 166.665 -> 166.67
    assert got["region-stockholm"]["03-27 13:00"] == 8333  # 333.33 x 0.25 = 83.3325 -> 83.33
    assert got["region-stockholm"]["03-12 10:15"] == 33333  # max(45, 35) -> 60 min in 30-min steps
    assert got["unassigned"]["03-27 09:00"] == 16667  # 30 min = 166.665 -> 166.67


def test_a_month_in_progress_counts_nothing_after_now() -> None:
    now = lt("2026-03-12 10:30")
    s = statement(stockholm(), now)
    lines = {key(line.booking.start): line for o in s.organisations for line in o.lines}
    assert sorted(lines) == ["03-03 09:00", "03-03 10:00", "03-05 13:00", "03-12 09:00", "03-12 10:15"]
    assert s.upcoming == 8 and s.measured_until == now
    running = lines["03-12 10:15"]
    assert running.charge.basis is Basis.PROVISIONAL and running.charge.amount_ore == 26250  # as booked, for now
    assert running.facts.sensed_s / 60 == 15  # 10:15-10:30: nothing after now
    assert lines["03-12 09:00"].facts.complete  # its overrun was cut by the next booking


def test_month_span_is_local_and_bad_months_are_named() -> None:
    hub = stockholm()
    assert month_span(hub, "2026-03") == (lt("2026-03-01 00:00"), lt("2026-04-01 00:00"))
    assert month_span(hub, "2026-12")[1] == lt("2027-01-01 00:00")
    for bad in ("2026-13", "2026-3", "march", "2026-03-01"):
        with pytest.raises(ValueError, match="write YYYY-MM"):
            month_span(hub, bad)
