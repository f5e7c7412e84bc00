"""The SQL views of CONTRACT §4: v_tags, v_parents, v_ancestors, v_tag_images,
v_tag_history, v_sync_runs. Same names, columns and meaning on SQLite and PostgreSQL.

v_ancestors walks the same way the store's ancestor queries do: from a build
(architecture A) through its linked parent tag (``builds.parent_tag_id``) to the
build for A of the first stanza, in file order, that lists the tag and is
maintained (or is the tag's own stanza) and builds A. The walk stops at a leaf
(scratch, an external image, an image the index lacks), at an unresolved parent,
or when it would enter a stanza it has already passed (a cycle in bad data). On
PostgreSQL the walk is a LATERAL subquery per (tag, architecture) row, so a
predicate on repository and tag reaches the indexes and only that tag is walked;
SQLite has no LATERAL and walks every maintained build once, then fans out to the
tags (aliases) of each build's stanza.

v_tag_history: the store writes an interval when a tag's digest changes and
nothing for an unchanged tag (a no-change sync writes no rows), so the stored
``last_seen`` of a tag's newest interval is stale. The view reports, for that open
interval of a tag still on the Hub, the later of the stored value and the start
of the latest finished sync run with status ok or partial that covered the
repository (``only`` NULL, JSON null, or naming it): that run saw the tag and
found the digest unchanged.

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

#: the longest ancestor chain walked; a cycle in bad data ends earlier
MAX_DEPTH = 32

V_TAGS = """
    SELECT r.name AS repository, t.name AS tag, s.canonical_tag AS canonical_tag,
           t.maintained AS maintained, t.digest AS digest, t.last_updated AS last_updated
    FROM tags t
    JOIN image_repositories r ON r.id = t.repository_id
    LEFT JOIN stanzas s ON s.id = t.stanza_id
"""

V_PARENTS = """
    SELECT r.name AS repository, t.name AS tag, b.architecture AS architecture,
           b.parent_ref AS parent_ref, b.parent_repository AS parent_repository,
           b.parent_tag AS parent_tag
    FROM tags t
    JOIN image_repositories r ON r.id = t.repository_id
    JOIN stanza_tags st ON st.tag_id = t.id
    JOIN stanzas s ON s.id = st.stanza_id
    JOIN builds b ON b.stanza_id = s.id
    WHERE s.maintained
"""


def _next_build(parent_tag_id: str, architecture: str) -> str:
    """The build the parent tag answers with for the architecture (a scalar subquery)."""
    return f"""(
        SELECT x.id FROM stanza_tags nst
        JOIN tags nt ON nt.id = nst.tag_id
        JOIN stanzas ns ON ns.id = nst.stanza_id
        JOIN builds x ON x.stanza_id = ns.id AND x.architecture = {architecture}
        WHERE nst.tag_id = {parent_tag_id} AND (ns.maintained OR ns.id = nt.stanza_id)
        ORDER BY ns.position, ns.id
        LIMIT 1
    )"""


V_ANCESTORS_POSTGRESQL = f"""
    SELECT r.name AS repository, t.name AS tag, b.architecture AS architecture,
           a.depth AS depth, a.ancestor_repository AS ancestor_repository,
           a.ancestor_tag AS ancestor_tag
    FROM tags t
    JOIN image_repositories r ON r.id = t.repository_id
    JOIN stanza_tags st ON st.tag_id = t.id
    JOIN stanzas s ON s.id = st.stanza_id
    JOIN builds b ON b.stanza_id = s.id
    CROSS JOIN LATERAL (
        WITH RECURSIVE chain (depth, ancestor_repository, ancestor_tag, parent_tag_id, path) AS (
            SELECT 1, b.parent_repository, b.parent_tag, b.parent_tag_id,
                   ',' || b.stanza_id || ','
            WHERE b.parent_repository IS NOT NULL
            UNION ALL
            SELECT c.depth + 1, nb.parent_repository, nb.parent_tag, nb.parent_tag_id,
                   c.path || nb.stanza_id || ','
            FROM chain c
            JOIN builds nb ON nb.id = {_next_build("c.parent_tag_id", "b.architecture")}
            WHERE c.depth < {MAX_DEPTH}
              AND nb.parent_repository IS NOT NULL
              AND strpos(c.path, ',' || nb.stanza_id || ',') = 0
        )
        SELECT depth, ancestor_repository, ancestor_tag FROM chain
    ) a
    WHERE s.maintained
