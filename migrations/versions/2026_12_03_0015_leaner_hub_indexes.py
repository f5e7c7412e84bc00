"""hub_images and tag_history keyed by their natural keys; tags.stanza_id indexed where set

Each table had an ``id`` nothing reads, a primary key on it and a unique constraint
on its natural key: ``(tag_id, digest)`` for a tag's platform images, ``(tag_id,
first_seen)`` for its digest intervals. A first load writes a row of each per tag and
per platform image, so every row went into two b-trees, the second repeating the
digest. Now the natural key is the primary key:

- on SQLite the tables are ``WITHOUT ROWID``: clustered on that key, one b-tree per
  row; SQLite cannot change a primary key in place, so each table is copied into its
  new form (the views are dropped around the copies and created again as they were
  stored; the file keeps the old tables' pages free, for later rows or a ``VACUUM``);
- on PostgreSQL the id column, its sequence and its index go; the unique constraint's
  columns become the primary key.

``ix_tags_stanza_id`` becomes partial (``WHERE stanza_id IS NOT NULL``): only the tags a
library file lists have a stanza, a few thousand of the hundreds of thousands the Hub
keeps, and the lookups by stanza (``stanza_id = ?``) imply the condition.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: each table's natural key
KEYS: dict[str, tuple[str, ...]] = {
    "hub_images": ("tag_id", "digest"),
    "tag_history": ("tag_id", "first_seen"),
}


def _columns(table: str) -> list[sa.Column[object]]:
    """The columns of ``table`` other than ``id``, as stored (names, types, nullability)."""
    return [
        sa.Column(column["name"], column["type"], nullable=column["nullable"])
        for column in sa.inspect(op.get_bind()).get_columns(table)
        if column["name"] != "id"
    ]


def _foreign_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tag_id"], ["tags.id"], name=op.f(f"fk_{table}_tag_id_tags"), ondelete="CASCADE"
    )


def _unique_name(table: str) -> str:
    return f"uq_{table}_{'_'.join(KEYS[table])}"


@contextmanager
def _views_set_aside() -> Iterator[None]:
    """SQLite refuses to rename a table while a view names a table that is gone: drop
    every view around the copies and create each again from its stored text."""
    stored = op.get_bind().exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY rowid"
    )
    views = [(str(name), str(sql)) for name, sql in stored]
    for name, _sql in reversed(views):
        op.execute(f"DROP VIEW {name}")
    yield
    for _name, sql in views:
        op.execute(sql)


def _copy_sqlite(table: str, *, keyed: bool) -> None:
    """Copy ``table`` into its keyed form (``keyed``) or back into its form with an id."""
    key, columns = KEYS[table], _columns(table)
    copy = f"_{table}_copy"
    if keyed:
        op.create_table(
            copy,
            *columns,
            _foreign_key(table),
            sa.PrimaryKeyConstraint(*key, name=op.f(f"pk_{table}")),
            sqlite_with_rowid=False,
        )
    else:
        op.create_table(
            copy,
            sa.Column("id", sa.Integer(), nullable=False),
            *columns,
            _foreign_key(table),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
            sa.UniqueConstraint(*key, name=op.f(_unique_name(table))),
        )
    listed = ", ".join(column.name for column in columns)
    order = ", ".join(key)
    op.execute(f"INSERT INTO {copy} ({listed}) SELECT {listed} FROM {table} ORDER BY {order}")
    op.drop_table(table)
    op.rename_table(copy, table)


#: the index on ``tags.stanza_id`` (partial at this revision)
STANZA_INDEX = "ix_tags_stanza_id"
_SET = sa.text("stanza_id IS NOT NULL")


def _stanza_index(*, partial: bool) -> None:
    op.drop_index(op.f(STANZA_INDEX), table_name="tags")
    where = {"sqlite_where": _SET, "postgresql_where": _SET} if partial else {}
    op.create_index(op.f(STANZA_INDEX), "tags", ["stanza_id"], unique=False, **where)


def _key_postgresql(table: str, key: tuple[str, ...], *, keyed: bool) -> None:
    """Key ``table`` by ``key`` (``keyed``), or by an ``id`` again, in place."""
    if keyed:
        op.drop_constraint(op.f(_unique_name(table)), table, type_="unique")
        op.drop_constraint(op.f(f"pk_{table}"), table, type_="primary")
        op.drop_column(table, "id")
        op.create_primary_key(op.f(f"pk_{table}"), table, list(key))
        return
    op.drop_constraint(op.f(f"pk_{table}"), table, type_="primary")
    op.execute(f"ALTER TABLE {table} ADD COLUMN id SERIAL NOT NULL")  # as 0001 made it
    op.create_primary_key(op.f(f"pk_{table}"), table, ["id"])
    op.create_unique_constraint(op.f(_unique_name(table)), table, list(key))


def _migrate(*, keyed: bool) -> None:
    """This revision (``keyed``) or the one before."""
    _stanza_index(partial=keyed)
    if op.get_bind().dialect.name == "sqlite":
        with _views_set_aside():
            for table in KEYS:
                _copy_sqlite(table, keyed=keyed)
        return
    for table, key in KEYS.items():
        _key_postgresql(table, key, keyed=keyed)


def upgrade() -> None:
    _migrate(keyed=True)


def downgrade() -> None:
    _migrate(keyed=False)
