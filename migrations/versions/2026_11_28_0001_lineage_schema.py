"""lineage schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 16:50:42.825606
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "fetch_cache",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("content_id", sa.String(length=1000), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fetch_cache")),
        sa.UniqueConstraint("kind", "content_id", name=op.f("uq_fetch_cache_kind_content_id")),
    )
    op.create_table(
        "image_repositories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("maintained", sa.Boolean(), nullable=False),
        sa.Column("hub_reconciled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_repositories")),
        sa.UniqueConstraint("name", name=op.f("uq_image_repositories_name")),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "only",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("full_reconcile", sa.Boolean(), nullable=False),
        sa.Column("library_commit", sa.String(length=64), nullable=True),
        sa.Column("library_files_fetched", sa.Integer(), nullable=False),
        sa.Column("dockerfiles_fetched", sa.Integer(), nullable=False),
        sa.Column("tags_added", sa.Integer(), nullable=False),
        sa.Column("tags_changed", sa.Integer(), nullable=False),
        sa.Column("tags_removed", sa.Integer(), nullable=False),
        sa.Column("parents_resolved", sa.Integer(), nullable=False),
        sa.Column("parents_unresolved", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column(
            "requests",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    op.create_table(
        "sync_state",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sync_state")),
    )
    op.create_table(
        "library_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repository_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("blob_sha", sa.String(length=64), nullable=False),
        sa.Column("commit_sha", sa.String(length=64), nullable=False),
        sa.Column(
            "maintainers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("stanza_count", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["image_repositories.id"],
            name=op.f("fk_library_files_repository_id_image_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_files")),
        sa.UniqueConstraint("repository_id", name=op.f("uq_library_files_repository_id")),
    )
    op.create_table(
        "stanzas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repository_id", sa.Integer(), nullable=False),
        sa.Column("canonical_tag", sa.String(length=128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "shared_tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "architectures",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "constraints",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("maintained", sa.Boolean(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["image_repositories.id"],
            name=op.f("fk_stanzas_repository_id_image_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stanzas")),
        sa.UniqueConstraint(
            "repository_id", "canonical_tag", name=op.f("uq_stanzas_repository_id_canonical_tag")
        ),
    )
    op.create_table(
        "sync_errors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("item_kind", sa.String(length=50), nullable=False),
        sa.Column("item", sa.Text(), nullable=False),
        sa.Column("error_kind", sa.String(length=50), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["sync_runs.id"],
            name=op.f("fk_sync_errors_run_id_sync_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_errors")),
    )
    with op.batch_alter_table("sync_errors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_errors_run_id"), ["run_id"], unique=False)

    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repository_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("stanza_id", sa.Integer(), nullable=True),
        sa.Column("maintained", sa.Boolean(), nullable=False),
        sa.Column("digest", sa.String(length=100), nullable=True),
        sa.Column("media_type", sa.String(length=200), nullable=True),
        sa.Column("last_updated", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tag_status", sa.String(length=50), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["image_repositories.id"],
            name=op.f("fk_tags_repository_id_image_repositories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["stanza_id"],
            ["stanzas.id"],
            name=op.f("fk_tags_stanza_id_stanzas"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("repository_id", "name", name=op.f("uq_tags_repository_id_name")),
    )
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tags_stanza_id"), ["stanza_id"], unique=False)

    op.create_table(
        "builds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stanza_id", sa.Integer(), nullable=False),
        sa.Column("architecture", sa.String(length=50), nullable=False),
        sa.Column("git_repo", sa.Text(), nullable=False),
        sa.Column("git_fetch", sa.Text(), nullable=False),
        sa.Column("git_commit", sa.String(length=64), nullable=False),
        sa.Column("directory", sa.Text(), nullable=False),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("builder", sa.String(length=50), nullable=True),
        sa.Column("parent_ref", sa.Text(), nullable=True),
        sa.Column("parent_repository", sa.String(length=255), nullable=True),
        sa.Column("parent_tag", sa.String(length=128), nullable=True),
        sa.Column("parent_tag_id", sa.Integer(), nullable=True),
        sa.Column(
            "froms",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_tag_id"],
            ["tags.id"],
            name=op.f("fk_builds_parent_tag_id_tags"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["stanza_id"],
            ["stanzas.id"],
            name=op.f("fk_builds_stanza_id_stanzas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_builds")),
        sa.UniqueConstraint(
            "stanza_id", "architecture", name=op.f("uq_builds_stanza_id_architecture")
        ),
    )
    with op.batch_alter_table("builds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_builds_parent_repository_parent_tag"),
            ["parent_repository", "parent_tag"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_builds_parent_tag_id"), ["parent_tag_id"], unique=False
        )

    op.create_table(
        "hub_images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("os", sa.String(length=50), nullable=False),
        sa.Column("architecture", sa.String(length=50), nullable=False),
        sa.Column("variant", sa.String(length=50), nullable=True),
        sa.Column("bashbrew_arch", sa.String(length=50), nullable=False),
        sa.Column("digest", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=50), nullable=True),
        sa.Column("last_pushed", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_hub_images_tag_id_tags"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_images")),
        sa.UniqueConstraint("tag_id", "digest", name=op.f("uq_hub_images_tag_id_digest")),
    )
    op.create_table(
        "stanza_tags",
        sa.Column("stanza_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["stanza_id"],
            ["stanzas.id"],
            name=op.f("fk_stanza_tags_stanza_id_stanzas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_stanza_tags_tag_id_tags"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("stanza_id", "tag_id", name=op.f("pk_stanza_tags")),
    )
    with op.batch_alter_table("stanza_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stanza_tags_tag_id"), ["tag_id"], unique=False)

    op.create_table(
        "tag_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=100), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_tag_history_tag_id_tags"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag_history")),
        sa.UniqueConstraint("tag_id", "first_seen", name=op.f("uq_tag_history_tag_id_first_seen")),
    )


def downgrade() -> None:

    op.drop_table("tag_history")
    with op.batch_alter_table("stanza_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stanza_tags_tag_id"))

    op.drop_table("stanza_tags")
    op.drop_table("hub_images")
    with op.batch_alter_table("builds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_builds_parent_tag_id"))
        batch_op.drop_index(batch_op.f("ix_builds_parent_repository_parent_tag"))

    op.drop_table("builds")
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tags_stanza_id"))

    op.drop_table("tags")
    with op.batch_alter_table("sync_errors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_errors_run_id"))

    op.drop_table("sync_errors")
    op.drop_table("stanzas")
    op.drop_table("library_files")
    op.drop_table("sync_state")
    op.drop_table("sync_runs")
    op.drop_table("image_repositories")
    op.drop_table("fetch_cache")
