"""Revision 0015: ``hub_images`` and ``tag_history`` keyed by their natural keys, and
``tags.stanza_id`` indexed only where set.

At head each table's primary key is its natural key and it has no ``id`` (on SQLite it
is ``WITHOUT ROWID``), and the stanza index is partial yet serves a lookup by stanza;
downgrading gives the id and the whole index back, upgrading again takes them away,
and neither loses or changes a row or a view's answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from indexer.store.migrate import alembic_config, upgrade
from tests.store.handmade import load_handmade_graph
from tests.store.test_schema import CONTRACT_VIEWS
from tests.sync.helpers import execute, query, view_rows

REVISION, BEFORE = "0015", "0014"
KEYS = {"hub_images": ["tag_id", "digest"], "tag_history": ["tag_id", "first_seen"]}
#: more rows than the hand-made graph has: an earlier interval and one more image per tag
EXTRA_ROWS = (
    "INSERT INTO tag_history (tag_id, digest, first_seen, last_seen) "
    "SELECT id, 'sha256:' || name, '2020-01-01 00:00:00', '2020-01-02 00:00:00' FROM tags",
    "INSERT INTO hub_images (tag_id, os, architecture, variant, bashbrew_arch, digest, size) "
    "SELECT id, 'linux', 's390x', NULL, 's390x', 'sha256:s390x-' || name, id FROM tags",
)
#: each table's rows without its id, in key order
ROWS = {
    "hub_images": "SELECT tag_id, os, architecture, variant, bashbrew_arch, digest, size, "
    "status, last_pushed FROM hub_images ORDER BY tag_id, digest",
    "tag_history": "SELECT tag_id, digest, first_seen, last_seen FROM tag_history "
    "ORDER BY tag_id, first_seen",
}


def _shape(connection: Any) -> dict[str, tuple[list[str], list[str], list[list[str]]]]:
    """Each table's columns, primary key and unique constraints."""
    inspector = inspect(connection)
    return {
        table: (
            [column["name"] for column in inspector.get_columns(table)],
            list(inspector.get_pk_constraint(table)["constrained_columns"]),
            [list(unique["column_names"]) for unique in inspector.get_unique_constraints(table)],
        )
        for table in KEYS
    }


#: the definition of the index on tags.stanza_id
STANZA_INDEX = {
    "sqlite": "SELECT sql FROM sqlite_master WHERE name = 'ix_tags_stanza_id'",
    "postgresql": "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_tags_stanza_id'",
}
#: how each backend plans a lookup of tags by stanza (PostgreSQL told to avoid scans, as
#: it would on a large table)
BY_STANZA = {
    "sqlite": ("EXPLAIN QUERY PLAN SELECT id FROM tags WHERE stanza_id = 1",),
    "postgresql": ("SET enable_seqscan = off", "EXPLAIN SELECT id FROM tags WHERE stanza_id = 1"),
}


async def _stanza_index(database_url: str) -> tuple[str, str]:
    """The stanza index's definition, and the plan of a lookup by stanza."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            backend = connection.dialect.name
            definition = (await connection.execute(text(STANZA_INDEX[backend]))).scalar_one()
            *settings, explain = BY_STANZA[backend]
            for setting in settings:
                await connection.execute(text(setting))
            plan = " ".join(str(row[-1]) for row in await connection.execute(text(explain)))
    finally:
        await engine.dispose()
    return str(definition), plan


async def _schema(database_url: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The tables' shape, and on SQLite their stored ``CREATE TABLE`` text."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            shape = await connection.run_sync(_shape)
    finally:
        await engine.dispose()
    created: dict[str, str] = {}
    if database_url.startswith("sqlite"):
        for name, sql in await query(
            database_url, "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
        ):
            if name in KEYS:
                created[name] = sql
    return shape, created


async def _rows(database_url: str) -> dict[str, Any]:
    return {table: await query(database_url, sql) for table, sql in ROWS.items()}


async def _round_trip(database_url: str) -> None:
    shape, created = await _schema(database_url)
    for table, key in KEYS.items():
        columns, primary_key, uniques = shape[table]
        assert "id" not in columns and primary_key == key and uniques == [], table
        if database_url.startswith("sqlite"):
            assert created[table].rstrip().endswith("WITHOUT ROWID"), table
    definition, plan = await _stanza_index(database_url)
    assert "WHERE" in definition.upper() and "ix_tags_stanza_id" in plan
    rows, views = await _rows(database_url), await view_rows(database_url, list(CONTRACT_VIEWS))
    assert len(rows["hub_images"]) > 5 and len(rows["tag_history"]) > 5

    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, BEFORE)
    shape, created = await _schema(database_url)
    for table, key in KEYS.items():
        columns, primary_key, uniques = shape[table]
        assert "id" in columns and primary_key == ["id"] and uniques == [key], table
        if database_url.startswith("sqlite"):
            assert "WITHOUT ROWID" not in created[table], table
    assert "WHERE" not in (await _stanza_index(database_url))[0].upper()
    assert await _rows(database_url) == rows
    assert await view_rows(database_url, list(CONTRACT_VIEWS)) == views

    applied = await upgrade(database_url)
    assert applied.applied == (REVISION,)
    assert (await _schema(database_url))[0] == shape_at_head(shape)
    assert await _stanza_index(database_url) == (definition, plan)
    assert await _rows(database_url) == rows
    assert await view_rows(database_url, list(CONTRACT_VIEWS)) == views


def shape_at_head(before: dict[str, Any]) -> dict[str, Any]:
    """The shape of ``before`` (revision 0014) with each table keyed by its natural key."""
    return {
        table: ([name for name in columns if name != "id"], KEYS[table], [])
        for table, (columns, _key, _uniques) in before.items()
    }


def test_hub_indexes_are_leaner_and_the_migration_keeps_every_row(database_url: str) -> None:
    load_handmade_graph(database_url)
    for statement in EXTRA_ROWS:
        asyncio.run(execute(database_url, statement))
    asyncio.run(_round_trip(database_url))
