"""Real ``indexer`` processes syncing a handful of repositories from the replay server.

Shared by the crash-safety and graceful-stop tests: the command lines and their
environment, and the contract views ``v_tags``, ``v_parents`` and ``v_tag_images``
read back for comparison with an uninterrupted run.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from sqlalchemy import text

from indexer.replay import ReplayServer
from indexer.store.db import Database
from tests.corpus import PROJECT_ROOT

#: a handful of repositories: parents within the set (python, redis on debian and
#: alpine), a scratch image, several Hub pages each at the small page size below
ONLY = ("alpine", "debian", "hello-world", "python", "redis")
SNAPSHOT = "dense-current"
LATENCY_MS = 10
SYNC_ENV = {
    "INDEXER_HUB_PAGE_SIZE": "25",
    "INDEXER_CONCURRENCY": "8",
    "INDEXER_MAX_TRIES": "2",
}
VIEWS = {
    "v_tags": "repository, tag",
    "v_parents": "repository, tag, architecture",
    "v_tag_images": "repository, tag, os, architecture, variant, digest",
}

Views = dict[str, list[tuple[Any, ...]]]


def only_options() -> list[str]:
    return [option for name in ONLY for option in ("--only", name)]


def indexer_command(url: str, replay: ReplayServer, *args: str) -> tuple[list[str], dict[str, str]]:
    """``python -m indexer ARGS`` and its environment, pointed at ``replay`` and ``url``."""
    env = {
        **os.environ,
        **replay.env(),
        **SYNC_ENV,
        "INDEXER_DATABASE_URL": url,
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    return [sys.executable, "-m", "indexer", *args], env


async def sync(url: str, replay: ReplayServer) -> None:
    """One uninterrupted ``indexer sync --only …`` process; fails the test unless it exits 0."""
    args, env = indexer_command(url, replay, "sync", *only_options())
    process = await asyncio.create_subprocess_exec(
        *args,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()[-3000:]


async def read_views(url: str) -> Views:
    """The contract views' rows of the :data:`ONLY` repositories, each in a stable order."""
    database = Database(url)
    names = ", ".join(f"'{name}'" for name in ONLY)
    try:
        async with database.engine.connect() as connection:
            return {
                view: [
                    tuple(row)
                    for row in await connection.execute(
                        text(f"SELECT * FROM {view} WHERE repository IN ({names}) ORDER BY {order}")
                    )
                ]
                for view, order in VIEWS.items()
            }
    finally:
        await database.dispose()


async def run_statuses(url: str) -> list[tuple[int, str]]:
    """``(id, status)`` of every sync run, oldest first."""
    database = Database(url)
    try:
        async with database.engine.connect() as connection:
            rows = await connection.execute(text("SELECT id, status FROM sync_runs ORDER BY id"))
            return [(int(run_id), str(status)) for run_id, status in rows]
    finally:
        await database.dispose()


def differences(got: Views, want: Views, shown: int = 5) -> dict[str, dict[str, Any]]:
    """Per view: a few rows only in ``got`` (extra) and only in ``want`` (missing)."""
    result: dict[str, dict[str, Any]] = {}
    for view in VIEWS:
        extra = sorted(set(got[view]) - set(want[view]), key=repr)
        missing = sorted(set(want[view]) - set(got[view]), key=repr)
        if extra or missing or len(got[view]) != len(want[view]):
            result[view] = {
                "rows": (len(got[view]), len(want[view])),
                "extra": extra[:shown],
                "missing": missing[:shown],
            }
    return result
