"""Half-open spans [a, b) of anything ordered (epoch seconds, datetimes): their union.

The one interval merge of the project: opening hours (``Hub.open_spans``), booked time
(``collector/bookings/usage.py``) and simulated visits (``collector/simulate.py``) use it.
``collector/stats/reference.py`` keeps its own on purpose: it is the statistics' test oracle.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

T = TypeVar("T", bound=Any)


def merge_spans(spans: Iterable[tuple[T, T]]) -> list[tuple[T, T]]:
    """The union of ``spans`` as sorted, disjoint spans: overlapping or touching ones are joined,
    empty ones (``b <= a``) dropped."""
    merged: list[tuple[T, T]] = []
    for a, b in sorted(s for s in spans if s[1] > s[0]):
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged
