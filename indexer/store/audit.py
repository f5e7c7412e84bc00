"""Reading and repairing the run audit trail (``sync_runs``, ``sync_errors``).

The sync pipeline writes the trail (:mod:`indexer.store.runs`); this module closes
runs a dead process left ``running`` and answers the questions the sync and the
scheduler's log lines ask (``indexer runs`` reads through
:mod:`indexer.store.queries.runs`). :func:`close_abandoned_runs` must only be called while
holding the single-run lock (:mod:`indexer.store.lock`): then no run is really
running, and every ``running`` row is left over.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from indexer.store.db import Database
from indexer.store.models import SyncError, SyncRun

__all__ = [
    "ABANDONED_MESSAGE",
    "CANCELLED_MESSAGE",
    "close_abandoned_runs",
    "last_run_started",
    "latest_run_since",
]

#: message of a run whose process died (found by the next run)
ABANDONED_MESSAGE = "abandoned: the process running it ended before recording a result"
#: message of a run cancelled by a second stop signal
CANCELLED_MESSAGE = "cancelled: stopped by a second signal before finishing its batch"


async def close_abandoned_runs(
    database: Database, *, message: str = ABANDONED_MESSAGE, finished_at: datetime | None = None
) -> list[int]:
    """Mark every run still ``running`` as ``interrupted``; answer their ids.

    ``finished_at`` defaults to each run's last sign of life: its newest item error,
    or its start. Call only while holding the sync lock.
    """
    async with database.session() as session:
        rows = (
            await session.execute(
                select(SyncRun.id, SyncRun.started_at, SyncRun.message)
                .where(SyncRun.status == "running")
                .order_by(SyncRun.id)
            )
        ).all()
        for run_id, started_at, previous in rows:
            end = finished_at
            if end is None:
                last_error = await session.scalar(
                    select(func.max(SyncError.created_at)).where(SyncError.run_id == run_id)
                )
                end = max(started_at, last_error) if last_error else started_at
            await session.execute(
                update(SyncRun)
                .where(SyncRun.id == run_id, SyncRun.status == "running")
                .values(
                    status="interrupted",
                    finished_at=end,
                    message=f"{previous}; {message}" if previous else message,
                )
            )
    return [row.id for row in rows]


async def latest_run_since(database: Database, since: datetime) -> SyncRun | None:
    """The newest run started at or after ``since`` (the one a caller just ran)."""
    async with database.session() as session:
        return await session.scalar(
            select(SyncRun).where(SyncRun.started_at >= since).order_by(SyncRun.id.desc()).limit(1)
        )


async def last_run_started(database: Database) -> datetime | None:
    """When the newest run of any kind started; ``None`` before the first."""
    async with database.session() as session:
        return await session.scalar(select(func.max(SyncRun.started_at)))
