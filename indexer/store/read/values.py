"""Driver values into the shapes the query dataclasses hold: the one place that knows how
each backend stores them.

- times: PostgreSQL answers ``timestamptz`` as aware datetimes; SQLite keeps the text
  ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC that ``UTCDateTime`` writes
  (:mod:`indexer.store.models`). Both come back aware, in UTC.
- JSON columns: SQLite keeps the text; asyncpg answers ``json``/``jsonb`` as text too
  (no codec is set); a SQLAlchemy connection may already have decoded them.
- booleans: SQLite keeps 0 and 1.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

__all__ = ["flag", "iso", "json_value", "maybe_flag", "stored_time", "time_value"]


def time_value(value: Any) -> datetime | None:
    """A stored time, aware and in UTC (None stays None)."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        raise TypeError(f"not a time: {value!r}")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def stored_time(value: Any) -> datetime:
    """A time column that is never NULL, aware and in UTC."""
    moment = time_value(value)
    if moment is None:
        raise TypeError("a time that may not be NULL is NULL")
    return moment


def json_value(value: Any) -> Any:
    """A JSON column's value, decoded (None stays None)."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def flag(value: Any) -> bool:
    """A boolean column that is never NULL."""
    return bool(value)


def maybe_flag(value: Any) -> bool | None:
    """A boolean column that may be NULL."""
    return None if value is None else bool(value)


def iso(value: datetime | None) -> str | None:
    """``2026-11-01T03:00:00Z`` (None stays None)."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None
