"""Exact conversions between aware UTC datetimes and integer epoch microseconds.

Both backends store times as integers (SQLite INTEGER, InfluxDB timestamps), so
round trips are exact: no float rounding of ``datetime.timestamp()``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def to_us(value: datetime) -> int:
    """Epoch microseconds of an aware datetime (naive datetimes are rejected)."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: the store needs timezone-aware UTC times")
    return (value - EPOCH) // _US


def from_us(us: int) -> datetime:
    """The aware UTC datetime of epoch microseconds."""
    return EPOCH + timedelta(microseconds=us)
