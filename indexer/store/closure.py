"""The lineage closure: for each build, the chain of builds above it (``build_chains``).

A build's chain is the build itself (step 0), the build its parent tag answers with
for its architecture (step 1: ``builds.parent_stanza_id`` and the same architecture),
that build's own parent build (step 2), and so on, up to a build without a linked
parent, at most ``MAX_DEPTH - 1`` steps, and never entering a build (so, along one
architecture, a stanza) already on the chain: the walk ``v_ancestors`` describes.
``v_ancestors`` reads it: the ancestor at depth ``steps + 1`` is the parent reference
of the build ``steps`` steps up, as that build's ``FROM`` names it.

:func:`refresh_build_chains` keeps the table equal to that walk. The sync calls it in
the transaction that relinks the parents (``link_parents``), right after the links:

1. the builds whose one-step link moved (its stored step-1 row differs from the
   build ``parent_stanza_id`` names now, or it has none where it should) or that are
   new (no step-0 row), and every build whose stored chain passes through one of
   them, lose their rows;
2. every build without a step-0 row then gets its chain walked again.

Only the chains at and below a changed link are rewritten; a call with nothing
changed writes no row. Both statements are set-based (one recursive walk for all
the builds that need one).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from indexer.store.driver_rows import rowcount
from indexer.store.queries.sql import MAX_DEPTH

__all__ = ["RefreshCounts", "refresh_build_chains"]

#: the builds whose chain must be walked again: new builds (no step-0 row), builds whose
#: step-1 row is not the build their parent answers with now (same architecture, the parent
#: stanza's build; a build answering for itself is a cycle of one and has no step 1), and
#: every build whose chain passes through one of those. A build that is gone took its own
#: rows with it (the foreign key cascades) and left the step-1 rows pointing at it stale.
_STALE_CHAINS = """
    DELETE FROM build_chains WHERE build_id IN (
        WITH moved (build_id) AS (
            SELECT b.id FROM builds b
            LEFT JOIN builds nb
                   ON nb.stanza_id = b.parent_stanza_id AND nb.architecture = b.architecture
                  AND nb.id <> b.id
            LEFT JOIN build_chains own ON own.build_id = b.id AND own.steps = 0
            LEFT JOIN build_chains one ON one.build_id = b.id AND one.steps = 1
            WHERE own.build_id IS NULL
               OR one.chain_build_id IS NULL AND nb.id IS NOT NULL
               OR one.chain_build_id IS NOT NULL AND nb.id IS NULL
               OR one.chain_build_id <> nb.id
        )
        SELECT build_id FROM moved
        UNION
        SELECT below.build_id FROM build_chains below
        JOIN moved ON moved.build_id = below.chain_build_id
        WHERE below.steps > 0
    )
"""

#: one step up from each row of the walk: the build its parent answers with, looked up by
#: (stanza, architecture) per row. PostgreSQL: a LATERAL subquery (OFFSET 0 keeps it one), so
#: the planner cannot hash every build when the walk is short; SQLite: CROSS JOIN fixes the
#: join order.
_NEXT_BUILD = {
    "postgresql": """CROSS JOIN LATERAL (
            SELECT x.id, x.parent_stanza_id, x.architecture FROM builds x
            WHERE x.stanza_id = w.parent_stanza_id AND x.architecture = w.architecture
            OFFSET 0) nb""",
    "sqlite": """CROSS JOIN builds nb
            ON nb.stanza_id = w.parent_stanza_id AND nb.architecture = w.architecture""",
}

#: walk the chain of every build that has none (its step-0 row is missing). The builds
#: without one are an EXCEPT, which reads both sides whole before it answers a row: as an
#: anti-join, PostgreSQL streamed it into the INSERT and, planning for an empty
#: build_chains (a first sync), probed the table by sequential scan once per build while
#: the INSERT filled it, quadratic in the builds.
_WALK_MISSING = """
    INSERT INTO build_chains (build_id, steps, chain_build_id)
    WITH RECURSIVE walk (build_id, steps, chain_build_id, parent_stanza_id, architecture, path)
    AS (
        SELECT b.id, 0, b.id, b.parent_stanza_id, b.architecture, ',' || b.id || ','
        FROM (
            SELECT id FROM builds
            EXCEPT
            SELECT build_id FROM build_chains WHERE steps = 0
        ) missing
        JOIN builds b ON b.id = missing.id
        UNION ALL
        SELECT w.build_id, w.steps + 1, nb.id, nb.parent_stanza_id, nb.architecture,
               w.path || nb.id || ','
        FROM walk w
        {next_build}
        WHERE w.steps < {last_step} AND {position}(w.path, ',' || nb.id || ',') = 0
    )
    SELECT build_id, steps, chain_build_id FROM walk
"""


@dataclass(frozen=True, slots=True)
class RefreshCounts:
    """Rows one refresh of a derived table (chains, parent references) deleted and inserted."""

    deleted: int
    inserted: int

    @property
    def written(self) -> int:
        return self.deleted + self.inserted


def _walk_missing_sql(dialect: str) -> str:
    """The INSERT that walks every build without a chain, for ``dialect``."""
    return _WALK_MISSING.format(
        next_build=_NEXT_BUILD.get(dialect, _NEXT_BUILD["sqlite"]),
        last_step=MAX_DEPTH - 1,
        position="strpos" if dialect == "postgresql" else "instr",
    )


async def refresh_build_chains(session: AsyncSession) -> RefreshCounts:
    """Bring ``build_chains`` up to date with ``builds.parent_stanza_id`` (see the module).

    Call it in the transaction that wrote the links, after them. Answers the rows
    deleted and inserted (both 0 when no link moved).
    """
    deleted = await session.execute(text(_STALE_CHAINS))
    inserted = await session.execute(text(_walk_missing_sql(session.get_bind().dialect.name)))
    return RefreshCounts(rowcount(deleted), rowcount(inserted))
