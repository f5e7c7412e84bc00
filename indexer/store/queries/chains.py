"""Ancestor chains: what a build is built on, and what that is built on, up to a leaf.

One recursive query walks every requested build at once. A step goes from a
build (architecture A) through its linked parent tag (``builds.parent_tag_id``)
to the build for A of the stanza that tag answers with
(:func:`indexer.store.links.answering_stanzas`, the one place of that rule).
``link_parents`` stores that stanza on the build (``builds.parent_stanza_id``),
so a step is one lookup by (stanza, architecture). The walk ends at
``scratch``, at an external image, at an official image the index does not know
or that lacks A, at an unresolved parent, or, with a note, at a cycle (a stanza
met twice).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from indexer.store.queries.sql import MAX_DEPTH, position_function
from indexer.store.read import Reader

__all__ = [
    "CYCLE",
    "END",
    "TOO_DEEP",
    "UNRESOLVED",
    "Chain",
    "ChainLink",
    "ancestor_chains",
]


_LEVELS_SQL = """
WITH RECURSIVE levels (seed_id, level, build_id, stanza_id, architecture,
                       parent_ref, parent_stanza_id, error, path, cycle) AS (
    SELECT b.id, 0, b.id, b.stanza_id, b.architecture, b.parent_ref, b.parent_stanza_id,
           b.error, ',' || b.stanza_id || ',', 0
    FROM builds b
    WHERE b.id = ANY(:seed_ids)
    UNION ALL
    SELECT l.seed_id, l.level + 1, nb.id, nb.stanza_id, nb.architecture, nb.parent_ref,
           nb.parent_stanza_id, nb.error, l.path || nb.stanza_id || ',',
           CASE WHEN {position}(l.path, ',' || nb.stanza_id || ',') > 0 THEN 1 ELSE 0 END
    FROM levels l
    JOIN builds nb ON nb.stanza_id = l.parent_stanza_id AND nb.architecture = l.architecture
    WHERE l.cycle = 0 AND l.level < :max_depth
)
SELECT seed_id, level, stanza_id, architecture, parent_ref, error, cycle
FROM levels
ORDER BY seed_id, level
"""


class _Level(NamedTuple):
    seed_id: int
    level: int
    stanza_id: int
    architecture: str
    parent_ref: str | None
    error: str | None
    cycle: int


@dataclass(frozen=True, slots=True)
class ChainLink:
    """One ancestor: the reference as the child's Dockerfile names it (normalised)."""

    ref: str
    #: the indexed stanza this ancestor answers with for the chain's architecture; None for a leaf
    stanza_id: int | None = None


#: why a chain ends: at a leaf, at an unresolved parent, at a cycle, at the depth limit
END, UNRESOLVED, CYCLE, TOO_DEEP = "end", "unresolved", "cycle", "too-deep"


@dataclass(frozen=True, slots=True)
class Chain:
    """The ancestors of one build, nearest first, and why the walk stopped early (if it did)."""

    architecture: str
    links: tuple[ChainLink, ...] = field(default=())
    note: str | None = None
    #: END, UNRESOLVED (the last link's own parent is unknown), CYCLE or TOO_DEEP
    stop: str = END

    @property
    def refs(self) -> list[str]:
        return [link.ref for link in self.links]


def _chain_from_levels(levels: Sequence[_Level]) -> Chain:
    links: list[ChainLink] = []
    note: str | None = None
    stop = END
    for index, level in enumerate(levels):
        if level.cycle:
            note = f"cycle: {links[-1].ref} is its own ancestor; walk stopped"
            stop = CYCLE
            break
        if level.parent_ref is None:
            if links:
                reason = f": {level.error}" if level.error else ""
                note = f"parent of {links[-1].ref} ({level.architecture}) is unresolved{reason}"
            stop = UNRESOLVED
            break
        following = levels[index + 1] if index + 1 < len(levels) else None
        links.append(ChainLink(level.parent_ref, following.stanza_id if following else None))
    else:
        if len(levels) > MAX_DEPTH:
            note = f"chain longer than {MAX_DEPTH}; walk stopped"
            stop = TOO_DEEP
    return Chain(levels[0].architecture, tuple(links), note, stop)


async def ancestor_chains(reader: Reader, build_ids: Sequence[int]) -> dict[int, Chain]:
    """The chain above each build of ``build_ids`` (one query for all of them)."""
    if not build_ids:
        return {}
    rows = await reader.rows(
        _LEVELS_SQL.format(position=position_function(reader.dialect)),
        {"seed_ids": sorted(set(build_ids)), "max_depth": MAX_DEPTH},
    )
    grouped: dict[int, list[_Level]] = {}
    for row in rows:
        level = _Level(*row)
        grouped.setdefault(level.seed_id, []).append(level)
    return {seed: _chain_from_levels(levels) for seed, levels in grouped.items()}
