"""``indexer health``: exit 0 only when the last run is ok/partial and a success is recent."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from indexer.cli.main import main
from indexer.schedule.health import format_duration, parse_duration, schedule_period
from indexer.store.db import Database
from indexer.store.models import SyncRun, utcnow
from indexer.store.runs import RunCounts, finish_run, start_run


def add_run(
    database_url: str,
    status: str,
    *,
    hours_ago: float,
    message: str | None = None,
    only: tuple[str, ...] = (),
) -> int:
    """A finished run (or one still ``running``) that ended ``hours_ago`` hours ago."""

    async def add() -> int:
        database = Database(database_url)
        try:
            run_id = await start_run(database, only=only)
            if status != "running":
                await finish_run(
                    database, run_id, status=status, counts=RunCounts(), message=message
                )
            moment = utcnow() - timedelta(hours=hours_ago)
            async with database.session() as session:
                await session.execute(
                    update(SyncRun)
                    .where(SyncRun.id == run_id)
                    .values(
                        started_at=moment - timedelta(minutes=5),
                        finished_at=moment if status != "running" else None,
                    )
                )
            return run_id
        finally:
            await database.dispose()

    return asyncio.run(add())


def health(
    database_url: str, capsys: pytest.CaptureFixture[str], *options: str
) -> tuple[int, str, str]:
    status = main(["--database-url", database_url, "health", *options])
    captured = capsys.readouterr()
    return status, captured.out.strip(), captured.err.strip()


def test_no_run_yet_is_unhealthy(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = health(database_url, capsys)
    assert status == 1
    assert err == "indexer: unhealthy: no sync run has finished yet"


def test_a_recent_ok_or_partial_run_is_healthy(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    add_run(database_url, "ok", hours_ago=30)
    run_id = add_run(database_url, "partial", hours_ago=2)
    status, out, err = health(database_url, capsys)
    assert (status, err) == (0, "")
    assert out.startswith(f"healthy: last run {run_id} partial; last successful run {run_id}")
    assert "(max 2d)" in out  # two periods of the nightly default schedule


def test_a_failed_last_run_is_unhealthy_with_its_reason(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    add_run(database_url, "ok", hours_ago=20)
    run_id = add_run(
        database_url, "failed", hours_ago=1, message="Docker Hub unreachable: connection failed"
    )
    status, out, err = health(database_url, capsys)
    assert status == 1
    assert out == ""
    assert err == (
        f"indexer: unhealthy: last run {run_id} failed: Docker Hub unreachable: connection failed"
    )


def test_an_interrupted_last_run_is_unhealthy(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    add_run(database_url, "ok", hours_ago=20)
    add_run(database_url, "interrupted", hours_ago=1, message="stopped: in-flight work finished")
    status, _, err = health(database_url, capsys)
    assert status == 1
    assert "interrupted: stopped" in err


def test_an_old_success_is_unhealthy_unless_max_age_allows_it(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = add_run(database_url, "ok", hours_ago=50)
    status, _, err = health(database_url, capsys)
    assert status == 1
    assert (
        err == f"indexer: unhealthy: last successful run {run_id} finished 2d2h ago (more than 2d)"
    )
    assert health(database_url, capsys, "--max-age", "3d")[0] == 0
    assert health(database_url, capsys, "--max-age", "49h")[0] == 1


def test_only_runs_and_a_running_run_do_not_count(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    add_run(database_url, "ok", hours_ago=3)
    add_run(database_url, "failed", hours_ago=2, message="boom", only=("python",))
    add_run(database_url, "running", hours_ago=0.1)
    status, out, _ = health(database_url, capsys)
    assert status == 0
    assert out.startswith("healthy: last run 1 ok")


def test_max_age_must_be_a_duration(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = health(database_url, capsys, "--max-age", "soon")
    assert status == 1
    assert err.startswith("indexer: Invalid value for --max-age: not a duration: 'soon'")


def test_json_verdict(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    add_run(database_url, "failed", hours_ago=1, message="GitHub API unreachable: x")
    status, out, _ = health(database_url, capsys, "--json", "--max-age", "36h")
    document = json.loads(out)
    assert status == 1
    assert document["healthy"] is False
    assert document["max_age_seconds"] == 36 * 3600
    assert document["last_run"]["status"] == "failed"
    assert document["last_success"]["id"] is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("30m", 1800), ("36h", 129600), ("2d", 172800), ("1d12h", 129600)],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "soon", "0", "-5m", "3x", "5m soon"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_format_duration() -> None:
    assert format_duration(timedelta(hours=50)) == "2d2h"
    assert format_duration(timedelta(minutes=61)) == "1h1m"
    assert format_duration(timedelta(seconds=12)) == "12s"


def test_schedule_period_is_the_longest_gap_between_fire_times() -> None:
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # a Wednesday
    assert schedule_period("0 3 * * *", now) == timedelta(days=1)
    assert schedule_period("*/15 * * * *", now) == timedelta(minutes=15)
    assert schedule_period("0 3 * * 1-5", now) == timedelta(days=3)  # Friday to Monday
