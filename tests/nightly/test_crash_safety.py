"""Crash safety: ``indexer sync`` killed with SIGKILL, then run again, ends where a clean run ends.

A real ``python -m indexer sync --only …`` process syncs a handful of repositories
from the replay server. The test watches the server's counters (or the database)
and kills the process at one point: while library files are fetched, while
Dockerfiles are fetched, while the Hub is paged, while rows are written. Then it
runs the sync again to the end and compares the contract views ``v_tags``,
``v_parents`` and ``v_tag_images`` with those of an uninterrupted run: equal.
"""

from __future__ import annotations

import asyncio
import signal
import tempfile
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import text

from indexer.replay import ReplayServer
from indexer.store.db import Database
from tests.corpus import PROJECT_ROOT
from tests.nightly.replayed import (
    Views,
    differences,
    indexer_command,
    only_options,
    read_views,
    run_statuses,
    sync,
)

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

KillPoint = Callable[[ReplayServer, Database], Awaitable[bool]]


async def _requests(replay: ReplayServer, kind: str, at_least: int) -> bool:
    return replay.counters.requests[kind] >= at_least


async def _rows_written(replay: ReplayServer, database: Database) -> bool:
    """Hub facts are landing while Hub pages are still being asked for."""
    async with database.engine.connect() as connection:
        tags_with_digest = (
            await connection.execute(text("SELECT count(*) FROM tags WHERE digest IS NOT NULL"))
        ).scalar_one()
    return int(tags_with_digest) >= 100


KILL_POINTS: dict[str, KillPoint] = {
    "library-fetch": lambda replay, _db: _requests(replay, "library_file", 2),
    "dockerfile-fetch": lambda replay, _db: _requests(replay, "dockerfile", 40),
    "hub-paging": lambda replay, _db: _requests(replay, "hub_tags", 12),
    "writes": _rows_written,
}


async def _sync_killed(url: str, replay: ReplayServer, kill_point: KillPoint) -> None:
    """An ``indexer sync`` process killed with SIGKILL as soon as ``kill_point`` is true."""
    args, env = indexer_command(url, replay, "sync", *only_options())
    replay.counters.reset()
    database = Database(url)
    with tempfile.TemporaryFile() as stderr:
        process = await asyncio.create_subprocess_exec(
            *args, cwd=PROJECT_ROOT, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=stderr
        )
        try:
            async with asyncio.timeout(60):
                while process.returncode is None:
                    if await kill_point(replay, database):
                        break
                    await asyncio.sleep(0.005)
            if process.returncode is not None:
                stderr.seek(0)
                pytest.fail(
                    f"the sync ended (status {process.returncode}) before the kill point:\n"
                    + stderr.read().decode()[-3000:]
                )
            process.kill()
            await process.wait()
            assert process.returncode == -signal.SIGKILL
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            await database.dispose()


@pytest.mark.asyncio
@pytest.mark.parametrize("point", list(KILL_POINTS))
async def test_killed_sync_then_rerun_equals_an_uninterrupted_run(
    point: str, database_url: str, replay: ReplayServer, reference_views: Views
) -> None:
    await _sync_killed(database_url, replay, KILL_POINTS[point])
    killed = await run_statuses(database_url)
    assert killed[-1][1] == "running"  # SIGKILL: the run could not record anything

    await sync(database_url, replay)
    assert differences(await read_views(database_url), reference_views) == {}
    runs = await run_statuses(database_url)
    assert runs[-1][1] in ("ok", "partial")
    assert runs[0][1] == "interrupted"  # closed as abandoned by the rerun, under the lock
