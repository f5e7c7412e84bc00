"""``indexer health``: is the nightly sync healthy? For healthchecks and alerts.

Healthy means both:

- the last finished run (``ok``, ``partial``, ``failed`` or ``interrupted``; a run
  still going is not judged) is ``ok`` or ``partial``;
- the last successful (``ok`` or ``partial``) run finished less than ``max_age`` ago.
  The default is two periods of the configured schedule (:func:`schedule_period`):
  one missed night is tolerated, two are not.

Only runs of the whole index count: an ``indexer sync --only NAME`` run neither makes
the index healthy nor unhealthy.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from indexer.store.queries.runs import RunRow, finished_runs
from indexer.store.read import Reader

__all__ = ["Health", "check_health", "format_duration", "parse_duration", "schedule_period"]

#: runs looked at for the last full one (newer ``--only`` runs are skipped)
_RUNS_LOOKED_AT = 200
#: fire times of the schedule compared for its longest period
_FIRES_COMPARED = 16
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_SUCCESS = ("ok", "partial")


def parse_duration(text: str) -> timedelta:
    """``90``, ``90s``, ``30m``, ``36h``, ``2d``, ``1w``, ``1d12h`` → a positive `timedelta`.

    Raises `ValueError` for anything else.
    """
    value = text.strip().lower()
    if not value:
        raise ValueError("empty duration")
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        seconds = float(value)
    else:
        position, seconds = 0, 0.0
        for match in _DURATION.finditer(value):
            if match.start() != position:
                break
            seconds += float(match.group(1)) * _UNITS[match.group(2)]
            position = match.end()
        if position != len(value):
            raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 30m, 36h, 2d)")
    if seconds <= 0:
        raise ValueError(f"duration must be positive: {text!r}")
    return timedelta(seconds=seconds)


def format_duration(span: timedelta) -> str:
    """A short human form: ``2d3h``, ``5h12m``, ``4m10s``, ``12s``."""
    seconds = max(0, int(span.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m{seconds}s" if seconds else f"{minutes}m"
    return f"{seconds}s"


def schedule_period(expression: str, now: datetime) -> timedelta:
    """The longest gap between two fire times of the cron ``expression`` (UTC) after ``now``."""
    from indexer.schedule.trigger import crontab_trigger  # noqa: PLC0415 - APScheduler, if asked

    trigger = crontab_trigger(expression)
    fires: list[datetime] = []
    moment = now
    previous: datetime | None = None
    while len(fires) < _FIRES_COMPARED:
        fire = trigger.get_next_fire_time(previous, moment)
        if fire is None:
            break
        fires.append(fire)
        previous, moment = fire, fire + timedelta(microseconds=1)
    gaps = [later - earlier for earlier, later in itertools.pairwise(fires)]
    return max(gaps) if gaps else timedelta(days=1)


@dataclass(frozen=True)
class Health:
    """The verdict, with what it rests on."""

    healthy: bool
    #: one line: why it is (not) healthy
    reason: str
    max_age: timedelta
    last_run_id: int | None = None
    last_run_status: str | None = None
    last_run_finished_at: datetime | None = None
    last_success_id: int | None = None
    last_success_finished_at: datetime | None = None

    def as_dict(self) -> dict[str, object]:
        """A JSON-friendly copy (times in ISO 8601, the age in seconds)."""

        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment is not None else None

        return {
            "healthy": self.healthy,
            "reason": self.reason,
            "max_age_seconds": int(self.max_age.total_seconds()),
            "last_run": {
                "id": self.last_run_id,
                "status": self.last_run_status,
                "finished_at": iso(self.last_run_finished_at),
            },
            "last_success": {
                "id": self.last_success_id,
                "finished_at": iso(self.last_success_finished_at),
            },
        }


def _whole_index(run: RunRow) -> bool:
    return not run.only


async def check_health(
    reader: Reader, *, max_age: timedelta, now: datetime | None = None
) -> Health:
    """Judge the index by its sync runs (module docstring)."""
    current = now if now is not None else datetime.now(UTC)
    runs = await finished_runs(reader, _RUNS_LOOKED_AT)
    full = [run for run in runs if _whole_index(run)]
    last = full[0] if full else None
    success = next((run for run in full if run.status in _SUCCESS), None)

    def verdict(healthy: bool, reason: str) -> Health:
        return Health(
            healthy,
            reason,
            max_age,
            last_run_id=last.id if last else None,
            last_run_status=last.status if last else None,
            last_run_finished_at=last.finished_at if last else None,
            last_success_id=success.id if success else None,
            last_success_finished_at=success.finished_at if success else None,
        )

    limit = format_duration(max_age)
    if last is None:
        return verdict(False, "no sync run has finished yet")
    if last.status not in _SUCCESS:
        why = f": {last.message}" if last.message else ""
        return verdict(False, f"last run {last.id} {last.status}{why}")
    if success is None or success.finished_at is None:
        return verdict(False, "no successful run yet")
    age = current - success.finished_at
    if age > max_age:
        return verdict(
            False,
            f"last successful run {success.id} finished {format_duration(age)} ago "
            f"(more than {limit})",
        )
    return verdict(
        True,
        f"last run {last.id} {last.status}; last successful run {success.id} finished "
        f"{format_duration(age)} ago (max {limit})",
    )
