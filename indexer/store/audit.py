"""Reading and repairing the run audit trail (``sync_runs``, ``sync_errors``).

The sync pipeline writes the trail (:mod:`indexer.store.runs`); this module closes
runs a dead process left ``running`` and answers the questions ``indexer runs`` and
the scheduler's log lines ask. :func:`close_abandoned_runs` must only be called while
holding the single-run lock (:mod:`indexer.store.lock`): then no run is really
running, and every ``running`` row is left over.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from indexer.store.db import Database
from indexer.store.models import SyncError, SyncRun

__all__ = [
    "ABANDONED_MESSAGE",
    "CANCELLED_MESSAGE",
    "ErrorKindCount",
    "TopError",
    "close_abandoned_runs",
    "error_kinds",
    "error_pattern",
    "last_run_started",
    "latest_run_since",
    "top_errors",
]

_URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+?(?=[)\s,;]|$)")
_HEX = re.compile(r"\b[0-9a-f]{12,}\b")

#: message of a run whose process died (found by the next run)
ABANDONED_MESSAGE = "abandoned: the process running it ended before recording a result"
#: message of a run cancelled by a second stop signal
CANCELLED_MESSAGE = "cancelled: stopped by a second signal before finishing its batch"


@dataclass(frozen=True, slots=True)
class ErrorKindCount:
    """How many item errors of one kind (item kind + error kind) a run recorded."""

    item_kind: str
    error_kind: str
    count: int


@dataclass(frozen=True, slots=True)
class TopError:
    """One kind of error message (:func:`error_pattern`) and how many items failed with it."""

    item_kind: str
    error_kind: str
    message: str
    count: int
    example_item: str


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


async def error_kinds(
    database: Database, run_ids: Sequence[int]
) -> dict[int, list[ErrorKindCount]]:
    """Per run: its item errors counted by item kind and error kind, most frequent first."""
    result: dict[int, list[ErrorKindCount]] = {run_id: [] for run_id in run_ids}
    if not run_ids:
        return result
    count = func.count().label("count")
    async with database.session() as session:
        rows = (
            await session.execute(
                select(SyncError.run_id, SyncError.item_kind, SyncError.error_kind, count)
                .where(SyncError.run_id.in_(run_ids))
                .group_by(SyncError.run_id, SyncError.item_kind, SyncError.error_kind)
                .order_by(SyncError.run_id, count.desc(), SyncError.item_kind)
            )
        ).all()
    for run_id, item_kind, error_kind, n in rows:
        result[run_id].append(ErrorKindCount(item_kind, error_kind, int(n)))
    return result


def error_pattern(message: str) -> str:
    """``message`` with what differs per item (URLs, long hex ids) replaced by placeholders."""
    return _HEX.sub("<id>", _URL.sub("<url>", message))


async def top_errors(
    database: Database, run_id: int, limit: int = 5, *, scan: int = 20_000
) -> list[TopError]:
    """The most frequent kinds of error message of run ``run_id``, with one failing item each.

    Messages count as the same when they differ only in URLs or ids
    (:func:`error_pattern`); the first ``scan`` errors of the run are looked at.
    """
    async with database.session() as session:
        rows = (
            await session.execute(
                select(SyncError.item_kind, SyncError.error_kind, SyncError.message, SyncError.item)
                .where(SyncError.run_id == run_id)
                .order_by(SyncError.id)
                .limit(scan)
            )
        ).all()
    counts: Counter[tuple[str, str, str]] = Counter()
    examples: dict[tuple[str, str, str], str] = {}
    for item_kind, error_kind, message, item in rows:
        key = (item_kind, error_kind, error_pattern(message))
        counts[key] += 1
        examples.setdefault(key, item)
    ranked = sorted(counts.items(), key=lambda entry: (-entry[1], entry[0]))
    return [
        TopError(item_kind, error_kind, pattern, n, examples[(item_kind, error_kind, pattern)])
        for (item_kind, error_kind, pattern), n in ranked[:limit]
    ]
