"""Views with one row per image instead of per alias tag; parent_refs counts each parent's images

``v_parents`` and ``v_ancestors`` have a row per alias tag (four or five per image),
so a question about the whole index read every alias of every image: "bases that
have left the library", "the most used direct parents", "official parents the index
does not know" read a million rows at a million tags. New views (the old ones keep
their names, columns and meaning):

- ``v_image_parents``: one row per maintained image (stanza) and architecture, named
  by its canonical tag, with its parent (``v_parents`` without the aliases);
- ``v_image_ancestors``: the same for ``v_ancestors`` (from ``build_chains``);
- ``v_parent_refs``: one row per parent reference a stored build names, with the
  maintained repositories and images naming it directly, from the table
  ``parent_refs`` the sync keeps with the links (:mod:`indexer.store.parent_refs`).

The upgrade fills ``parent_refs`` for the builds already stored.

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: every parent reference with its maintained repositories and images (as
#: :func:`indexer.store.parent_refs.refresh_parent_refs` counts them)
FILL = """
    INSERT INTO parent_refs (parent_ref, parent_repository, parent_tag, repositories, images)
    SELECT b.parent_ref, MIN(b.parent_repository), MIN(b.parent_tag),
           COUNT(DISTINCT CASE WHEN s.maintained THEN s.repository_id END),
           COUNT(DISTINCT CASE WHEN s.maintained THEN s.id END)
    FROM builds b
    JOIN stanzas s ON s.id = b.stanza_id
    WHERE b.parent_ref IS NOT NULL
    GROUP BY b.parent_ref
"""

V_IMAGE_PARENTS = """
    SELECT r.name AS repository, s.canonical_tag AS canonical_tag,
           b.architecture AS architecture, b.parent_ref AS parent_ref,
           b.parent_repository AS parent_repository, b.parent_tag AS parent_tag
    FROM builds b
    JOIN stanzas s ON s.id = b.stanza_id
    JOIN image_repositories r ON r.id = s.repository_id
    WHERE s.maintained
"""

V_IMAGE_ANCESTORS = """
    SELECT r.name AS repository, s.canonical_tag AS canonical_tag,
           b.architecture AS architecture, c.steps + 1 AS depth,
           a.parent_repository AS ancestor_repository, a.parent_tag AS ancestor_tag
    FROM builds b
    JOIN stanzas s ON s.id = b.stanza_id
    JOIN image_repositories r ON r.id = s.repository_id
    JOIN build_chains c ON c.build_id = b.id
    JOIN builds a ON a.id = c.chain_build_id
    WHERE s.maintained AND a.parent_repository IS NOT NULL
"""

V_PARENT_REFS = """
    SELECT parent_ref, parent_repository, parent_tag, repositories, images
    FROM parent_refs
"""

VIEWS = {
    "v_image_parents": V_IMAGE_PARENTS,
    "v_image_ancestors": V_IMAGE_ANCESTORS,
    "v_parent_refs": V_PARENT_REFS,
}


def upgrade() -> None:
    op.create_table(
        "parent_refs",
        sa.Column("parent_ref", sa.Text(), nullable=False),
        sa.Column("parent_repository", sa.String(length=255), nullable=True),
        sa.Column("parent_tag", sa.String(length=128), nullable=True),
        sa.Column("repositories", sa.Integer(), nullable=False),
        sa.Column("images", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("parent_ref", name=op.f("pk_parent_refs")),
    )
    op.execute(FILL)
    for name, body in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {body}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE parent_refs")


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW {name}")
    op.drop_table("parent_refs")
