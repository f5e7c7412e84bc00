"""A fake sync function that keeps the pipeline's contract (runner module docstring).

It records a run like the pipeline does (a ``running`` row first, then the final
status), works in batches of ``batch_seconds``, and checks ``stop`` between batches.
Its progress is stored on the run row: ``tags_added`` counts finished batches and
``requests`` holds ``{"batches_started": n, "batches_done": m}``, so a test can see
that a stop let the batch in flight finish.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update

from indexer.settings import Settings
from indexer.store.db import Database
from indexer.store.models import SyncRun, utcnow

STOPPED_MESSAGE = "stopped by request after its batch"


async def eventually(predicate: Callable[[], bool], within: float = 5.0) -> None:
    """Poll ``predicate()`` until true; ``TimeoutError`` after ``within`` seconds."""
    async with asyncio.timeout(within):
        while True:
            if predicate():
                return
            await asyncio.sleep(0.005)


async def start_run(database: Database, only: Sequence[str]) -> int:
    async with database.session() as session:
        run = SyncRun(started_at=utcnow(), status="running", only=list(only) or None)
        session.add(run)
        await session.flush()
        return run.id


async def update_run(database: Database, run_id: int, **values: Any) -> None:
    async with database.session() as session:
        await session.execute(update(SyncRun).where(SyncRun.id == run_id).values(**values))


@dataclass
class FakeSync:
    """Counts its calls, how many ran at once, and when each started."""

    batches: int = 3
    batch_seconds: float = 0.1
    honour_stop: bool = True
    calls: list[dict[str, Any]] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)
    active: int = 0
    max_active: int = 0
    #: set when the first call starts
    started: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(
        self,
        settings: Settings,
        database: Database,
        *,
        only: Sequence[str],
        full_reconcile: bool | None,
        stop: asyncio.Event | None,
    ) -> int:
        self.calls.append({"only": tuple(only), "full_reconcile": full_reconcile, "stop": stop})
        self.starts.append(time.time())
        self.started.set()
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            return await self._run(database, only, stop)
        finally:
            self.active -= 1
            self.ends.append(time.time())

    async def _run(
        self, database: Database, only: Sequence[str], stop: asyncio.Event | None
    ) -> int:
        run_id = await start_run(database, only)
        done = 0
        for _ in range(self.batches):
            if self.honour_stop and stop is not None and stop.is_set():
                await self._finish(database, run_id, "interrupted", done, STOPPED_MESSAGE)
                return run_id
            await self._progress(database, run_id, started=done + 1, done=done)
            await asyncio.sleep(self.batch_seconds)
            done += 1
            await self._progress(database, run_id, started=done, done=done)
        await self._finish(database, run_id, "ok", done, None)
        return run_id

    @staticmethod
    async def _progress(database: Database, run_id: int, *, started: int, done: int) -> None:
        await update_run(
            database,
            run_id,
            tags_added=done,
            requests={"batches_started": started, "batches_done": done},
        )

    @staticmethod
    async def _finish(
        database: Database, run_id: int, status: str, done: int, message: str | None
    ) -> None:
        await update_run(
            database, run_id, status=status, finished_at=utcnow(), tags_added=done, message=message
        )
