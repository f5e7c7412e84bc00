"""builds: index (parent_tag_id, architecture) instead of (parent_tag_id)

The descendant walk (``indexer children --recursive``, ``explain``, ``graph
--descendants``) joins each (parent tag, architecture) of the frontier to the
child builds. With an index on ``parent_tag_id`` alone PostgreSQL fetched every
architecture's build of each child and dropped the others in a join filter
(about 4 of every 5 rows fetched on the benchmark's million tags); the composite
index answers the join exactly and still serves the foreign key's lookups by
``parent_tag_id`` (its leading column), so the old index goes.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("builds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_builds_parent_tag_id_architecture"),
            ["parent_tag_id", "architecture"],
            unique=False,
        )
        batch_op.drop_index(batch_op.f("ix_builds_parent_tag_id"))


def downgrade() -> None:
    with op.batch_alter_table("builds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_builds_parent_tag_id"), ["parent_tag_id"], unique=False
        )
        batch_op.drop_index(batch_op.f("ix_builds_parent_tag_id_architecture"))
