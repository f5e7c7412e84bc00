"""The scheduler in this process: on time, never overlapping, one job, graceful and forced stops."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from indexer.schedule import EXIT_CANCELLED, SYNC_JOB_ID, NightlyScheduler
from indexer.settings import Settings
from indexer.store.audit import CANCELLED_MESSAGE
from indexer.store.db import Database
from indexer.store.lock import sync_lock
from indexer.store.models import SyncRun
from tests.nightly.fakes import STOPPED_MESSAGE, FakeSync, eventually

EVERY_SECOND = CronTrigger(second="*", timezone="UTC")
#: a fire time that never comes during a test
FAR_AWAY = CronTrigger(year=2099, timezone="UTC")


@pytest_asyncio.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.dispose()


@pytest_asyncio.fixture
async def sqlite_database(sqlite_url: str) -> AsyncIterator[Database]:
    db = Database(sqlite_url)
    yield db
    await db.dispose()


def _scheduler(database: Database, fake: FakeSync, trigger: CronTrigger) -> NightlyScheduler:
    settings = Settings(database_url="sqlite+aiosqlite:///unused.db", misfire_grace_seconds=30)
    return NightlyScheduler(settings, database, sync=fake, trigger=trigger)


async def _only_run(database: Database) -> SyncRun:
    async with database.session() as session:
        (run,) = (await session.scalars(select(SyncRun))).all()
        return run


@pytest.mark.asyncio
async def test_runs_start_on_the_second_they_are_due(
    sqlite_database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeSync(batches=1, batch_seconds=0.05)
    scheduler = _scheduler(sqlite_database, fake, EVERY_SECOND)
    with caplog.at_level(logging.INFO):
        scheduler.start()
        await eventually(lambda: len(fake.ends) >= 2, within=10)
        scheduler.request_stop()
        assert await scheduler.wait_stopped() == 0
    lines = [r.getMessage() for r in caplog.records if r.name == "indexer.schedule.scheduler"]
    assert lines[:2] == ["sync starting", lines[1]]
    assert lines[1].startswith("sync run 1 ended: ok in ")
    assert not [r for r in caplog.records if r.name.startswith("apscheduler")]
    assert fake.max_active == 1
    for started in fake.starts[:2]:
        assert started - math.floor(started) < 0.5, fake.starts
    assert round(fake.starts[1] - fake.starts[0]) == 1


@pytest.mark.asyncio
async def test_a_slow_run_is_never_overlapped(sqlite_database: Database) -> None:
    # each run takes 1.2 s, the job fires every second: max_instances=1 skips, coalesce merges
    fake = FakeSync(batches=1, batch_seconds=1.2)
    scheduler = _scheduler(sqlite_database, fake, EVERY_SECOND)
    scheduler.start(run_now=True)
    await asyncio.sleep(2.7)
    scheduler.request_stop()
    assert await scheduler.wait_stopped() == 0
    assert fake.max_active == 1
    assert 2 <= scheduler.runs_started <= 3
    assert scheduler.runs_skipped == 0
    for previous_end, next_start in zip(fake.ends, fake.starts[1:], strict=False):
        assert next_start >= previous_end


@pytest.mark.asyncio
async def test_the_job_is_registered_once_under_its_fixed_id(sqlite_database: Database) -> None:
    scheduler = _scheduler(sqlite_database, FakeSync(), FAR_AWAY)
    scheduler.start()
    scheduler.start()  # e.g. a restart within the same process: replaced, not duplicated
    jobs = scheduler._scheduler.get_jobs()
    assert [job.id for job in jobs] == [SYNC_JOB_ID]
    (job,) = jobs
    assert (job.max_instances, job.coalesce, job.misfire_grace_time) == (1, True, 30)
    scheduler.request_stop()
    assert await scheduler.wait_stopped() == 0


@pytest.mark.asyncio
async def test_first_stop_lets_the_batch_finish_and_records_interrupted(
    database: Database,
) -> None:
    fake = FakeSync(batches=50, batch_seconds=0.1)
    scheduler = _scheduler(database, fake, FAR_AWAY)
    scheduler.start(run_now=True)
    await fake.started.wait()
    await asyncio.sleep(0.25)  # in the middle of a batch
    scheduler.request_stop("SIGTERM")
    assert scheduler.stop.is_set()
    async with asyncio.timeout(5):
        assert await scheduler.wait_stopped() == 0
    run = await _only_run(database)
    assert run.status == "interrupted"
    assert run.message == STOPPED_MESSAGE
    assert run.requests is not None
    assert run.requests["batches_started"] == run.requests["batches_done"] == run.tags_added
    assert 1 <= run.tags_added < 50


@pytest.mark.asyncio
async def test_second_stop_cancels_the_run(database: Database) -> None:
    fake = FakeSync(batches=50, batch_seconds=0.1, honour_stop=False)
    scheduler = _scheduler(database, fake, FAR_AWAY)
    scheduler.start(run_now=True)
    await fake.started.wait()
    scheduler.request_stop("SIGTERM")
    await asyncio.sleep(0.2)
    assert scheduler.running_sync  # this fake ignores the stop event
    scheduler.request_stop("SIGTERM")
    async with asyncio.timeout(5):
        assert await scheduler.wait_stopped() == EXIT_CANCELLED
    run = await _only_run(database)
    assert run.status == "interrupted"
    assert run.message == CANCELLED_MESSAGE
    async with sync_lock(database):  # the cancelled run gave the lock back
        pass


@pytest.mark.asyncio
async def test_a_run_is_skipped_while_another_sync_holds_the_lock(
    sqlite_database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeSync(batches=1, batch_seconds=0)
    scheduler = _scheduler(sqlite_database, fake, FAR_AWAY)
    async with sync_lock(sqlite_database):
        scheduler.start(run_now=True)
        await eventually(lambda: scheduler.runs_skipped > 0)
    scheduler.request_stop()
    assert await scheduler.wait_stopped() == 0
    assert fake.calls == []
    assert "sync skipped: another sync is running (since" in caplog.text


@pytest.mark.asyncio
async def test_a_missed_fire_time_is_caught_up(sqlite_database: Database) -> None:
    fake = FakeSync(batches=1, batch_seconds=0)
    settings = Settings(misfire_grace_seconds=120)
    every_minute = CronTrigger(minute="*", timezone="UTC")
    scheduler = NightlyScheduler(settings, sqlite_database, sync=fake, trigger=every_minute)
    assert await scheduler.missed_run() is not None  # never ran; a fire time in the last 2 min
    await fake(settings, sqlite_database, only=(), full_reconcile=None, stop=None)
    assert await scheduler.missed_run() is None  # served by the run just made
