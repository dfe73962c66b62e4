"""What one booking costs under its room's tariff (pure; money in integer öre, never float).

The rules, in the order they apply (docs/bookings.md says the same for a finance officer):

1. A **no-show** (the room was released, :mod:`collector.bookings.facts`) costs what the tariff's
   ``no_show`` says: ``full`` (as booked), ``share`` (``no_show_share`` of that, rounded to the öre) or
   ``none_if_taken`` (nothing if the released room was then used by others, else as booked).
2. A booking that is **not over** yet is priced as booked (provisional).
3. A booking during which the room's **sensors were unknown** is billed as booked, and marked.
4. Otherwise the **policy**: ``booked`` bills the slot; ``used`` bills sensed occupancy inside the slot
   plus the overrun if it is longer than ``overrun_grace_min`` (then all of it); ``max`` bills the larger.

Billed time is rounded **up** to whole ``rounding_min`` steps; the amount is billed minutes × the price
per hour, rounded half up to the öre, and never less than ``minimum_charge``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from collector.bookings.facts import BookingFacts
from hubsense.config import BillingPolicy, NoShowCharge, Tariff


class Basis(StrEnum):
    """Why a booking costs what it costs."""

    POLICY = "policy"  # the tariff's policy (booked, used or max)
    SENSORS_UNKNOWN = "sensors_unknown"  # the room's sensors were unknown during the booking: billed as booked
    PROVISIONAL = "provisional"  # not over yet: priced as booked for now
    NO_SHOW = "no_show"  # released: the tariff's no-show charge
    NO_SHOW_WAIVED = "no_show_waived"  # released and then used by others, tariff 'none_if_taken': nothing


@dataclass(frozen=True, slots=True)
class Charge:
    basis: Basis
    billable_overrun_s: float  # the overrun if longer than the grace, else 0
    used_s: float  # sensed inside the slot + billable overrun: what the 'used' policy bills
    billed_min: int  # minutes billed, rounded up to the tariff's step (0 for a waived no-show)
    amount_ore: int  # what it costs, in öre (hundredths of the currency)


def to_ore(amount: Decimal) -> int:
    """A price with at most two decimals as integer öre."""
    return int((amount * 100).to_integral_value(ROUND_HALF_UP))


def from_ore(ore: int) -> Decimal:
    """Integer öre as a two-decimal amount (``12345`` -> ``Decimal('123.45')``)."""
    return (Decimal(ore) / 100).quantize(Decimal("0.01"))


def round_up(seconds: float, step_min: int) -> int:
    """Minutes of ``seconds`` rounded up to whole steps; whole seconds first, so 3600.0000001 s is one hour."""
    step_s = step_min * 60
    return -(-round(seconds) // step_s) * step_min


def billed_minutes(booked_s: float, used_s: float, policy: BillingPolicy, step_min: int) -> int:
    """Minutes a policy bills, rounded up to the step."""
    seconds = {BillingPolicy.BOOKED: booked_s, BillingPolicy.USED: used_s,
               BillingPolicy.MAX: max(booked_s, used_s)}[policy]
    return round_up(seconds, step_min)


def amount_ore(minutes: int, tariff: Tariff) -> int:
    """``minutes`` at the tariff's price per hour, rounded half up to the öre, at least the minimum charge."""
    amount = (Decimal(to_ore(tariff.price_per_hour)) * minutes / 60).to_integral_value(ROUND_HALF_UP)
    return max(int(amount), to_ore(tariff.minimum_charge))


def charge(facts: BookingFacts, tariff: Tariff) -> Charge:
    """What the booking costs (see the module docstring for the rules)."""
    billable_overrun = facts.overrun_s if facts.overrun_s > tariff.overrun_grace_min * 60 else 0.0
    used = facts.sensed_s + billable_overrun
    as_booked = round_up(facts.booked_s, tariff.rounding_min)
    if facts.released:
        return _no_show(facts, tariff, as_booked)
    if not facts.complete:
        return Charge(Basis.PROVISIONAL, billable_overrun, used, as_booked, amount_ore(as_booked, tariff))
    if facts.unknown_s > 0:
        return Charge(Basis.SENSORS_UNKNOWN, billable_overrun, used, as_booked, amount_ore(as_booked, tariff))
    minutes = billed_minutes(facts.booked_s, used, tariff.policy, tariff.rounding_min)
    return Charge(Basis.POLICY, billable_overrun, used, minutes, amount_ore(minutes, tariff))


def _no_show(facts: BookingFacts, tariff: Tariff, as_booked: int) -> Charge:
    full = amount_ore(as_booked, tariff)
    if tariff.no_show is NoShowCharge.SHARE:
        share = (Decimal(full) * (tariff.no_show_share or Decimal(0))).to_integral_value(ROUND_HALF_UP)
        return Charge(Basis.NO_SHOW, 0.0, 0.0, as_booked, int(share))
    if tariff.no_show is NoShowCharge.NONE_IF_TAKEN and facts.taken_s > 0:
        return Charge(Basis.NO_SHOW_WAIVED, 0.0, 0.0, 0, 0)
    return Charge(Basis.NO_SHOW, 0.0, 0.0, as_booked, full)
