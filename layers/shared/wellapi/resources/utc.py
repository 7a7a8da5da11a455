"""Timestamps from clients: aware, and inside the range both Python and PostgreSQL hold."""

from __future__ import annotations

from datetime import UTC, datetime


def to_utc(value: datetime) -> datetime:
    """``value`` in UTC; ValueError when it has no UTC offset or no UTC equivalent.

    ``0001-01-01T00:00:00+01:00`` and ``9999-12-31T23:59:59-01:00`` are valid ISO-8601 with a
    UTC instant outside Python's years 1-9999: carried further, they fail wherever the value is
    compared, sent or read back.
    """
    if value.tzinfo is None:
        raise ValueError("the timestamp needs a UTC offset")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the timestamp is out of range") from None
