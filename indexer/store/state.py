"""Small named values kept between sync runs (``sync_state``).

Keys the sync pipeline uses (:mod:`indexer.sync`):

- ``library.etag``: the ETag of the last branch-head answer whose library part was
  synced completely and cleanly (sent as ``If-None-Match`` next time);
- ``hub.unfinished``: JSON list of repositories whose Hub paging started but did not
  finish cleanly (a crash leaves them listed, so the next run pages them completely);
- ``library.commit``: the official-images commit of the last library part synced;
- ``library.max_body_bytes``: the size cap in force when the ETag was stored (a larger
  cap makes the next run read the library again, for Dockerfiles that were too large);
- ``links.stale``: set in the same transaction as any write that can change a parent
  link (library files, new tags, repositories no longer maintained), cleared by the
  transaction that relinks every parent at the end of the run; a run killed in between
  leaves it set, so the next run relinks even when it has nothing else to write;

Writes are upserts that change nothing when the value is the same. (The single-run
lock, also a ``sync_state`` row on SQLite, is :mod:`indexer.store.lock`.)
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from indexer.store.models import SyncState, utcnow
from indexer.store.writes import insert_statement

__all__ = [
    "LINKS_STALE_KEY",
    "StaleLinksMark",
    "delete_state",
    "get_state",
    "mark_links_stale",
    "set_state",
]

LINKS_STALE_KEY = "links.stale"


async def get_state(session: AsyncSession, key: str) -> str | None:
    """The value stored under ``key``, or ``None``."""
    return await session.scalar(select(SyncState.value).where(SyncState.key == key))


async def set_state(
    session: AsyncSession, key: str, value: str | None, *, now: datetime | None = None
) -> None:
    """Store ``value`` under ``key`` (no write when it is already the value)."""
    stmt = insert_statement(session, SyncState).values(
        key=key, value=value, updated_at=now or utcnow()
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
            where=SyncState.value.is_distinct_from(stmt.excluded.value),
        )
    )


async def delete_state(session: AsyncSession, key: str) -> None:
    """Forget ``key``."""
    await session.execute(delete(SyncState).where(SyncState.key == key))


async def mark_links_stale(session: AsyncSession) -> None:
    """Note, in the caller's transaction, that parent links must be recomputed."""
    await set_state(session, LINKS_STALE_KEY, "1")


class StaleLinksMark:
    """`mark_links_stale` once per run.

    The mark stays set from the first transaction that commits it until the run's final
    relink deletes it, so the writes after that one need not write it again; a killed
    run has committed it with its first such write. Used by one writer (transactions
    in order, one at a time), whose failing transaction ends the run.
    """

    def __init__(self) -> None:
        self.marked = False

    async def __call__(self, session: AsyncSession) -> None:
        if not self.marked:
            await mark_links_stale(session)
            self.marked = True
