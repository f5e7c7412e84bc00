"""Indexes and constraints a first load builds once, after its rows, instead of row by row.

A tag's digest is a random key. While a first load writes hundreds of thousands of Hub
tags, every transaction scatters its tags' digests over the whole ``tags.digest``
index, and each commit writes most of that index's pages again. Building the index once
the tags are in sorts the keys once. On PostgreSQL each row inserted under a foreign
key fires a trigger that looks its parent up, a query per row: the Hub's rows' keys
(tags to repositories, platform images and history to tags) are checked by one join
each when the constraint is added back instead.

So a run that starts on an empty store drops the *deferred* indexes and foreign keys
(`begin_load`) and creates them again when its stages are done (`end_load`), before the
registry's layer check, which joins indexes to tags by digest. Only a first load does
so: a nightly run adds a handful of tags, and the people querying a populated store need
the index all along. A first load killed in between leaves them missing; the next run
finds tags stored and creates them (`begin_load`). While the index is missing the only
reader by tag digest during a run is the registry's rare single-manifest lookup, which
then scans ``tags``.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import ForeignKeyConstraint, Index, Table, exists, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.schema import AddConstraint, DropConstraint

from indexer.store.models import HubImage, Tag, TagHistory

__all__ = ["DEFERRED_FOREIGN_KEYS", "DEFERRED_INDEXES", "begin_load", "end_load"]

#: built after a first load's rows: the indexes on random keys
DEFERRED_INDEXES: tuple[Index, ...] = tuple(
    index
    for index in cast(Table, Tag.__table__).indexes
    if [column.name for column in index.columns] == ["digest"]
)

#: (table, column) of the Hub rows' foreign keys
_HUB_KEYS = {("tags", "repository_id"), ("hub_images", "tag_id"), ("tag_history", "tag_id")}
#: added after a first load's rows, on PostgreSQL (SQLite cannot drop a constraint)
DEFERRED_FOREIGN_KEYS: tuple[ForeignKeyConstraint, ...] = tuple(
    key
    for model in (Tag, HubImage, TagHistory)
    for key in sorted(
        cast(Table, model.__table__).foreign_key_constraints, key=lambda key: str(key.name)
    )
    if (key.table.name, key.column_keys[0]) in _HUB_KEYS
)


def _present_keys(session: Session) -> set[str]:
    inspector = inspect(session.connection())
    tables = sorted({key.table.name for key in DEFERRED_FOREIGN_KEYS})
    return {str(key["name"]) for table in tables for key in inspector.get_foreign_keys(table)}


def _put(session: Session, *, present: bool) -> None:
    """Make the deferred indexes (and on PostgreSQL keys) ``present``, or absent; those
    already so are left alone."""
    connection = session.connection()
    for index in DEFERRED_INDEXES:
        (index.create if present else index.drop)(connection, checkfirst=True)
    if connection.dialect.name == "postgresql":
        stored = _present_keys(session)
        for key in DEFERRED_FOREIGN_KEYS:
            if (key.name in stored) != present:
                connection.execute(AddConstraint(key) if present else DropConstraint(key))


async def begin_load(session: AsyncSession) -> bool:
    """At the start of a run: on a store without tags drop the deferred indexes and keys
    and answer ``True`` (a first load); otherwise create those missing, answer ``False``."""
    first_load = not await session.scalar(select(exists().select_from(Tag)))
    await session.run_sync(_put, present=not first_load)
    return first_load


async def end_load(session: AsyncSession) -> None:
    """After a first load's rows: create the deferred indexes and keys."""
    await session.run_sync(_put, present=True)