"""

V_ANCESTORS_SQLITE = f"""
    WITH RECURSIVE chain (build_id, architecture, depth, ancestor_repository, ancestor_tag,
                          parent_tag_id, path) AS (
        SELECT b.id, b.architecture, 1, b.parent_repository, b.parent_tag, b.parent_tag_id,
               ',' || b.stanza_id || ','
        FROM builds b
        JOIN stanzas s ON s.id = b.stanza_id
        WHERE s.maintained AND b.parent_repository IS NOT NULL
        UNION ALL
        SELECT c.build_id, c.architecture, c.depth + 1, nb.parent_repository, nb.parent_tag,
               nb.parent_tag_id, c.path || nb.stanza_id || ','
        FROM chain c
        JOIN builds nb ON nb.id = {_next_build("c.parent_tag_id", "c.architecture")}
        WHERE c.depth < {MAX_DEPTH}
          AND nb.parent_repository IS NOT NULL
          AND instr(c.path, ',' || nb.stanza_id || ',') = 0
    )
    SELECT r.name AS repository, t.name AS tag, c.architecture AS architecture,
           c.depth AS depth, c.ancestor_repository AS ancestor_repository,
           c.ancestor_tag AS ancestor_tag
    FROM chain c
    JOIN builds b ON b.id = c.build_id
    JOIN stanza_tags st ON st.stanza_id = b.stanza_id
    JOIN tags t ON t.id = st.tag_id
    JOIN image_repositories r ON r.id = t.repository_id
"""

V_TAG_IMAGES = """
    SELECT r.name AS repository, t.name AS tag, i.os AS os,
           i.architecture AS architecture, i.variant AS variant,
           i.bashbrew_arch AS bashbrew_arch, i.digest AS digest, i.size AS size,
           i.last_pushed AS last_pushed
    FROM hub_images i
    JOIN tags t ON t.id = i.tag_id
    JOIN image_repositories r ON r.id = t.repository_id
"""

#: a run "covers" a repository when it synced all of them or named it in ``only``
_COVERS_POSTGRESQL = (
    "(sr.only IS NULL OR jsonb_typeof(sr.only) = 'null' OR sr.only @> jsonb_build_array(r.name))"
)
_COVERS_SQLITE = (
    "(sr.only IS NULL OR sr.only = 'null' "
    "OR EXISTS (SELECT 1 FROM json_each(sr.only) WHERE json_each.value = r.name))"
)


#: the run failed to page the repository's Hub tags (``item`` is the name or the page URL)
_HUB_PAGE_FAILED = """EXISTS (
    SELECT 1 FROM sync_errors se
    WHERE se.run_id = sr.id AND se.item_kind = 'hub-page'
      AND (se.item = r.name OR se.item LIKE '%/repositories/' || r.name || '/tags%')
)"""


def _tag_history(covers: str, later_of: str) -> str:
    confirmed = f"""(
        SELECT MAX(sr.started_at) FROM sync_runs sr
        WHERE sr.status IN ('ok', 'partial') AND sr.finished_at IS NOT NULL AND {covers}
          AND NOT {_HUB_PAGE_FAILED}
    )"""
    return f"""
    SELECT r.name AS repository, t.name AS tag, h.digest AS digest,
           h.first_seen AS first_seen,
           CASE
               WHEN EXISTS (
                   SELECT 1 FROM tag_history newer
                   WHERE newer.tag_id = h.tag_id AND newer.first_seen > h.first_seen
               )
               THEN h.last_seen
               WHEN t.removed_at IS NOT NULL THEN {later_of}(h.last_seen, t.removed_at)
               ELSE {later_of}(h.last_seen, COALESCE({confirmed}, h.last_seen))
           END AS last_seen
    FROM tag_history h
    JOIN tags t ON t.id = h.tag_id
    JOIN image_repositories r ON r.id = t.repository_id
"""


V_SYNC_RUNS = """
    SELECT id, started_at, finished_at, status, library_files_fetched,
           dockerfiles_fetched, tags_added, tags_changed, tags_removed, errors
    FROM sync_runs
"""


def views(dialect: str) -> dict[str, str]:
    """The view bodies for ``dialect`` (``postgresql`` or ``sqlite``), in creation order."""
    postgresql = dialect == "postgresql"
    return {
        "v_tags": V_TAGS,
        "v_parents": V_PARENTS,
        "v_ancestors": V_ANCESTORS_POSTGRESQL if postgresql else V_ANCESTORS_SQLITE,
        "v_tag_images": V_TAG_IMAGES,
        "v_tag_history": (
            _tag_history(_COVERS_POSTGRESQL, "GREATEST")
            if postgresql
            else _tag_history(_COVERS_SQLITE, "MAX")
        ),
        "v_sync_runs": V_SYNC_RUNS,
    }


def upgrade() -> None:
    for name, body in views(op.get_bind().dialect.name).items():
        op.execute(f"CREATE VIEW {name} AS {body}")


def downgrade() -> None:
    for name in reversed(views(op.get_bind().dialect.name)):
        op.execute(f"DROP VIEW IF EXISTS {name}")
