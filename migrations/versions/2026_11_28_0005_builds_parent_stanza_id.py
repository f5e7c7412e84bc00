"""builds.parent_stanza_id: the stanza each build's parent tag answers with, indexed

The descendant walk went from a stanza through every tag it lists to the builds
linked to each (tag, architecture): on the benchmark's million tags, 27.6k index
lookups for the recursive descendants of ``debian:bookworm-slim``, most of them
empty (aliases nothing is built on), plus a per-row check of which stanza a
SharedTag answers with. ``parent_stanza_id`` stores that answer per build (the
views' rule: the first, in file order, of the stanzas listing the parent tag that
are maintained or are the tag's own stanza, and build the architecture), kept up
to date by ``link_parents``; the walk joins (stanza, architecture) to the child
builds through the new index, one lookup per stanza and architecture reached. On
PostgreSQL the index also holds the child's ``stanza_id`` and ``parent_ref``, all
the walk reads of a build, so the lookups are index-only scans.

The upgrade fills the column for the builds already stored. On SQLite the table
is copied (batch mode), so the contract views are dropped and created again
around the copy.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: the stanza each linked build's parent tag answers with (as ``link_parents`` computes it:
#: by joins, which need no statistics to be planned well)
BACKFILL = """
UPDATE builds SET parent_stanza_id = answer.stanza_id
FROM (
    SELECT cb.id AS build_id, ps.id AS stanza_id,
           ROW_NUMBER() OVER (PARTITION BY cb.id ORDER BY ps.position, ps.id) AS rank
    FROM builds cb
    JOIN stanza_tags pst ON pst.tag_id = cb.parent_tag_id
    JOIN tags pt ON pt.id = pst.tag_id
    JOIN stanzas ps ON ps.id = pst.stanza_id
    JOIN builds pb ON pb.stanza_id = ps.id AND pb.architecture = cb.architecture
    WHERE ps.maintained OR ps.id = pt.stanza_id
) answer
WHERE builds.id = answer.build_id AND answer.rank = 1
"""


def _contract_views() -> dict[str, str]:
    """The SQLite view bodies of revision 0002 (its module name starts with a digit)."""
    path = Path(__file__).with_name("2026_11_28_0002_contract_views.py")
    spec = importlib.util.spec_from_file_location("_contract_views_0002", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    views: dict[str, str] = module.views("sqlite")
    return views


@contextmanager
def _views_set_aside() -> Iterator[None]:
    """On SQLite, a batch copies the table and renames the copy, which fails while views
    refer to it: drop the contract views around the batch, create them again after."""
    if op.get_bind().dialect.name != "sqlite":
        yield
        return
    views = _contract_views()
    for name in reversed(views):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    yield
    for name, body in views.items():
        op.execute(f"CREATE VIEW {name} AS {body}")


def upgrade() -> None:
    with _views_set_aside(), op.batch_alter_table("builds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_stanza_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_builds_parent_stanza_id_stanzas"),
            "stanzas",
            ["parent_stanza_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(
            batch_op.f("ix_builds_parent_stanza_id_architecture"),
            ["parent_stanza_id", "architecture"],
            unique=False,
            postgresql_include=["stanza_id", "parent_ref"],
        )
    op.execute(BACKFILL)


def downgrade() -> None:
    with _views_set_aside(), op.batch_alter_table("builds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_builds_parent_stanza_id_architecture"))
        batch_op.drop_constraint(
            batch_op.f("fk_builds_parent_stanza_id_stanzas"), type_="foreignkey"
        )
        batch_op.drop_column("parent_stanza_id")
