"""image_repositories.hub_last_updated: the Hub's last push time, as last read

The sync reads the Hub's repository list of the namespace (each repository with its
``last_updated``) and stores that time on a repository once its tag pages were read
cleanly; a later run skips the tag pages of repositories whose time has not moved.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "image_repositories",
        sa.Column("hub_last_updated", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("image_repositories", schema=None) as batch_op:
        batch_op.drop_column("hub_last_updated")
