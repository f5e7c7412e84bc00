"""Registry truth: the indexes and manifests read from the registry, and v_image_builds

``registry_indexes`` (one row per index digest read, never read again),
``registry_images`` (one row per platform of an index, with its annotations: base
name and digest, revision, source, created; the layer check's verdict where no base
annotation could be used) and ``registry_manifests`` (platform manifests read for
their layers). ``tags.digest`` gets an index: the view joins indexes to tags by it.

``v_image_builds`` (CONTRACT §4): one row per tag and platform whose index has been
read. ``base_current_digest`` is the base tag's digest now; ``stale_since`` is when the
index saw the base tag move off ``base_digest`` (the start of the next interval of its
``tag_history``), else the base tag's last push (``stale_since_exact`` false). The
library's build of a platform is that of the tag's own stanza, else (a SharedTag on
several stanzas, e.g. Windows versions) of the first maintained stanza carrying the tag
that builds the architecture.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")

V_IMAGE_BUILDS = """
    SELECT repository, tag, architecture, index_digest, manifest_digest, base_name,
           base_digest, base_current_digest,
           CASE WHEN NOT annotated OR parent_ref IS NULL THEN NULL
                WHEN COALESCE(base_name, 'scratch') = parent_ref THEN TRUE
                ELSE FALSE END AS agrees,
           CASE WHEN base_digest IS NULL OR base_current_digest IS NULL THEN NULL
                WHEN base_digest <> base_current_digest THEN TRUE
                ELSE FALSE END AS stale,
           CASE WHEN base_digest <> base_current_digest
                THEN COALESCE(moved_at, base_last_updated) END AS stale_since,
           CASE WHEN base_digest <> base_current_digest
                THEN CASE WHEN moved_at IS NULL THEN FALSE ELSE TRUE END END
                AS stale_since_exact,
           revision, library_commit,
           CASE WHEN revision IS NULL OR library_commit IS NULL THEN NULL
                WHEN revision <> library_commit THEN TRUE
                ELSE FALSE END AS pending,
           created
    FROM (
        SELECT read.*, b.parent_ref AS parent_ref, b.git_commit AS library_commit
        FROM (
            SELECT r.name AS repository, t.name AS tag, ri.bashbrew_arch AS architecture,
                   x.digest AS index_digest, ri.manifest_digest AS manifest_digest,
                   ri.base_name AS base_name, ri.base_digest AS base_digest,
                   bt.digest AS base_current_digest, bt.last_updated AS base_last_updated,
                   (SELECT MIN(h2.first_seen) FROM tag_history h2
                    WHERE h2.tag_id = bt.id
                      AND h2.first_seen > (SELECT MAX(h1.first_seen) FROM tag_history h1
                                           WHERE h1.tag_id = bt.id
                                             AND h1.digest = ri.base_digest)) AS moved_at,
                   COALESCE(
                       (SELECT ob.id FROM builds ob
                        WHERE ob.stanza_id = t.stanza_id
                          AND ob.architecture = ri.bashbrew_arch),
                       (SELECT lb.id FROM stanza_tags lst
                        JOIN stanzas ls ON ls.id = lst.stanza_id
                        JOIN builds lb ON lb.stanza_id = ls.id
                        WHERE lst.tag_id = t.id AND lb.architecture = ri.bashbrew_arch
                          AND ls.maintained
                        ORDER BY ls.position
                        LIMIT 1)) AS build_id,
                   ri.annotated AS annotated, ri.revision AS revision, ri.created AS created
            FROM registry_indexes x
            JOIN registry_images ri ON ri.index_id = x.id
            JOIN tags t ON t.digest = x.digest
            JOIN image_repositories r ON r.id = t.repository_id AND r.name = x.repository
            LEFT JOIN image_repositories br ON br.name = ri.base_repository
            LEFT JOIN tags bt ON bt.repository_id = br.id AND bt.name = ri.base_tag
            WHERE x.status = 'ok'
        ) AS read
        LEFT JOIN builds b ON b.id = read.build_id
    ) AS image_builds
"""


def upgrade() -> None:
    op.create_table(
        "registry_indexes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=100), nullable=False),
        sa.Column("repository", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_indexes")),
        sa.UniqueConstraint("digest", name=op.f("uq_registry_indexes_digest")),
    )
    op.create_table(
        "registry_images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("index_id", sa.Integer(), nullable=False),
        sa.Column("manifest_digest", sa.String(length=100), nullable=False),
        sa.Column("os", sa.String(length=50), nullable=False),
        sa.Column("architecture", sa.String(length=50), nullable=False),
        sa.Column("variant", sa.String(length=50), nullable=True),
        sa.Column("bashbrew_arch", sa.String(length=50), nullable=False),
        sa.Column("base_name", sa.Text(), nullable=True),
        sa.Column("base_repository", sa.String(length=255), nullable=True),
        sa.Column("base_tag", sa.String(length=128), nullable=True),
        sa.Column("base_digest", sa.String(length=100), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revision", sa.String(length=64), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("annotated", sa.Boolean(), nullable=False),
        sa.Column("layer_check", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["index_id"],
            ["registry_indexes.id"],
            name=op.f("fk_registry_images_index_id_registry_indexes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_images")),
        sa.UniqueConstraint(
            "index_id", "manifest_digest", name=op.f("uq_registry_images_index_id_manifest_digest")
        ),
    )
    op.create_index(
        op.f("ix_registry_images_base_repository_base_tag"),
        "registry_images",
        ["base_repository", "base_tag"],
    )
    op.create_table(
        "registry_manifests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=100), nullable=False),
        sa.Column("layers", _JSON, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_manifests")),
        sa.UniqueConstraint("digest", name=op.f("uq_registry_manifests_digest")),
    )
    op.create_index(op.f("ix_tags_digest"), "tags", ["digest"])
    op.execute(f"CREATE VIEW v_image_builds AS {V_IMAGE_BUILDS}")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS v_image_builds")
    op.drop_index(op.f("ix_tags_digest"), table_name="tags")
    op.drop_table("registry_manifests")
    op.drop_index(op.f("ix_registry_images_base_repository_base_tag"), "registry_images")
    op.drop_table("registry_images")
    op.drop_table("registry_indexes")
