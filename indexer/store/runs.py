"""The audit trail of sync runs (``sync_runs``) and their item errors (``sync_errors``).

Each function runs in its own short transaction, so what it writes survives a
crash of the run: a run row exists from its start (status ``running``), every item
error is committed when it happens, and :func:`finish_run` stores the counts and
the final status (``ok``, ``partial``, ``failed`` or ``interrupted``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from indexer.store.db import Database
from indexer.store.models import SyncError, SyncRun, utcnow

__all__ = [
    "RUN_STATUSES",
    "ItemError",
    "RunCounts",
    "add_item_errors",
    "finish_run",
    "record_item_error",
    "record_item_errors",
    "start_run",
]

_SYNC_ERRORS = cast(Table, SyncError.__table__)
RUN_STATUSES = ("running", "ok", "partial", "failed", "interrupted")
#: longest message stored for one item error (longer ones are cut)
MAX_MESSAGE_CHARS = 4000


@dataclass(frozen=True, slots=True)
class ItemError:
    """One failed item of a run: what it was and why it failed."""

    #: library-file, stanza, dockerfile, hub-page, ...
    item_kind: str
    #: which item: a file name, ``python:3.12 (amd64)``, a URL
    item: str
    #: the error's kind (``IndexerError.kind``)
    error_kind: str
    message: str


@dataclass(frozen=True, slots=True)
class RunCounts:
    """The counts stored on a finished run."""

    library_commit: str | None = None
    library_files_fetched: int = 0
    dockerfiles_fetched: int = 0
    tags_added: int = 0
    tags_changed: int = 0
    tags_removed: int = 0
    parents_resolved: int = 0
    parents_unresolved: int = 0
    errors: int = 0
    #: HTTP requests of the run (``RequestStats.as_dict()``)
    requests: Mapping[str, Any] = field(default_factory=dict)


async def start_run(
    database: Database, *, only: Sequence[str] = (), full_reconcile: bool = False
) -> int:
    """Create the run row (status ``running``) and answer its id."""
    async with database.session() as session:
        run = SyncRun(
            started_at=utcnow(),
            status="running",
            only=list(only) or None,
            full_reconcile=full_reconcile,
        )
        session.add(run)
        await session.flush()
        return run.id


def _error_row(run_id: int, error: ItemError) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "item_kind": error.item_kind[:50],
        "item": error.item,
        "error_kind": error.error_kind[:50],
        "message": error.message[:MAX_MESSAGE_CHARS],
        "created_at": utcnow(),
    }


async def record_item_error(database: Database, run_id: int, error: ItemError) -> None:
    """Store one item error of run ``run_id`` in its own transaction."""
    await record_item_errors(database, run_id, [error])


async def record_item_errors(database: Database, run_id: int, errors: Sequence[ItemError]) -> None:
    """Store several item errors of run ``run_id`` in one transaction."""
    if errors:
        async with database.session() as session:
            await add_item_errors(session, run_id, errors)


async def add_item_errors(session: AsyncSession, run_id: int, errors: Sequence[ItemError]) -> None:
    """Add item errors of run ``run_id`` to the caller's transaction (keep it short)."""
    if errors:
        await session.execute(insert(_SYNC_ERRORS), [_error_row(run_id, error) for error in errors])


async def finish_run(
    database: Database,
    run_id: int,
    *,
    status: str,
    counts: RunCounts,
    message: str | None = None,
) -> None:
    """Store the final status and counts of run ``run_id``."""
    if status not in RUN_STATUSES or status == "running":
        raise ValueError(f"not a final run status: {status!r}")
    async with database.session() as session:
        await session.execute(
            update(SyncRun)
            .where(SyncRun.id == run_id)
            .values(
                finished_at=utcnow(),
                status=status,
                library_commit=counts.library_commit,
                library_files_fetched=counts.library_files_fetched,
                dockerfiles_fetched=counts.dockerfiles_fetched,
                tags_added=counts.tags_added,
                tags_changed=counts.tags_changed,
                tags_removed=counts.tags_removed,
                parents_resolved=counts.parents_resolved,
                parents_unresolved=counts.parents_unresolved,
                errors=counts.errors,
                requests=dict(counts.requests),
                message=message,
            )
        )
