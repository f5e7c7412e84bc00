"""The set-based writes the pipeline uses store exactly what the row-at-a-time ones store."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from indexer.store.bulk_writes import (
    reconcile_hub_tags,
    write_hub_tags_bulk,
    write_library_file_bulk,
)
from indexer.store.db import Database
from indexer.store.records import HubImageRecord, HubTagRecord, LibraryFileRecord
from indexer.store.writes import (
    link_parents,
    mark_hub_tags_removed,
    write_hub_tags,
    write_library_file,
)
from tests.store.handmade import HUB, LIBRARY, NOW
from tests.sync.helpers import query, view_rows

ALL_VIEWS = ("v_tags", "v_parents", "v_ancestors", "v_tag_images", "v_tag_history")
#: the internal tables by natural key (ids differ with insertion order)
NATURAL_ROWS = {
    "stanzas": """SELECT r.name, s.canonical_tag, s.position, s.tags, s.shared_tags,
                         s.architectures, s.maintained, s.first_seen, s.last_seen
                  FROM stanzas s JOIN image_repositories r ON r.id = s.repository_id""",
    "builds": """SELECT r.name, s.canonical_tag, b.architecture, b.git_commit, b.directory,
                        b.parent_ref, b.froms, b.error, pt.name
                 FROM builds b JOIN stanzas s ON s.id = b.stanza_id
                 JOIN image_repositories r ON r.id = s.repository_id
                 LEFT JOIN tags pt ON pt.id = b.parent_tag_id""",
    "tags": """SELECT r.name, t.name, s.canonical_tag, t.maintained, t.digest, t.first_seen,
                      t.last_seen, t.removed_at
               FROM tags t JOIN image_repositories r ON r.id = t.repository_id
               LEFT JOIN stanzas s ON s.id = t.stanza_id""",
    "library_files": "SELECT name, blob_sha, stanza_count, read_at FROM library_files",
}

SECOND = NOW + timedelta(days=1)


def _changed_library() -> tuple[LibraryFileRecord, ...]:
    """The hand-made library a day later: a stanza gone, aliases moved, an architecture less."""
    debian, buildpack, python = LIBRARY
    slim = python.stanzas[1]
    slim = dataclasses.replace(slim, tags=slim.tags[:2], builds=slim.builds[:1])
    python = dataclasses.replace(python, blob_sha="c" * 40, stanzas=(slim, python.stanzas[0]))
    buildpack = dataclasses.replace(buildpack, blob_sha="e" * 40, stanzas=buildpack.stanzas[1:])
    return debian, buildpack, python


def _changed_hub() -> dict[str, tuple[HubTagRecord, ...]]:
    (tag,) = HUB["python"]
    moved = dataclasses.replace(
        tag,
        digest="sha256:" + "9" * 64,
        images=(HubImageRecord("linux", "amd64", "sha256:" + "8" * 64, size=1),),
    )
    new = HubTagRecord(name="3.13-slim", digest="sha256:" + "7" * 64)
    return {"python": (moved, new)}


async def _write(database_url: str, *, bulk: bool) -> list[object]:
    results: list[object] = []
    database = Database(database_url)
    try:
        for library, hub, now in (
            (LIBRARY, HUB, NOW),
            (_changed_library(), _changed_hub(), SECOND),
        ):
            for record in library:
                async with database.session() as session:
                    write = write_library_file_bulk if bulk else write_library_file
                    result = await write(session, record, now=now)
                    results.append(dataclasses.replace(result, repository_id=0))
            for repository, tags in hub.items():
                async with database.session() as session:
                    if bulk:
                        results.append(
                            await write_hub_tags_bulk(session, repository, tags, now=now)
                        )
                    else:
                        results.append(await write_hub_tags(session, repository, tags, now=now))
            async with database.session() as session:
                await link_parents(session)
        async with database.session() as session:
            if bulk:
                (repository_id,) = (
                    await query(
                        database_url, "SELECT id FROM image_repositories WHERE name = 'python'"
                    )
                )[0]
                results.append(
                    await reconcile_hub_tags(session, repository_id, ["3.13-slim"], now=SECOND)
                )
            else:
                results.append(
                    await mark_hub_tags_removed(session, "python", ["3.13-slim"], now=SECOND)
                )
    finally:
        await database.dispose()
    return results


async def _natural_rows(database_url: str) -> dict[str, list[tuple[str | None, ...]]]:
    rows = {}
    for table, sql in NATURAL_ROWS.items():
        found = await query(database_url, sql)
        rows[table] = sorted(tuple(None if v is None else str(v) for v in row) for row in found)
    return rows


@pytest.mark.asyncio
async def test_bulk_writes_equal_row_writes(database_url: str, second_database_url: str) -> None:
    row_results = await _write(database_url, bulk=False)
    bulk_results = await _write(second_database_url, bulk=True)
    assert bulk_results == row_results
    assert await view_rows(second_database_url, ALL_VIEWS) == await view_rows(
        database_url, ALL_VIEWS
    )
    assert await _natural_rows(second_database_url) == await _natural_rows(database_url)
