"""build_chains (each build's chain of parent builds) behind v_ancestors; unresolved builds indexed

``v_ancestors`` walked every chain when asked (a recursive query per tag and
architecture on PostgreSQL, every maintained build at once on SQLite), so a question
about all images ("bases that have left the library") walked a million tags' chains.
``build_chains`` stores each build's walk (step 0 the build itself, step n the build
n parents up, by ``builds.parent_stanza_id``, stopped where the old walk stopped: no
linked parent, 31 steps, or a build already on the chain); the sync keeps it with the
links (:mod:`indexer.store.closure`). ``v_ancestors`` keeps its columns, rows and
meaning: the ancestor at depth n + 1 is the parent reference of the build n steps up.

A partial index on the builds whose parent is unresolved lets "images without a
resolved parent" read those few builds instead of joining every tag of every image.

The upgrade fills the table for the builds already stored.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: the longest ancestor chain (the depth limit of revision 0002's walk)
MAX_DEPTH = 32

#: every build's chain (as :func:`indexer.store.closure.refresh_build_chains` walks one)
FILL = """
    INSERT INTO build_chains (build_id, steps, chain_build_id)
    WITH RECURSIVE walk (build_id, steps, chain_build_id, path) AS (
        SELECT b.id, 0, b.id, ',' || b.id || ','
        FROM builds b
        UNION ALL
        SELECT w.build_id, w.steps + 1, nb.id, w.path || nb.id || ','
        FROM walk w
        JOIN builds b ON b.id = w.chain_build_id
        JOIN builds nb ON nb.stanza_id = b.parent_stanza_id AND nb.architecture = b.architecture
        WHERE w.steps < {last_step} AND {position}(w.path, ',' || nb.id || ',') = 0
    )
    SELECT build_id, steps, chain_build_id FROM walk
"""

V_ANCESTORS = """
    SELECT r.name AS repository, t.name AS tag, b.architecture AS architecture,
           c.steps + 1 AS depth, a.parent_repository AS ancestor_repository,
           a.parent_tag AS ancestor_tag
    FROM tags t
    JOIN image_repositories r ON r.id = t.repository_id
    JOIN stanza_tags st ON st.tag_id = t.id
    JOIN stanzas s ON s.id = st.stanza_id
    JOIN builds b ON b.stanza_id = s.id
    JOIN build_chains c ON c.build_id = b.id
    JOIN builds a ON a.id = c.chain_build_id
    WHERE s.maintained AND a.parent_repository IS NOT NULL
"""


def _walking_v_ancestors(dialect: str) -> str:
    """Revision 0002's v_ancestors (its module name starts with a digit)."""
    path = Path(__file__).with_name("2026_11_28_0002_contract_views.py")
    spec = importlib.util.spec_from_file_location("_contract_views_0002", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    body: str = module.views(dialect)["v_ancestors"]
    return body


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "build_chains",
        sa.Column("build_id", sa.Integer(), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("chain_build_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["build_id"],
            ["builds.id"],
            name=op.f("fk_build_chains_build_id_builds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("build_id", "steps", name=op.f("pk_build_chains")),
    )
    op.create_index(
        op.f("ix_build_chains_chain_build_id_steps_build_id"),
        "build_chains",
        ["chain_build_id", "steps", "build_id"],
        unique=False,
    )
    op.create_index(
        "ix_builds_unresolved",
        "builds",
        ["stanza_id"],
        unique=False,
        postgresql_where=sa.text("parent_ref IS NULL"),
        sqlite_where=sa.text("parent_ref IS NULL"),
    )
    position = "strpos" if dialect == "postgresql" else "instr"
    op.execute(FILL.format(last_step=MAX_DEPTH - 1, position=position))
    op.execute("DROP VIEW v_ancestors")
    op.execute(f"CREATE VIEW v_ancestors AS {V_ANCESTORS}")
    if dialect == "postgresql":
        op.execute("ANALYZE build_chains")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute("DROP VIEW v_ancestors")
    op.execute(f"CREATE VIEW v_ancestors AS {_walking_v_ancestors(dialect)}")
    op.drop_index("ix_builds_unresolved", table_name="builds")
    op.drop_index(op.f("ix_build_chains_chain_build_id_steps_build_id"), table_name="build_chains")
    op.drop_table("build_chains")
