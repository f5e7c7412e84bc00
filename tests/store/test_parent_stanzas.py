"""``builds.parent_stanza_id`` follows library changes of the parent's repository.

The stored column must always equal the live rule of the contract views' ancestor walk
(``_next_build`` of migration 0002, what ``v_ancestors`` follows); the descendant and
ancestor walks read only the column.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from datetime import timedelta

import pytest

from indexer.store.db import Database
from indexer.store.links import link_parents
from indexer.store.queries import children
from indexer.store.read.session import SessionReader
from indexer.store.records import LibraryFileRecord
from indexer.store.writes import write_library_file
from tests.corpus import PROJECT_ROOT
from tests.store.handmade import LIBRARY, NOW, _stanza, write_handmade_graph
from tests.sync.helpers import query


def _views_rule(parent_tag_id: str, architecture: str) -> str:
    """The views' rule: the build the parent tag answers with (migration 0002's subquery)."""
    path = PROJECT_ROOT / "migrations" / "versions" / "2026_11_28_0002_contract_views.py"
    spec = importlib.util.spec_from_file_location("_contract_views_0002", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rule: str = module._next_build(parent_tag_id, architecture)
    return rule


#: every build whose stored parent stanza differs from the live rule
STALE = f"""
    SELECT s.canonical_tag, b.architecture, b.parent_stanza_id, live.stanza_id
    FROM builds b
    JOIN stanzas s ON s.id = b.stanza_id
    LEFT JOIN builds live ON live.id = {_views_rule("b.parent_tag_id", "b.architecture")}
    WHERE COALESCE(b.parent_stanza_id, 0) <> COALESCE(live.stanza_id, 0)
"""

PYTHON_SLIM_PARENTS = """
    SELECT b.architecture, ps.canonical_tag
    FROM builds b
    JOIN stanzas s ON s.id = b.stanza_id
    LEFT JOIN stanzas ps ON ps.id = b.parent_stanza_id
    WHERE s.canonical_tag = '3.12.7-slim-bookworm'
    ORDER BY b.architecture
"""

ANCESTORS = """
    SELECT architecture, depth, ancestor_repository, ancestor_tag FROM v_ancestors
    WHERE repository = 'python' AND tag = '3.12-slim' ORDER BY architecture, depth
"""


def _debian_with_slim_replaced() -> LibraryFileRecord:
    """debian a day later: the bookworm-slim stanza retired, a new one (amd64 only) lists its tags."""
    debian = LIBRARY[0]
    replacement = _stanza(
        "debian", ("bookworm-20261102-slim", "bookworm-slim", "12-slim"), "scratch"
    )
    replacement = dataclasses.replace(replacement, builds=replacement.builds[:1])
    return dataclasses.replace(debian, blob_sha="f" * 40, stanzas=(debian.stanzas[0], replacement))


async def _write_and_link(database_url: str) -> int:
    """A new library file, then the links (as the sync relinks at the end of a run)."""
    database = Database(database_url)
    try:
        async with database.session() as session:
            await write_library_file(
                session, _debian_with_slim_replaced(), now=NOW + timedelta(days=1)
            )
            return await link_parents(session)
    finally:
        await database.dispose()


async def _link_again(database_url: str) -> int:
    database = Database(database_url)
    try:
        async with database.session() as session:
            return await link_parents(session)
    finally:
        await database.dispose()


async def _children(database_url: str) -> list[tuple[str, str, list[str], int]]:
    database = Database(database_url)
    try:
        async with database.session() as session:
            rows = await children(SessionReader(session), "debian:bookworm-slim", recursive=True)
    finally:
        await database.dispose()
    return [(row.repository, row.tag, row.architectures, row.depth) for row in rows]


@pytest.mark.asyncio
async def test_parent_stanza_follows_a_retired_and_replaced_parent(database_url: str) -> None:
    await write_handmade_graph(database_url)
    assert await query(database_url, STALE) == []
    assert await query(database_url, PYTHON_SLIM_PARENTS) == [
        ("amd64", "bookworm-slim"),
        ("arm64v8", "bookworm-slim"),
    ]

    changed = await _write_and_link(database_url)

    assert await query(database_url, STALE) == []
    # amd64 answers with the new stanza; no maintained stanza listing the tag builds arm64v8
    assert await query(database_url, PYTHON_SLIM_PARENTS) == [
        ("amd64", "bookworm-20261102-slim"),
        ("arm64v8", None),
    ]
    assert changed == 2
    assert await _children(database_url) == [
        ("python", "3.12.7-slim-bookworm", ["amd64"], 1),
    ]
    ancestors = [
        tuple(str(v) if v is not None else None for v in row)
        for row in await query(database_url, ANCESTORS)
    ]
    assert ancestors == [
        ("amd64", "1", "debian", "bookworm-slim"),
        ("amd64", "2", "scratch", None),
        ("arm64v8", "1", "debian", "bookworm-slim"),
    ]
    # a no-change call writes nothing
    assert await _link_again(database_url) == 0
