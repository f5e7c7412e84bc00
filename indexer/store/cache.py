"""The fetch cache: immutable upstream content by content id (``fetch_cache``).

Kinds and ids the sync pipeline stores:

- ``library-file``: the text of a library file, by its git blob id;
- ``dockerfile``: a Dockerfile, by :func:`dockerfile_content_id` of
  (GitRepo, GitCommit, Directory, File).

Statuses: ``ok`` (``content`` holds the text), ``missing`` (the upstream answered
404), ``too-large`` (the answer exceeded the size cap; ``content`` holds that cap in
bytes, so a run with a larger cap asks again). Entries are written once and never
changed: content at a commit or blob id does not change.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from indexer.store.models import FetchCache, utcnow

__all__ = [
    "DOCKERFILE",
    "LIBRARY_FILE",
    "MISSING",
    "OK",
    "TOO_LARGE",
    "CachedContent",
    "dockerfile_content_id",
    "get_cached",
    "get_cached_many",
    "put_cached",
    "put_cached_many",
]

LIBRARY_FILE = "library-file"
DOCKERFILE = "dockerfile"

OK = "ok"
MISSING = "missing"
TOO_LARGE = "too-large"

#: ids per SELECT … IN (…)
_LOOKUP_CHUNK = 400
#: rows per executemany
_INSERT_CHUNK = 200

_TABLE = cast(Table, FetchCache.__table__)
_LOOKUP = select(_TABLE.c.content_id, _TABLE.c.status, _TABLE.c.content).where(
    _TABLE.c.kind == bindparam("b_kind"),
    _TABLE.c.content_id.in_(bindparam("b_ids", expanding=True)),
)


@functools.cache
def _store_statement(dialect: str) -> Any:
    """INSERT … ON CONFLICT: keep existing entries, except a ``too-large`` one."""
    stmt = (postgresql if dialect == "postgresql" else sqlite).insert(_TABLE)
    return stmt.on_conflict_do_update(
        index_elements=["kind", "content_id"],
        set_={
            "status": stmt.excluded.status,
            "content": stmt.excluded.content,
            "fetched_at": stmt.excluded.fetched_at,
        },
        where=(_TABLE.c.status == TOO_LARGE) & (stmt.excluded.status != TOO_LARGE),
    )


@dataclass(frozen=True, slots=True)
class CachedContent:
    """One fetch-cache entry: a status and, for ``ok``, the text."""

    status: str
    content: str | None = None


def dockerfile_content_id(git_repo: str, git_commit: str, directory: str, file: str) -> str:
    """The cache id of a Dockerfile: ``repo@commit:directory:file``.

    ``repo`` is the GitRepo without a trailing ``/`` or ``.git`` (both spellings name
    the same repository); ``directory`` ``.`` and ``""`` are the same.
    """
    repo = git_repo.strip().rstrip("/").removesuffix(".git")
    folder = directory.strip("/") or "."
    return f"{repo}@{git_commit}:{folder}:{file}"


async def get_cached(session: AsyncSession, kind: str, content_id: str) -> CachedContent | None:
    """The entry of ``(kind, content_id)``, or ``None``."""
    found = await get_cached_many(session, kind, [content_id])
    return found.get(content_id)


async def get_cached_many(
    session: AsyncSession, kind: str, content_ids: Iterable[str]
) -> dict[str, CachedContent]:
    """The entries of ``kind`` among ``content_ids`` (absent ids are left out)."""
    wanted = sorted(set(content_ids))
    found: dict[str, CachedContent] = {}
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        chunk = wanted[start : start + _LOOKUP_CHUNK]
        rows = await session.execute(_LOOKUP, {"b_kind": kind, "b_ids": chunk})
        for content_id, status, content in rows:
            found[content_id] = CachedContent(status, content)
    return found


async def put_cached(
    session: AsyncSession, kind: str, content_id: str, entry: CachedContent
) -> None:
    """Store one entry (an existing entry is kept as it is)."""
    await put_cached_many(session, kind, {content_id: entry})


async def put_cached_many(
    session: AsyncSession,
    kind: str,
    entries: Mapping[str, CachedContent],
    *,
    now: datetime | None = None,
) -> None:
    """Store entries of ``kind``, in id order; existing entries are kept as they are.

    A ``too-large`` entry is replaced by a later answer under a larger cap.
    """
    fetched_at = now or utcnow()
    rows = [
        {
            "kind": kind,
            "content_id": content_id,
            "status": entry.status,
            "content": entry.content,
            "fetched_at": fetched_at,
        }
        for content_id, entry in sorted(entries.items())
    ]
    statement = _store_statement(session.get_bind().dialect.name)
    for start in range(0, len(rows), _INSERT_CHUNK):
        await session.execute(statement, rows[start : start + _INSERT_CHUNK])
