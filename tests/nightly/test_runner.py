"""``run_locked_sync``: the lock around a sync, the audit of abandoned runs, cancellation."""

from __future__ import annotations

import asyncio
import sys
import types
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

import pytest
import pytest_asyncio
from sqlalchemy import select

from indexer.errors import SyncLockedError
from indexer.schedule import production_sync, run_locked_sync
from indexer.settings import Settings
from indexer.store.audit import ABANDONED_MESSAGE, CANCELLED_MESSAGE
from indexer.store.db import Database
from indexer.store.lock import sync_lock
from indexer.store.models import SyncError, SyncRun, utcnow
from tests.nightly.fakes import FakeSync


@pytest_asyncio.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.dispose()


async def _runs(database: Database) -> list[SyncRun]:
    async with database.session() as session:
        return list(await session.scalars(select(SyncRun).order_by(SyncRun.id)))


async def _run(database: Database, run_id: int) -> SyncRun:
    async with database.session() as session:
        run = await session.get(SyncRun, run_id)
        assert run is not None
        return run


@pytest.mark.asyncio
async def test_runs_the_sync_with_its_arguments(database: Database) -> None:
    fake = FakeSync(batches=1, batch_seconds=0)
    stop = asyncio.Event()
    settings = Settings(database_url="sqlite+aiosqlite:///unused.db")
    run_id = await run_locked_sync(
        settings, database, only=["python", "debian"], stop=stop, full_reconcile=True, sync=fake
    )
    assert fake.calls == [{"only": ("python", "debian"), "full_reconcile": True, "stop": stop}]
    run = await _run(database, run_id)
    assert (run.status, run.only) == ("ok", ["python", "debian"])


@pytest.mark.asyncio
async def test_refused_while_another_sync_holds_the_lock(database: Database) -> None:
    fake = FakeSync(batches=1, batch_seconds=0)
    settings = Settings()
    async with sync_lock(database):
        with pytest.raises(SyncLockedError):
            await run_locked_sync(settings, database, sync=fake)
    assert fake.calls == []


@pytest.mark.asyncio
async def test_wait_runs_after_the_holder(database: Database) -> None:
    fake = FakeSync(batches=1, batch_seconds=0)
    released = asyncio.Event()

    async def holder() -> None:
        async with sync_lock(database):
            await asyncio.sleep(0.3)
            released.set()

    async def waiter() -> None:
        await asyncio.sleep(0.05)
        await run_locked_sync(Settings(), database, wait=True, poll_seconds=0.05, sync=fake)
        assert released.is_set()

    await asyncio.gather(holder(), waiter())
    assert len(fake.calls) == 1


@pytest.mark.asyncio
async def test_runs_left_running_by_a_dead_process_are_closed_first(database: Database) -> None:
    started = utcnow() - timedelta(hours=5)
    last_error = started + timedelta(minutes=7)
    async with database.session() as session:
        dead = SyncRun(started_at=started, status="running", message="halfway")
        session.add(dead)
        await session.flush()
        session.add(
            SyncError(
                run_id=dead.id,
                item_kind="dockerfile",
                item="python:3.12 (amd64)",
                error_kind="not-found",
                message="404",
                created_at=last_error,
            )
        )
        finished = SyncRun(started_at=started, finished_at=started, status="ok")
        session.add(finished)
    fake = FakeSync(batches=1, batch_seconds=0)
    new_id = await run_locked_sync(Settings(), database, sync=fake)
    closed = await _run(database, dead.id)
    assert closed.status == "interrupted"
    assert closed.message == f"halfway; {ABANDONED_MESSAGE}"
    assert closed.finished_at == last_error  # the last sign of life, not "now"
    assert (await _run(database, finished.id)).status == "ok"
    assert (await _run(database, new_id)).status == "ok"


@pytest.mark.asyncio
async def test_a_cancelled_sync_is_recorded_interrupted_and_releases_the_lock(
    database: Database,
) -> None:
    fake = FakeSync(batches=50, batch_seconds=0.05, honour_stop=False)
    task = asyncio.create_task(run_locked_sync(Settings(), database, sync=fake))
    await fake.started.wait()
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (run,) = await _runs(database)
    assert run.status == "interrupted"
    assert run.message == CANCELLED_MESSAGE
    assert run.finished_at is not None
    async with sync_lock(database):  # released
        pass


@pytest.mark.asyncio
async def test_production_sync_is_the_pipeline_and_adapts_one_without_stop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[dict[str, object]] = []

    async def run_sync(
        settings: Settings,
        database: Database,
        *,
        only: Sequence[str] = (),
        progress: object = None,
        full_reconcile: bool | None = None,
    ) -> str:
        seen.append({"only": only, "full_reconcile": full_reconcile})
        return "summary"

    module = types.ModuleType("indexer.sync.pipeline")
    module.run_sync = run_sync  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "indexer.sync.pipeline", module)
    sync = production_sync()
    result = await sync(
        Settings(), Database("sqlite+aiosqlite://"), only=("x",), full_reconcile=None, stop=None
    )
    assert result == "summary"
    assert seen == [{"only": ("x",), "full_reconcile": None}]

    async def run_sync_with_stop(
        settings: Settings, database: Database, *, stop: asyncio.Event | None = None
    ) -> str:
        return "stoppable"

    module.run_sync = run_sync_with_stop  # type: ignore[attr-defined]
    chosen: object = production_sync()
    assert chosen is run_sync_with_stop
