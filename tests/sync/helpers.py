"""Helpers of the sync tests: settings against a replay, one-shot syncs, table snapshots."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from indexer.replay import ReplayServer
from indexer.settings import Settings
from indexer.store.closure import RefreshCounts
from indexer.store.db import Database
from indexer.store.links import link_parents
from indexer.store.migrate import upgrade
from indexer.store.models import Base
from indexer.sync import SyncSummary, run_sync
from tests.databases import fetch_rows

#: tables a sync may write even when nothing upstream changed
AUDIT_TABLES = frozenset({"sync_runs", "sync_errors", "sync_state"})
#: the contract views a faulty and a clean run must agree on
COMPARED_VIEWS = ("v_tags", "v_parents", "v_tag_images")


def sync_settings(
    database_url: str, *, hub_url: str, github_api_url: str, github_raw_url: str, **changes: Any
) -> Settings:
    """Settings for a test sync: concurrency 16, quick backoff, short timeouts."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "hub_url": hub_url,
        "github_api_url": github_api_url,
        "github_raw_url": github_raw_url,
        "concurrency": 16,
        "backoff_base": 0.01,
        "backoff_max": 0.2,
        "connect_timeout": 5.0,
        "read_timeout": 10.0,
    }
    values.update(changes)
    return Settings(**values)


def replay_settings(replay: ReplayServer, database_url: str, **changes: Any) -> Settings:
    """:func:`sync_settings` pointing at every upstream of ``replay``."""
    return sync_settings(database_url, **{**replay.upstreams(), **changes})


async def sync_once(settings: Settings, **options: Any) -> SyncSummary:
    """One sync into ``settings.database_url``."""
    database = Database(settings.database_url)
    try:
        return await run_sync(settings, database, **options)
    finally:
        await database.dispose()


async def fresh_sqlite(folder: Path, name: str = "indexer.db") -> str:
    """A migrated, empty SQLite database in ``folder`` (for tests already in a loop)."""
    url = f"sqlite+aiosqlite:///{folder / name}"
    await upgrade(url)
    return url


#: the rows of one SQL statement
query = fetch_rows


async def execute(database_url: str, sql: str) -> None:
    """Run one statement that returns no rows."""
    database = Database(database_url)
    try:
        async with database.session() as session:
            await session.execute(text(sql))
    finally:
        await database.dispose()


async def table_snapshot(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every internal table except the run audit, in a stable order."""
    database = Database(database_url)
    snapshot: dict[str, list[tuple[Any, ...]]] = {}
    try:
        async with database.session() as session:
            for table in Base.metadata.sorted_tables:
                if table.name in AUDIT_TABLES:
                    continue
                rows = (await session.execute(select(table))).all()
                snapshot[table.name] = sorted((tuple(row) for row in rows), key=repr)
    finally:
        await database.dispose()
    return snapshot


async def view_rows(database_url: str, views: Sequence[str] = COMPARED_VIEWS) -> dict[str, Any]:
    """The rows of contract views, sorted, with values as text (backend-neutral)."""
    result = {}
    for view in views:
        rows = await query(database_url, f"SELECT * FROM {view}")
        result[view] = sorted(tuple(None if v is None else str(v) for v in row) for row in rows)
    return result


class MiniCorpus:
    """A hand-made corpus folder in the corpus layout, for the replay server."""

    def __init__(self, root: Path, snapshot: str = "test") -> None:
        self.root = root
        self.snapshot = snapshot
        (root / "library" / snapshot).mkdir(parents=True, exist_ok=True)
        (root / "hub").mkdir(exist_ok=True)
        (root / "dockerfiles").mkdir(exist_ok=True)

    def library_file(self, name: str, content: str) -> None:
        (self.root / "library" / self.snapshot / name).write_text(content, encoding="utf-8")

    def dockerfile(self, owner_repo: str, commit: str, path: str, content: str) -> None:
        target = self.root / "dockerfiles" / owner_repo / commit / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")

    def hub(
        self, name: str, tags: Mapping[str, Sequence[tuple[str, str, str | None, int]]]
    ) -> None:
        """``tags``: name -> [(os, architecture, variant, size)]; digests are derived."""
        entries = []
        for tag, platforms in tags.items():
            entries.append(
                {
                    "name": tag,
                    "digest": _digest(f"{name}:{tag}"),
                    "media_type": "application/vnd.oci.image.index.v1+json",
                    "synthetic": True,
                    "platforms": [
                        {
                            "os": os_name,
                            "architecture": arch,
                            "variant": variant,
                            "digest": _digest(f"{name}:{tag}:{os_name}/{arch}/{variant}"),
                            "media_type": "application/vnd.oci.image.manifest.v1+json",
                            "size": size,
                            "last_modified": "2026-01-01T00:00:00Z",
                            "layers": [],
                        }
                        for os_name, arch, variant, size in platforms
                    ],
                }
            )
        document = {"repository": name, "source_commit": "synthesized", "tags": entries}
        with gzip.open(self.root / "hub" / f"{name}.json.gz", "wt", encoding="utf-8") as stream:
            json.dump(document, stream)


def _digest(seed: str) -> str:
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


async def relink(database_url: str) -> int:
    """One `link_parents` (with its refreshes) in a transaction of its own; links changed."""
    database = Database(database_url)
    try:
        async with database.session() as session:
            return await link_parents(session)
    finally:
        await database.dispose()


async def refresh_after(
    database_url: str,
    refresh: Callable[[AsyncSession], Awaitable[RefreshCounts]],
    *statements: str,
) -> tuple[int, int]:
    """Run ``statements``, then ``refresh``, in one transaction; rows deleted and inserted."""
    database = Database(database_url)
    try:
        async with database.session() as session:
            for statement in statements:
                await session.execute(text(statement))
            result = await refresh(session)
            return result.deleted, result.inserted
    finally:
        await database.dispose()
