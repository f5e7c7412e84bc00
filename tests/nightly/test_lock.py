"""The single-run lock on both backends: in one process, across processes, after a kill."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select, text

from indexer.errors import SyncLockedError
from indexer.store.db import Database
from indexer.store.lock import (
    LOCK_STATE_KEY,
    SYNC_LOCK_KEY,
    LockHolder,
    read_holder,
    sync_lock,
)
from indexer.store.models import SyncState, utcnow
from tests.nightly.fakes import eventually
from tests.nightly.processes import finish, kill_all, read_line, start_module

HOLDER = "tests.nightly.hold_lock"


@pytest_asyncio.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.dispose()


@pytest.mark.asyncio
async def test_second_holder_is_refused_at_once(database: Database) -> None:
    async with sync_lock(database) as lock:
        assert lock.holder.pid == os.getpid()
        started = time.monotonic()
        with pytest.raises(SyncLockedError) as refused:
            async with sync_lock(database):
                pytest.fail("two holders at once")
        assert time.monotonic() - started < 1.0
        message = str(refused.value)
        assert message.startswith("another sync is running (since ")
        assert f"pid {os.getpid()}" in message
        assert f"host {socket.gethostname()}" in message
    async with sync_lock(database):  # released: free again
        pass


@pytest.mark.asyncio
async def test_two_syncs_at_once_exactly_one_runs(database: Database) -> None:
    ran: list[int] = []

    async def attempt(number: int) -> None:
        async with sync_lock(database):
            ran.append(number)
            await asyncio.sleep(0.3)

    results = await asyncio.gather(attempt(1), attempt(2), return_exceptions=True)
    assert len(ran) == 1
    assert sum(isinstance(result, SyncLockedError) for result in results) == 1


@pytest.mark.asyncio
async def test_wait_true_waits_its_turn(database: Database) -> None:
    order: list[str] = []

    async def first() -> None:
        async with sync_lock(database):
            order.append("first in")
            await asyncio.sleep(0.4)
            order.append("first out")

    async def second() -> None:
        await asyncio.sleep(0.1)
        async with sync_lock(database, wait=True, poll_seconds=0.05):
            order.append("second in")

    await asyncio.gather(first(), second())
    assert order == ["first in", "first out", "second in"]


@pytest.mark.asyncio
async def test_holder_is_released_when_the_body_fails(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with sync_lock(database):
            raise RuntimeError("boom")
    async with sync_lock(database):
        pass
    holder, _ = await read_holder(database)
    assert holder is None


@pytest.mark.asyncio
async def test_heartbeat_refreshes_the_holder_row(database: Database) -> None:
    async with sync_lock(database, heartbeat_seconds=0.05):
        holder, first_beat = await read_holder(database)
        assert holder is not None and holder.pid == os.getpid()
        await asyncio.sleep(0.3)
        _, later_beat = await read_holder(database)
    assert first_beat is not None and later_beat is not None
    assert later_beat > first_beat


def test_two_processes_at_once_exactly_one_runs(database_url: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    processes = [
        start_module(
            HOLDER,
            database_url,
            "--hold",
            "1.0",
            "--ready",
            str(tmp_path / f"ready{i}"),
            "--go",
            str(go),
        )
        for i in range(2)
    ]
    try:
        deadline = time.monotonic() + 20
        while not all((tmp_path / f"ready{i}").exists() for i in range(2)):
            assert time.monotonic() < deadline, "helpers did not start"
            time.sleep(0.01)
        go.touch()
        outcomes = [finish(process) for process in processes]
    finally:
        kill_all(processes)
    statuses = sorted(status for status, _, _ in outcomes)
    assert statuses == [0, 3], outcomes
    winner = next(out for status, out, _ in outcomes if status == 0)
    assert winner.split() == ["locked", "released"]
    for status, out, _ in outcomes:
        if status == 3:
            assert out.startswith("refused: another sync is running (since ")


@pytest.mark.asyncio
async def test_a_process_waits_for_the_holder(database: Database, tmp_path: Path) -> None:
    url = database.url.render_as_string(hide_password=False)
    ready = tmp_path / "ready"
    async with sync_lock(database):
        waiter = start_module(HOLDER, url, "--hold", "0", "--wait", "--ready", str(ready))
        try:
            await eventually(ready.exists, within=20)
            await asyncio.sleep(0.3)  # the waiter is polling now
            assert waiter.poll() is None
        except BaseException:
            kill_all([waiter])
            raise
    status, out, err = await asyncio.to_thread(finish, waiter)
    assert status == 0, err
    assert out.split() == ["locked", "released"]


@pytest.mark.asyncio
async def test_killed_holder_releases_the_lock(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    url = database.url.render_as_string(hide_password=False)
    holder = start_module(HOLDER, url, "--hold", "60")
    try:
        assert await asyncio.to_thread(read_line, holder) == "locked"
        with pytest.raises(SyncLockedError, match=f"pid {holder.pid}, host "):
            async with sync_lock(database):
                pytest.fail("the helper holds the lock")
        holder.kill()  # SIGKILL: no cleanup at all
        holder.wait(5)
    finally:
        kill_all([holder])
    # PostgreSQL drops the dead session's advisory lock; on SQLite the holder's pid is gone
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="indexer.store.lock"):
        async with asyncio.timeout(10), sync_lock(database, wait=True, poll_seconds=0.05) as lock:
            assert lock.holder.pid == os.getpid()
    assert time.monotonic() - started < 5
    if database.dialect == "sqlite":
        assert "took over the stale sync lock (since" in caplog.text
        assert f"pid {holder.pid}" in caplog.text


async def _plant_holder(database: Database, holder: LockHolder, beat_age: timedelta) -> None:
    async with database.session() as session:
        session.add(
            SyncState(key=LOCK_STATE_KEY, value=holder.to_json(), updated_at=utcnow() - beat_age)
        )


@pytest.mark.asyncio
async def test_sqlite_holder_elsewhere_counts_until_its_heartbeat_is_stale(
    database: Database,
) -> None:
    if database.dialect != "sqlite":
        pytest.skip("the heartbeat decides only on SQLite")
    elsewhere = LockHolder(pid=1, host="elsewhere.example", started_at=utcnow())
    await _plant_holder(database, elsewhere, timedelta(seconds=30))
    with pytest.raises(SyncLockedError, match=r"pid 1, host elsewhere\.example"):
        async with sync_lock(database, stale_after_seconds=120):
            pass
    async with sync_lock(database, stale_after_seconds=20) as lock:
        async with database.session() as session:
            value = await session.scalar(
                select(SyncState.value).where(SyncState.key == LOCK_STATE_KEY)
            )
        assert LockHolder.from_json(value) == lock.holder


@pytest.mark.asyncio
async def test_sqlite_takeover_is_noticed_by_the_old_holder(database: Database) -> None:
    if database.dialect != "sqlite":
        pytest.skip("only SQLite holders can be taken over")
    async with sync_lock(database, heartbeat_seconds=0.05) as lock:
        async with database.session() as session:  # what a contender's takeover writes
            row = await session.get(SyncState, LOCK_STATE_KEY)
            assert row is not None
            row.value = LockHolder(pid=2, host="elsewhere.example", started_at=utcnow()).to_json()
        await asyncio.sleep(0.3)
        assert lock.lost


@pytest.mark.asyncio
async def test_postgresql_holder_notices_its_connection_dropped(database: Database) -> None:
    if database.dialect != "postgresql":
        pytest.skip("the advisory lock lives in a PostgreSQL session")
    async with sync_lock(database, heartbeat_seconds=0.05) as lock:
        async with database.engine.begin() as connection:
            ended = await connection.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND classid = 0 AND objid = :key"
                ),
                {"key": SYNC_LOCK_KEY},
            )
        assert ended == 1
        await eventually(lambda: lock.lost)
        async with sync_lock(database):  # the server released it with the session
            pass
    async with sync_lock(database):
        pass
