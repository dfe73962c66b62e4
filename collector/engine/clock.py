"""Which clock orders an event: the agent's, unless it is clearly wrong.

The event time of a message is its agent timestamp ``ts`` when that lies between
:data:`MAX_SKEW_S` before the collector's receive time and :data:`MAX_AHEAD_S` after it, else the
receive time.  A Raspberry Pi without NTP can boot with a clock that is days off; its events are
then placed where they arrived instead of where its clock says.  A queued event flushed after a
reconnect arrives late *and* with a correct clock: when it was queued for longer than the bound,
its receive time is used too (documented in docs/protocol.md).

Nothing happens after it was received: an event time is never later than the receive time plus
:data:`MAX_AHEAD_S`.  Were it later, one event stamped minutes ahead would hold its sensor's
ordering guard in the future, and every real event and heartbeat state before that time would be
ignored as "older".
"""

from __future__ import annotations

from datetime import UTC, datetime

MAX_SKEW_S = 300.0
MAX_AHEAD_S = 2.0  # NTP keeps a Pi within milliseconds; this only absorbs small drift


def event_time(ts: float, received: float) -> float:
    """Event time (epoch seconds) from agent clock ``ts`` and receive time ``received``."""
    return ts if received - MAX_SKEW_S <= ts <= received + MAX_AHEAD_S else received


def to_dt(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)
