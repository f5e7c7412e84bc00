"""Indexes a first load builds once, after its rows, instead of row by row.

A tag's digest is a random key. While a first load writes hundreds of thousands of Hub
tags, every transaction scatters its tags' digests over the whole ``tags.digest``
index, and each commit writes most of that index's pages again. Building the index once
the tags are in sorts the keys once. So a run that starts on an empty store drops the
*deferred* indexes (`begin_load`) and creates them again when its stages are done
(`end_load`), before the registry's layer check, which joins indexes to tags by digest.

Only a first load does so: a nightly run adds a handful of tags, and the people
querying a populated store need the index all along. A first load killed in between
leaves the index missing; the next run finds tags stored and creates it (`begin_load`).
While it is missing the only reader by tag digest during a run is the registry's rare
single-manifest lookup, which then scans ``tags``.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Index, Table, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from indexer.store.models import Tag

__all__ = ["DEFERRED_INDEXES", "begin_load", "end_load"]

#: built after a first load's rows: the indexes on random keys
DEFERRED_INDEXES: tuple[Index, ...] = tuple(
    index
    for index in cast(Table, Tag.__table__).indexes
    if [column.name for column in index.columns] == ["digest"]
)


def _drop(session: Session) -> None:
    for index in DEFERRED_INDEXES:
        index.drop(session.connection(), checkfirst=True)


def _create(session: Session) -> None:
    for index in DEFERRED_INDEXES:
        index.create(session.connection(), checkfirst=True)


async def begin_load(session: AsyncSession) -> bool:
    """At the start of a run: on a store without tags drop the deferred indexes and answer
    ``True`` (a first load); otherwise create those that are missing and answer ``False``."""
    first_load = not await session.scalar(select(exists().select_from(Tag)))
    await session.run_sync(_drop if first_load else _create)
    return first_load


async def end_load(session: AsyncSession) -> None:
    """After a first load's rows: create the deferred indexes."""
    await session.run_sync(_create)
