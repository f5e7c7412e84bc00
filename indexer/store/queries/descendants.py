"""Descendants: the maintained stanzas built on a tag, directly or transitively, per architecture.

One recursive query walks down from the stanzas a REF answers with. A step goes
from a stanza S (architecture A) to the maintained builds for A whose parent tag
answers with S for A (``builds.parent_stanza_id``): any tag S lists, but for a
SharedTag listed by several stanzas (``python:3.12`` on Linux and on two Windows
versions) only the first stanza in file order that builds A, the rule the ancestor
walk follows. A build has one parent stanza per architecture, so from distinct
anchor rows the walk meets each (stanza, architecture, depth) once (UNION ALL: no
duplicate check needed), and a cycle in bad data ends at the depth limit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from indexer.store.queries.sql import MAX_DEPTH
from indexer.store.read import Reader

__all__ = [
    "DescendantBuild",
    "DescendantCounts",
    "DescendantStanza",
    "descendant_builds",
    "descendant_counts",
    "descendant_stanzas",
    "walk_sql",
]

#: a row of the walk: a build below the root and the stanza it is built on. The child builds
#: of a stanza S for architecture A are those whose parent tag answers with S for A
#: (``builds.parent_stanza_id``, kept by ``link_parents``): one index lookup per stanza
#: and architecture reached, instead of one per tag S lists
_STEP_SQL = """
    SELECT b.stanza_id, b.architecture, d.depth + 1, b.parent_ref, d.stanza_id
    FROM down d
    {child_builds}
    JOIN stanzas cs ON cs.id = b.stanza_id
    WHERE d.depth < :max_depth AND cs.maintained
"""

#: the child builds of each (stanza, architecture) of the walk. PostgreSQL: a LATERAL
#: subquery (OFFSET 0 keeps it one), so that both columns are the index condition whatever
#: the planner guesses of the work table's size. SQLite: CROSS JOIN fixes the join order,
#: which its planner otherwise gets wrong for the work table (it scans the builds of an
#: architecture).
CHILD_BUILDS = {
    "postgresql": """CROSS JOIN LATERAL (
        SELECT cb.stanza_id, cb.architecture, cb.parent_ref FROM builds cb
        WHERE cb.parent_stanza_id = d.stanza_id AND cb.architecture = d.architecture
        OFFSET 0) b""",
    "sqlite": """CROSS JOIN builds b
        ON b.parent_stanza_id = d.stanza_id AND b.architecture = d.architecture""",
}

_FROM_STANZAS = """
    SELECT b.stanza_id, b.architecture, 0, b.parent_ref, CAST(NULL AS INTEGER)
    FROM builds b
    WHERE b.stanza_id = ANY(:roots)
"""

#: a tag with no stanza (known from the Hub only): its children link to the tag itself
_FROM_TAG = """
    SELECT b.stanza_id, b.architecture, 1, b.parent_ref, CAST(NULL AS INTEGER)
    FROM builds b
    JOIN stanzas cs ON cs.id = b.stanza_id
    WHERE b.parent_tag_id = :tag_id AND cs.maintained
