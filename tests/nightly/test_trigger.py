"""The crontab trigger (UTC, crontab weekdays) and the missed-run catch-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger

from indexer.errors import ConfigError
from indexer.schedule import crontab_trigger, missed_fire_time
from indexer.schedule.trigger import crontab_day_of_week

# 2026-11-29 is a Sunday
SATURDAY_NOON = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _next(expression: str, after: datetime = SATURDAY_NOON) -> datetime:
    fire: datetime | None = crontab_trigger(expression).get_next_fire_time(None, after)
    assert fire is not None
    return fire


def test_default_schedule_is_nightly_at_three_utc() -> None:
    assert _next("0 3 * * *") == datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    assert str(crontab_trigger("0 3 * * *").timezone) == "UTC"


@pytest.mark.parametrize(
    ("field", "names"),
    [
        ("*", "*"),
        ("0", "sun"),
        ("7", "sun"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0,6", "sun,sat"),
        ("*/2", "sun,tue,thu,sat"),
        ("5-7", "sun,fri,sat"),
        ("sun", "sun"),
        ("mon-wed", "mon,tue,wed"),
        ("1/3", "mon,thu"),
    ],
)
def test_weekdays_count_from_sunday_as_in_crontab(field: str, names: str) -> None:
    assert crontab_day_of_week(field) == names


def test_weekly_schedule_fires_on_sunday() -> None:
    fire = _next("30 4 * * 0")
    assert fire == datetime(2026, 11, 29, 4, 30, tzinfo=UTC)
    assert fire.strftime("%A") == "Sunday"


@pytest.mark.parametrize("expression", ["0 3 * *", "61 3 * * *", "0 3 * * 8", "0 3 * * 5-1"])
def test_invalid_schedule_is_a_config_error(expression: str) -> None:
    with pytest.raises(ConfigError, match="schedule"):
        crontab_trigger(expression)


def test_missed_fire_time_within_grace_is_caught_up() -> None:
    trigger = crontab_trigger("0 3 * * *")
    now = datetime(2026, 11, 29, 3, 20, tzinfo=UTC)
    grace = timedelta(hours=1)
    nightly = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    assert missed_fire_time(trigger, last_started=None, now=now, grace=grace) == nightly
    yesterday = nightly - timedelta(days=1)
    assert missed_fire_time(trigger, last_started=yesterday, now=now, grace=grace) == nightly
    served = nightly + timedelta(seconds=2)
    assert missed_fire_time(trigger, last_started=served, now=now, grace=grace) is None
    late = datetime(2026, 11, 29, 4, 30, tzinfo=UTC)
    assert missed_fire_time(trigger, last_started=yesterday, now=late, grace=grace) is None


def test_missed_fire_time_works_with_any_trigger() -> None:
    every_second = CronTrigger(second="*", timezone=UTC)
    now = datetime(2026, 11, 29, 3, 0, 0, 500_000, tzinfo=UTC)
    assert missed_fire_time(
        every_second, last_started=None, now=now, grace=timedelta(seconds=10)
    ) == datetime(2026, 11, 29, 2, 59, 51, tzinfo=UTC)
