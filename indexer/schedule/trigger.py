"""The cron trigger of ``indexer schedule`` (always UTC) and the catch-up of a missed run.

APScheduler 3 counts weekdays from Monday = 0, crontab from Sunday = 0 (and 7).
:func:`crontab_trigger` rewrites the day-of-week field into names first, so
``0 3 * * 0`` means Sunday as in every crontab.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from indexer.errors import ConfigError

__all__ = ["crontab_trigger", "missed_fire_time"]

#: crontab's weekday numbers (0 = Sunday; 7 is Sunday too)
_CRONTAB_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _weekday(token: str) -> int:
    name = token.strip().lower()[:3]
    if name in _CRONTAB_WEEKDAYS:
        return _CRONTAB_WEEKDAYS.index(name)
    number = int(token)
    if not 0 <= number <= 7:
        raise ValueError(f"weekday {number} out of range 0-7")
    return number % 7


def _weekdays(part: str) -> set[int]:
    """Crontab weekday numbers of one comma-separated part: ``*``, ``1-5``, ``*/2``, ``sat``."""
    span, _, step_text = part.partition("/")
    step = int(step_text) if step_text else 1
    if step < 1:
        raise ValueError(f"step must be positive in {part!r}")
    if span == "*":
        first, last = 0, 6
    elif "-" in span:
        first_text, last_text = span.split("-", 1)
        first = _weekday(first_text)
        last = 7 if last_text.strip() == "7" else _weekday(last_text)
    else:
        first = _weekday(span)
        last = 6 if step_text else first
    if first > last:
        raise ValueError(f"range {span!r} runs backwards")
    return {day % 7 for day in range(first, last + 1, step)}


def crontab_day_of_week(field: str) -> str:
    """A crontab day-of-week field as APScheduler weekday names (``1-5`` → ``mon,...,fri``)."""
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        days |= _weekdays(part)
    return ",".join(_CRONTAB_WEEKDAYS[day] for day in sorted(days))


def crontab_trigger(expression: str) -> CronTrigger:
    """``CronTrigger.from_crontab(expression, timezone=UTC)`` with crontab's weekday numbers.

    Raises :class:`ConfigError` (key ``schedule``) for an expression cron would reject.
    """
    fields = expression.split()
    if len(fields) != 5:
        raise ConfigError("schedule", f"needs 5 cron fields, got {expression!r}")
    try:
        fields[4] = crontab_day_of_week(fields[4])
        return CronTrigger.from_crontab(" ".join(fields), timezone=UTC)
    except ValueError as exc:
        raise ConfigError("schedule", f"{expression!r}: {exc}") from None


def missed_fire_time(
    trigger: BaseTrigger, *, last_started: datetime | None, now: datetime, grace: timedelta
) -> datetime | None:
    """The first fire time no run served: after ``last_started``, within ``grace`` before ``now``.

    A scheduler that was down at its fire time (restart, deploy) runs the missed
    sync at start when this answers a time; older misses are skipped, as
    APScheduler's own ``misfire_grace_time`` would.
    """
    since = now - grace
    if last_started is not None and last_started >= since:
        since = last_started + timedelta(microseconds=1)
    fire: datetime | None = trigger.get_next_fire_time(None, since)
    return fire if fire is not None and fire <= now else None
