"""The parent references the builds name, with how many images build on each (``parent_refs``).

One row per distinct ``builds.parent_ref`` (of any stored build), with the number of
repositories and of images (stanzas) that are maintained and name it directly.
``v_parent_refs`` reads it, so whole-index questions about parents ("the most used
direct parents", "official parents the index does not know", "bases that have left
the library") read a few thousand rows instead of one row per alias tag and
architecture.

:func:`refresh_parent_refs` keeps the table equal to that aggregate. The sync calls it
in the transaction that relinks the parents (``link_parents``), after the chains: the
builds and the stanzas' ``maintained`` flags it counts are written before that call.
It aggregates the builds once per statement and writes only the rows that differ: a
call with nothing changed writes no row.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from indexer.store.closure import RefreshCounts
from indexer.store.driver_rows import rowcount

__all__ = ["refresh_parent_refs"]

#: the table's rows as the builds make them now (parent_repository and parent_tag are
#: functions of parent_ref, so MIN picks the one value)
_FRESH = """
    SELECT b.parent_ref AS parent_ref,
           MIN(b.parent_repository) AS parent_repository,
           MIN(b.parent_tag) AS parent_tag,
           COUNT(DISTINCT CASE WHEN s.maintained THEN s.repository_id END) AS repositories,
           COUNT(DISTINCT CASE WHEN s.maintained THEN s.id END) AS images
    FROM builds b
    JOIN stanzas s ON s.id = b.stanza_id
    WHERE b.parent_ref IS NOT NULL
    GROUP BY b.parent_ref
"""

#: rows no build names any more, or whose counts moved
_DELETE_STALE = f"""
    DELETE FROM parent_refs
    WHERE (parent_ref, repositories, images) NOT IN (
        SELECT fresh.parent_ref, fresh.repositories, fresh.images FROM ({_FRESH}) fresh
    )
"""

#: rows missing (new references, and those the delete above removed for new counts)
_INSERT_MISSING = f"""
    INSERT INTO parent_refs (parent_ref, parent_repository, parent_tag, repositories, images)
    SELECT fresh.parent_ref, fresh.parent_repository, fresh.parent_tag,
           fresh.repositories, fresh.images
    FROM ({_FRESH}) fresh
    WHERE NOT EXISTS (SELECT 1 FROM parent_refs p WHERE p.parent_ref = fresh.parent_ref)
"""


async def refresh_parent_refs(session: AsyncSession) -> RefreshCounts:
    """Bring ``parent_refs`` up to date with the builds and stanzas (see the module).

    Call it in the transaction that wrote the links and chains, after them.
    """
    deleted = await session.execute(text(_DELETE_STALE))
    inserted = await session.execute(text(_INSERT_MISSING))
    return RefreshCounts(rowcount(deleted), rowcount(inserted))
