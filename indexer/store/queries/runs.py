"""Sync runs for ``indexer runs`` and the web view: the latest runs, their item errors, and
their errors counted by kind and by message."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from indexer.store.read import Reader
from indexer.store.read.values import flag, json_value, stored_time, time_value

__all__ = [
    "ErrorKindCount",
    "RunErrorRow",
    "RunRow",
    "TopError",
    "error_kinds",
    "error_pattern",
    "finished_runs",
    "latest_runs",
    "run_errors",
    "top_errors",
]

_URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+?(?=[)\s,;]|$)")
_HEX = re.compile(r"\b[0-9a-f]{12,}\b")

_RUN_COLUMNS = (
    'id, started_at, finished_at, status, "only", full_reconcile, library_commit,'
    " library_files_fetched, dockerfiles_fetched, tags_added, tags_changed, tags_removed,"
    " parents_resolved, parents_unresolved, errors, requests, message"
)


@dataclass(frozen=True, slots=True)
class RunRow:
    """One run of ``indexer sync`` (a row of ``sync_runs``)."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    #: running, ok, partial, failed, interrupted
    status: str
    only: list[str] | None
    full_reconcile: bool
    library_commit: str | None
    library_files_fetched: int
    dockerfiles_fetched: int
    tags_added: int
    tags_changed: int
    tags_removed: int
    parents_resolved: int
    parents_unresolved: int
    errors: int
    requests: dict[str, Any] | None
    message: str | None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> RunRow:
        files, dockerfiles, added, changed, removed, resolved, unresolved, errors = row[7:15]
        return cls(
            row[0],
            stored_time(row[1]),
            time_value(row[2]),
            row[3],
            json_value(row[4]),
            flag(row[5]),
            row[6],
            files,
            dockerfiles,
            added,
            changed,
            removed,
            resolved,
            unresolved,
            errors,
            json_value(row[15]),
            row[16],
        )


@dataclass(frozen=True, slots=True)
class RunErrorRow:
    """An item that failed during a run, and why (a row of ``sync_errors``)."""

    item_kind: str
    item: str
    error_kind: str
    message: str


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


async def latest_runs(reader: Reader, limit: int = 20) -> list[RunRow]:
    """The newest ``limit`` runs, newest first."""
    rows = await reader.rows(
        f"SELECT {_RUN_COLUMNS} FROM sync_runs ORDER BY id DESC LIMIT :limit", {"limit": limit}
    )
    return [RunRow.from_row(row) for row in rows]


async def finished_runs(reader: Reader, limit: int) -> list[RunRow]:
    """The newest ``limit`` runs that are not ``running``, newest first."""
    rows = await reader.rows(
        f"SELECT {_RUN_COLUMNS} FROM sync_runs WHERE status <> 'running'"
        " ORDER BY id DESC LIMIT :limit",
        {"limit": limit},
    )
    return [RunRow.from_row(row) for row in rows]


async def run_errors(reader: Reader, run_id: int, limit: int = 50) -> list[RunErrorRow]:
    """The first ``limit`` item errors of run ``run_id``."""
    rows = await reader.rows(
        "SELECT item_kind, item, error_kind, message FROM sync_errors"
        " WHERE run_id = :run_id ORDER BY id LIMIT :limit",
        {"run_id": run_id, "limit": limit},
    )
    return [RunErrorRow(*row) for row in rows]


async def error_kinds(reader: Reader, run_ids: Sequence[int]) -> dict[int, list[ErrorKindCount]]:
    """Per run: its item errors counted by item kind and error kind, most frequent first."""
    result: dict[int, list[ErrorKindCount]] = {run_id: [] for run_id in run_ids}
    if not run_ids:
        return result
    rows = await reader.rows(
        "SELECT run_id, item_kind, error_kind, COUNT(*) AS count FROM sync_errors"
        " WHERE run_id = ANY(:run_ids) GROUP BY run_id, item_kind, error_kind"
        " ORDER BY run_id, count DESC, item_kind",
        {"run_ids": list(run_ids)},
    )
    for run_id, item_kind, error_kind, n in rows:
        result[run_id].append(ErrorKindCount(item_kind, error_kind, int(n)))
    return result


def error_pattern(message: str) -> str:
    """``message`` with what differs per item (URLs, long hex ids) replaced by placeholders."""
    return _HEX.sub("<id>", _URL.sub("<url>", message))


async def top_errors(
    reader: Reader, run_id: int, limit: int = 5, *, scan: int = 20_000
) -> list[TopError]:
    """The most frequent kinds of error message of run ``run_id``, with one failing item each.

    Messages count as the same when they differ only in URLs or ids
    (:func:`error_pattern`); the first ``scan`` errors of the run are looked at.
    """
    rows = await reader.rows(
        "SELECT item_kind, error_kind, message, item FROM sync_errors"
        " WHERE run_id = :run_id ORDER BY id LIMIT :scan",
        {"run_id": run_id, "scan": scan},
    )
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
