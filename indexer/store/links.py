"""Parent links: each build's parent tag, and the stanza that tag answers with.

The rule "which stanza a parent tag answers with for an architecture" is written here
once (`answering_stanzas`): the first, in file order, of the stanzas listing the tag
that are maintained or are the tag's own stanza (``tags.stanza_id``), and build the
architecture. It is the rule of the contract views' ancestor walk (migration 0002);
`link_parents` stores its answer on each build (``builds.parent_stanza_id``), which the
ancestor and descendant queries follow.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from indexer.store.closure import refresh_build_chains
from indexer.store.driver_rows import rowcount
from indexer.store.models import Build, ImageRepository, Stanza, StanzaTag, Tag
from indexer.store.parent_refs import refresh_parent_refs

__all__ = ["answering_stanzas", "link_parents"]

#: the parent tag's listings and the stanzas, tags and builds they join (`answering_stanzas`)
_LISTING = aliased(StanzaTag, name="parent_listing")
_PARENT_TAG = aliased(Tag, name="parent_tag")
_PARENT_STANZA = aliased(Stanza, name="parent_stanza")
_PARENT_BUILD = aliased(Build, name="parent_build")
#: the order in which a tag's stanzas answer for it
_FILE_ORDER = (_PARENT_STANZA.position, _PARENT_STANZA.id)


def answering_stanzas(stmt: Select[Any], architecture: Any) -> Select[Any]:
    """``stmt`` (which selects from the parent tag's listings, ``parent_listing``) narrowed
    to the stanzas that may answer for the listed tag and ``architecture``: maintained or
    the tag's own, and building it. The first of them in file order answers."""
    return (
        stmt.join(_PARENT_TAG, _PARENT_TAG.id == _LISTING.tag_id)
        .join(_PARENT_STANZA, _PARENT_STANZA.id == _LISTING.stanza_id)
        .join(
            _PARENT_BUILD,
            (_PARENT_BUILD.stanza_id == _PARENT_STANZA.id)
            & (_PARENT_BUILD.architecture == architecture),
        )
        .where(_PARENT_STANZA.maintained | (_PARENT_STANZA.id == _PARENT_TAG.stanza_id))
    )


async def link_parents(session: AsyncSession) -> int:
    """Point ``builds.parent_tag_id`` at the indexed tag each ``parent_ref`` names, and
    ``builds.parent_stanza_id`` at the stanza that tag answers with for the build's
    architecture (`answering_stanzas`).

    The answer depends on the parent repository's library file, so every build is
    considered: the sync calls it once, after the run's writes of library files, new
    tags or repositories marked not maintained, in the caller's transaction.

    The stanzas are set by joins, not by a subquery per build: without statistics (a
    fresh database) PostgreSQL plans such a subquery with sequential scans, once per
    build. Only builds whose link is missing or stale are written (a no-change call
    writes no row). Then, in the same transaction, the chains at and below every moved
    link are walked again (:func:`~indexer.store.closure.refresh_build_chains`, which
    ``v_ancestors`` reads) and the per-reference counts refreshed
    (:func:`~indexer.store.parent_refs.refresh_parent_refs`). Returns how many links changed (a build whose two links changed
    counts twice). On PostgreSQL the four tables' planner statistics are refreshed first
    (``ANALYZE`` samples a bounded number of rows): right after a first sync autovacuum
    has not analyzed them yet, and without statistics the stanza update joins the builds
    on architecture first.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("ANALYZE builds, tags, stanza_tags, stanzas"))
    target = (
        select(Tag.id)
        .join(ImageRepository, ImageRepository.id == Tag.repository_id)
        .where(
            ImageRepository.name == Build.parent_repository,
            Tag.name == Build.parent_tag,
        )
        .scalar_subquery()
    )
    stmt = (
        update(Build)
        .values(parent_tag_id=target)
        .where(Build.parent_tag_id.is_distinct_from(target))
    )
    changed = rowcount(await session.execute(stmt))

    child = aliased(Build)
    rank = func.row_number().over(partition_by=child.id, order_by=_FILE_ORDER)
    candidates = answering_stanzas(
        select(child.id.label("build_id"), _PARENT_STANZA.id.label("stanza_id"), rank.label("rank"))
        .select_from(child)
        .join(_LISTING, _LISTING.tag_id == child.parent_tag_id),
        child.architecture,
    )
    answer = candidates.subquery("answer")
    stmt = (
        update(Build)
        .values(parent_stanza_id=answer.c.stanza_id)
        .where(
            Build.id == answer.c.build_id,
            answer.c.rank == 1,
            Build.parent_stanza_id.is_distinct_from(answer.c.stanza_id),
        )
    )
    changed += rowcount(await session.execute(stmt))

    any_answer = answering_stanzas(
        select(_LISTING.tag_id).where(_LISTING.tag_id == Build.parent_tag_id), Build.architecture
    )
    stmt = (
        update(Build)
        .values(parent_stanza_id=None)
        .where(Build.parent_stanza_id.is_not(None), ~any_answer.exists())
    )
    changed += rowcount(await session.execute(stmt))
    # the same transaction keeps the stored walks of the links in step with them
    await refresh_build_chains(session)
    await refresh_parent_refs(session)
    return changed
