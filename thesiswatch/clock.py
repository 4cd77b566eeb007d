"""Time in one place (kernel): aware UTC datetimes and their ISO-8601 text."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso_seconds(value: datetime) -> str:
    """UTC ISO-8601 text with seconds, e.g. ``2025-01-27T14:30:00+00:00``.

    >>> from datetime import timedelta, timezone
    >>> iso_seconds(datetime(2025, 1, 27, 22, 30, 5, 123, tzinfo=timezone(timedelta(hours=8))))
    '2025-01-27T14:30:05+00:00'
    """
    return as_utc(value).isoformat(timespec="seconds")