"""

_WALK_SQL = """
WITH RECURSIVE down (stanza_id, architecture, depth, parent_ref, parent_stanza_id) AS (
    {anchor}
    UNION ALL
    {step}
)
"""


class DescendantBuild(NamedTuple):
    """One build on the lineage below the root: its stanza is built on ``parent_stanza_id``."""

    stanza_id: int
    architecture: str
    depth: int
    parent_ref: str | None
    #: None for the direct children of a tag that has no stanza
    parent_stanza_id: int | None


class DescendantStanza(NamedTuple):
    """A stanza below the root, with everything ``indexer children`` lists about it.

    A named tuple: thousands are made per query, and a tuple is the cheapest to make.
    """

    stanza_id: int
    repository: str
    canonical_tag: str
    tags: tuple[str, ...]
    position: int
    #: the shortest distance from the root (1: built directly on it)
    depth: int
    #: architectures built on the root's lineage
    architectures: tuple[str, ...]
    #: parent references of those builds
    parent_refs: tuple[str, ...]


#: ``string_agg``/``group_concat``, comma-separated (duplicates are dropped in Python: a
#: DISTINCT aggregate would make PostgreSQL sort instead of hash)
_AGGREGATE = {
    "postgresql": "string_agg({column}, ',')",
    "sqlite": "group_concat({column}, ',')",
}


@dataclass(frozen=True, slots=True)
class DescendantCounts:
    """How many maintained stanzas build on a root: directly, and in all."""

    direct: int
    total: int


def walk_sql(dialect: str, *, from_tag: bool = False) -> str:
    """The ``WITH RECURSIVE down …`` clause for ``dialect`` (from root stanzas, or from a tag)."""
    step = _STEP_SQL.format(child_builds=CHILD_BUILDS.get(dialect, CHILD_BUILDS["sqlite"]))
    return _WALK_SQL.format(anchor=_FROM_TAG if from_tag else _FROM_STANZAS, step=step)


def _walk(
    reader: Reader, roots: Sequence[int], tag_id: int | None, depth: int
) -> tuple[str, dict[str, object]]:
    params: dict[str, object] = {"max_depth": depth}
    if roots:
        params["roots"] = sorted(set(roots))
    else:
        params["tag_id"] = tag_id
    return walk_sql(reader.dialect, from_tag=not roots), params


async def descendant_builds(
    reader: Reader,
    roots: Sequence[int],
    *,
    tag_id: int | None = None,
    recursive: bool = True,
) -> list[DescendantBuild]:
    """Builds below the stanzas ``roots`` (or below the stanza-less tag ``tag_id``)."""
    if not roots and tag_id is None:
        return []
    walk, params = _walk(reader, roots, tag_id, MAX_DEPTH if recursive else 1)
    sql = (
        walk + "SELECT stanza_id, architecture, depth, parent_ref, parent_stanza_id FROM down "
        "WHERE depth > 0 ORDER BY depth, stanza_id, architecture"
    )
    rows = await reader.rows(sql, params)
    return [DescendantBuild(*row) for row in rows]


class _Distinct(dict[str | None, tuple[str, ...]]):
    """The distinct values of an aggregated ``a,b,a`` string, in order; remembered, since
    the same few strings (architectures, parents) come back on most rows."""

    def __missing__(self, joined: str | None) -> tuple[str, ...]:
        values = tuple(dict.fromkeys(joined.split(","))) if joined else ()
        self[joined] = values
        return values

    def __call__(self, joined: str | None) -> tuple[str, ...]:
        return self[joined]


async def descendant_stanzas(
    reader: Reader,
    roots: Sequence[int],
    *,
    tag_id: int | None = None,
    recursive: bool = True,
) -> list[DescendantStanza]:
    """Stanzas below the roots, one row each, aggregated in SQL (roots left out)."""
    if not roots and tag_id is None:
        return []
    walk, params = _walk(reader, roots, tag_id, MAX_DEPTH if recursive else 1)
    aggregate = _AGGREGATE.get(reader.dialect, _AGGREGATE["sqlite"])
    sql = (
        walk
        + f"""
        SELECT g.stanza_id, r.name, s.canonical_tag, CAST(s.tags AS TEXT), s.position, g.depth,
               g.arches, g.parents
        FROM (
            SELECT stanza_id, MIN(depth) AS depth,
                   {aggregate.format(column="architecture")} AS arches,
                   {aggregate.format(column="parent_ref")} AS parents
            FROM down WHERE depth > 0 GROUP BY stanza_id
        ) g
        JOIN stanzas s ON s.id = g.stanza_id
        JOIN image_repositories r ON r.id = s.repository_id
        {"WHERE g.stanza_id <> ALL(:roots)" if roots else ""}
    """
    )
    rows = await reader.rows(sql, params)
    # every row's tags in one JSON document: one decode instead of thousands
    tag_lists = json.loads("[" + ",".join(row[3] for row in rows) + "]")
    distinct = _Distinct()
    return [
        DescendantStanza(
            stanza_id,
            repository,
            canonical_tag,
            tuple(tags),
            position,
            depth,
            distinct(arches),
            distinct(parents),
        )
        for (
            stanza_id,
            repository,
            canonical_tag,
            _,
            position,
            depth,
            arches,
            parents,
        ), tags in zip(rows, tag_lists, strict=True)
    ]


async def descendant_counts(
    reader: Reader, roots: Sequence[int], *, tag_id: int | None = None
) -> DescendantCounts:
    """How many maintained stanzas are built on the roots, directly and transitively."""
    if not roots and tag_id is None:
        return DescendantCounts(0, 0)
    walk, params = _walk(reader, roots, tag_id, MAX_DEPTH)
    sql = walk + (
        "SELECT COUNT(DISTINCT CASE WHEN depth = 1 THEN stanza_id END), COUNT(DISTINCT stanza_id) "
        "FROM down WHERE depth > 0"
    )
    if roots:
        sql += " AND stanza_id <> ALL(:roots)"
    (row,) = await reader.rows(sql, params)
    return DescendantCounts(int(row[0] or 0), int(row[1] or 0))
