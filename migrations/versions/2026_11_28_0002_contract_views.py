"""The SQL views of CONTRACT §4: v_tags, v_parents, v_ancestors, v_tag_images,
v_tag_history, v_sync_runs. Same names, columns and meaning on SQLite and PostgreSQL.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: the longest ancestor chain walked; a cycle in bad data ends here instead of looping
MAX_DEPTH = 32

VIEWS: dict[str, str] = {
    "v_tags": """
        SELECT r.name AS repository, t.name AS tag, s.canonical_tag AS canonical_tag,
               t.maintained AS maintained, t.digest AS digest, t.last_updated AS last_updated
        FROM tags t
        JOIN image_repositories r ON r.id = t.repository_id
        LEFT JOIN stanzas s ON s.id = t.stanza_id
    """,
    "v_parents": """
        SELECT r.name AS repository, t.name AS tag, b.architecture AS architecture,
               b.parent_ref AS parent_ref, b.parent_repository AS parent_repository,
               b.parent_tag AS parent_tag
        FROM tags t
        JOIN image_repositories r ON r.id = t.repository_id
        JOIN stanza_tags st ON st.tag_id = t.id
        JOIN stanzas s ON s.id = st.stanza_id
        JOIN builds b ON b.stanza_id = s.id
        WHERE s.maintained
    """,
    "v_ancestors": f"""
        WITH RECURSIVE chain (repository, tag, architecture, depth,
                              ancestor_repository, ancestor_tag) AS (
            SELECT p.repository, p.tag, p.architecture, 1, p.parent_repository, p.parent_tag
            FROM v_parents p
            WHERE p.parent_repository IS NOT NULL
            UNION ALL
            SELECT c.repository, c.tag, c.architecture, c.depth + 1,
                   p.parent_repository, p.parent_tag
            FROM chain c
            JOIN v_parents p
              ON p.repository = c.ancestor_repository
             AND p.tag = c.ancestor_tag
             AND p.architecture = c.architecture
            WHERE c.depth < {MAX_DEPTH} AND p.parent_repository IS NOT NULL
        )
        SELECT repository, tag, architecture, depth, ancestor_repository, ancestor_tag
        FROM chain
    """,
    "v_tag_images": """
        SELECT r.name AS repository, t.name AS tag, i.os AS os,
               i.architecture AS architecture, i.variant AS variant,
               i.bashbrew_arch AS bashbrew_arch, i.digest AS digest, i.size AS size,
               i.last_pushed AS last_pushed
        FROM hub_images i
        JOIN tags t ON t.id = i.tag_id
        JOIN image_repositories r ON r.id = t.repository_id
    """,
    "v_tag_history": """
        SELECT r.name AS repository, t.name AS tag, h.digest AS digest,
               h.first_seen AS first_seen, h.last_seen AS last_seen
        FROM tag_history h
        JOIN tags t ON t.id = h.tag_id
        JOIN image_repositories r ON r.id = t.repository_id
    """,
    "v_sync_runs": """
        SELECT id, started_at, finished_at, status, library_files_fetched,
               dockerfiles_fetched, tags_added, tags_changed, tags_removed, errors
        FROM sync_runs
    """,
}


def upgrade() -> None:
    for name, body in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {body}")


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
