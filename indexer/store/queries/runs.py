"""Sync runs for ``indexer runs``: the latest runs and one run's item errors."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from indexer.store.models import SyncError, SyncRun

__all__ = ["latest_runs", "run_errors"]


async def latest_runs(session: AsyncSession, limit: int = 20) -> list[SyncRun]:
    """The newest ``limit`` runs, newest first."""
    return list(
        (await session.scalars(select(SyncRun).order_by(SyncRun.id.desc()).limit(limit))).all()
    )


async def run_errors(session: AsyncSession, run_id: int, limit: int = 50) -> list[SyncError]:
    """The first ``limit`` item errors of run ``run_id``."""
    return list(
        (
            await session.scalars(
                select(SyncError)
                .where(SyncError.run_id == run_id)
                .order_by(SyncError.id)
                .limit(limit)
            )
        ).all()
    )
