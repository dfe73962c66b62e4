"""The pure occupancy engine: sensor events and agent liveness in, zone / desk state changes out.

``Engine`` is used live by the collector (arrival order); ``replay_timeline`` rebuilds history
from a set of messages in a canonical order.  See ``docs/engine.md``.
"""

from collector.engine.clock import MAX_SKEW_S, event_time
from collector.engine.engine import Engine
from collector.engine.profiles import DEFAULTS, Params, overrides_from, resolve
from collector.engine.timeline import replay_timeline

__all__ = [
    "DEFAULTS",
    "MAX_SKEW_S",
    "Engine",
    "Params",
    "event_time",
    "overrides_from",
    "replay_timeline",
    "resolve",
]
