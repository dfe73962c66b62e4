"""Which clock orders an event: the agent's, unless it is clearly wrong.

The event time of a message is its agent timestamp ``ts`` when that is within
:data:`MAX_SKEW_S` of the collector's receive time, else the receive time.  A Raspberry Pi
without NTP can boot with a clock that is days off; its events are then placed where they
arrived instead of where its clock says.  A queued event flushed after a reconnect arrives
late *and* with a correct clock: when it was queued for longer than the bound, its receive
time is used too (documented in docs/protocol.md).
"""

from __future__ import annotations

from datetime import UTC, datetime

MAX_SKEW_S = 300.0


def event_time(ts: float, received: float) -> float:
    """Event time (epoch seconds) from agent clock ``ts`` and receive time ``received``."""
    return ts if abs(ts - received) <= MAX_SKEW_S else received


def to_dt(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)
