"""How a page of Hub tag rows reaches the database: one loader per backend.

`indexer.store.writes.write_hub_tags` decides what a page changes (which tags are new,
which point at a new digest) and hands the rows, as tuples, to the loader of the
session's backend:

- **PostgreSQL** (`PostgresHubRows`): on the session's own asyncpg connection, inside
  its transaction. New tags take their ids from the tags' sequence (one statement for
  a page), then they, their platform images and their history go in by ``COPY``
  (``copy_records_to_table``); so do the platform images of changed tags (their old
  images are deleted first), whose tags and history rows take one set-based ``UPDATE``
  / ``INSERT … ON CONFLICT`` per table. Every statement has fixed text (ids as
  ``= ANY($n)`` arrays), so asyncpg prepares each once per connection.
- **SQLite** (`SqliteHubRows`): the driver's ``executemany`` on prepared statements
  (:mod:`indexer.store.driver_rows`), in the same transaction. New tags take the ids
  after the largest stored, as SQLite would give them, so their images and history are
  built once, with their tag's id, instead of looked up by name after the insert.

Either way a new tag's rows are written knowing its id, and a tag stored meanwhile under
one of the page's names (or ids) breaks a unique key: the transaction fails, and the
run with it, rather than rows going to the wrong tag.

No ORM instance and no dict per row: the rows are tuples in the column orders below.
"""

from __future__ import annotations

import json
import sqlite3
import weakref
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, delete, func, insert, null, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from indexer.store.driver_rows import binder, chunks, executemany
from indexer.store.models import HubImage, Tag, TagHistory

__all__ = [
    "HISTORY_COLUMNS",
    "IMAGE_COLUMNS",
    "NEW_TAG_COLUMNS",
    "UPDATED_TAG_COLUMNS",
    "HubRows",
    "hub_rows",
]

#: a stored tag: id, digest, first_seen, removed_at
StoredTag = tuple[int, str | None, datetime | None, datetime | None]

IMAGE_COLUMNS = (
    "tag_id",
    "os",
    "architecture",
    "variant",
    "bashbrew_arch",
    "digest",
    "size",
    "status",
    "last_pushed",
)
NEW_TAG_COLUMNS = (
    "id",
    "repository_id",
    "name",
    "maintained",
    "digest",
    "media_type",
    "last_updated",
    "tag_status",
    "first_seen",
    "last_seen",
)
#: an updated tag's row: the new values, then its id
UPDATED_TAG_COLUMNS = (
    "digest",
    "media_type",
    "last_updated",
    "tag_status",
    "first_seen",
    "last_seen",
    "id",
)
HISTORY_COLUMNS = ("tag_id", "digest", "first_seen", "last_seen")


class HubRows(Protocol):
    """The statements of one Hub page write, on one backend, in the caller's transaction."""

    #: a time as this loader's rows carry it
    time: Callable[[datetime | None], Any]

    async def stored(self, repository_id: int, names: Sequence[str]) -> dict[str, StoredTag]:
        """The stored tags among ``names``."""

    async def new_tag_ids(self, repository_id: int, count: int) -> Sequence[int]:
        """Ids for ``count`` new tags of ``repository_id``, ascending, none of them in use."""

    async def insert_new_tags(
        self,
        tags: list[tuple[Any, ...]],
        images: list[tuple[Any, ...]],
        history: list[tuple[Any, ...]],
    ) -> None:
        """Insert new tags (`NEW_TAG_COLUMNS`, ids from `new_tag_ids`), their platform
        images (`IMAGE_COLUMNS`) and their first history intervals (`HISTORY_COLUMNS`);
        none of them is stored yet: a tag stored meanwhile fails the transaction."""

    async def update_tags(self, rows: list[tuple[Any, ...]], now: datetime) -> None:
        """Rewrite changed tags (`UPDATED_TAG_COLUMNS`), drop their images, close their
        open history interval at ``now``."""

    async def insert_images(self, rows: list[tuple[Any, ...]]) -> None:
        """Insert platform images (`IMAGE_COLUMNS`); none of them is stored yet."""

    async def upsert_history(self, rows: list[tuple[Any, ...]]) -> None:
        """Open history intervals (`HISTORY_COLUMNS`)."""


def hub_rows(session: AsyncSession) -> HubRows:
    """The loader for ``session``'s backend."""
    if session.get_bind().dialect.name == "postgresql":
        return PostgresHubRows(session)
    return SqliteHubRows(session)


# --- PostgreSQL: COPY and arrays on the session's asyncpg connection ---------------------

_PG_STORED = """
SELECT name, id, digest, first_seen, removed_at FROM tags
WHERE repository_id = $1 AND name = ANY($2::text[])
"""
#: ids for new tags, from the tags' own sequence (one round trip for a page's tags); the
#: sequence is looked up by name once per statement, not once per id
_PG_NEW_TAG_IDS = """
WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence('tags', 'id')::regclass AS seq)
SELECT nextval(s.seq) FROM s, generate_series(1, $1)
"""
_PG_UPDATE_TAGS = """
UPDATE tags SET digest = r.d, media_type = r.m, last_updated = r.u, tag_status = r.s,
                first_seen = r.f, last_seen = r.l, removed_at = NULL
FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::timestamptz[],
            $6::timestamptz[], $7::int[]) AS r(d, m, u, s, f, l, i)
WHERE tags.id = r.i
"""
_PG_DELETE_IMAGES = "DELETE FROM hub_images WHERE tag_id = ANY($1::int[])"
_PG_CLOSE_HISTORY = """
UPDATE tag_history h SET last_seen = $2
WHERE h.tag_id = ANY($1::int[]) AND h.last_seen < $2
  AND h.first_seen = (SELECT max(l.first_seen) FROM tag_history l WHERE l.tag_id = h.tag_id)
"""
_PG_UPSERT_HISTORY = """
INSERT INTO tag_history (tag_id, digest, first_seen, last_seen)
SELECT * FROM unnest($1::int[], $2::text[], $3::timestamptz[], $4::timestamptz[])
ON CONFLICT (tag_id, first_seen) DO UPDATE SET digest = excluded.digest
"""


#: the table a page's lookup by name reads, analysed as a sync grows it (`_Growth`); a
#: page appends platform images and history by COPY and reads them only by their key
_PG_ANALYZE = "ANALYZE tags"
#: new tags after which the statistics are renewed the first time
_ANALYZE_FIRST = 5000


class _Growth:
    """Tags one connection inserted since it last had ``tags`` analysed.

    A prepared statement's generic plan is made from the statistics of the moment: on a
    fresh database, a table the sync is filling looks empty, and the page lookup by
    name (`_PG_STORED`) kept scanning ``tags`` whole while it grew to hundreds of
    thousands of rows. Analysing each time the new tags outnumber the table's size at
    the last analysis (so a handful of times per large sync, none in a nightly run)
    keeps the estimates true, and renews the plans made from them.
    """

    def __init__(self) -> None:
        self.since = 0
        self.threshold = _ANALYZE_FIRST

    async def inserted(self, driver: Any, count: int) -> None:
        self.since += count
        if self.since >= self.threshold:
            await driver.execute(_PG_ANALYZE)
            rows = await driver.fetchval(
                "SELECT reltuples FROM pg_class WHERE oid = 'tags'::regclass"
            )
            self.since, self.threshold = 0, max(_ANALYZE_FIRST, int(rows))


#: per asyncpg connection (the writer's one, for the whole run)
_GROWTH: weakref.WeakKeyDictionary[Any, _Growth] = weakref.WeakKeyDictionary()


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _columns(rows: list[tuple[Any, ...]], *picked: int) -> list[list[Any]]:
    return [[row[index] for row in rows] for index in picked]


class PostgresHubRows:
    """`HubRows` through asyncpg: ``unnest`` arrays, and COPY for changed tags' images."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._connection: Any = None
        self.time: Callable[[datetime | None], Any] = _aware

    async def _driver(self) -> Any:
        """The asyncpg connection of the session, inside the session's transaction."""
        if self._connection is None:
            connection = await self._session.connection()
            driver: Any = (await connection.get_raw_connection()).driver_connection
            if not driver.is_in_transaction():
                # SQLAlchemy begins the driver's transaction with its first statement
                await connection.exec_driver_sql("SELECT 1")
            assert driver.is_in_transaction()
            self._connection = driver
        return self._connection

    async def stored(self, repository_id: int, names: Sequence[str]) -> dict[str, StoredTag]:
        driver = await self._driver()
        rows = await driver.fetch(_PG_STORED, repository_id, list(names))
        return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}

    async def new_tag_ids(self, repository_id: int, count: int) -> Sequence[int]:
        driver = await self._driver()
        return sorted(row[0] for row in await driver.fetch(_PG_NEW_TAG_IDS, count))

    async def insert_new_tags(
        self,
        tags: list[tuple[Any, ...]],
        images: list[tuple[Any, ...]],
        history: list[tuple[Any, ...]],
    ) -> None:
        driver = await self._driver()
        await driver.copy_records_to_table("tags", records=tags, columns=NEW_TAG_COLUMNS)
        await self.insert_images(images)
        if history:
            await driver.copy_records_to_table(
                "tag_history", records=history, columns=HISTORY_COLUMNS
            )
        growth = _GROWTH.get(driver)
        if growth is None:
            growth = _GROWTH[driver] = _Growth()
        await growth.inserted(driver, len(tags))

    async def update_tags(self, rows: list[tuple[Any, ...]], now: datetime) -> None:
        driver = await self._driver()
        await driver.execute(_PG_UPDATE_TAGS, *_columns(rows, 0, 1, 2, 3, 4, 5, 6))
        ids = sorted(row[6] for row in rows)
        await driver.execute(_PG_DELETE_IMAGES, ids)
        await driver.execute(_PG_CLOSE_HISTORY, ids, _aware(now))

    async def insert_images(self, rows: list[tuple[Any, ...]]) -> None:
        driver = await self._driver()
        await driver.copy_records_to_table("hub_images", records=rows, columns=IMAGE_COLUMNS)

    async def upsert_history(self, rows: list[tuple[Any, ...]]) -> None:
        driver = await self._driver()
        await driver.execute(_PG_UPSERT_HISTORY, *_columns(rows, 0, 1, 2, 3))


# --- SQLite: prepared executemany -----------------------------------------------------

_TAGS = cast(Table, Tag.__table__)
_HUB_IMAGES = cast(Table, HubImage.__table__)
_TAG_HISTORY = cast(Table, TagHistory.__table__)

#: the stored tags among a JSON array of names: one parameter whatever the page's length,
#: so the statement is prepared once and no list is expanded into it per call
_SQLITE_STORED = """
SELECT name, id, digest, first_seen, removed_at FROM tags
WHERE repository_id = ? AND name IN (SELECT value FROM json_each(?))
"""
#: the largest tag id (SQLite gives a new row the next one too: ``tags.id`` is the rowid),
#: and whether the repository exists
_SQLITE_LAST_TAG_ID = """
SELECT (SELECT coalesce(max(id), 0) FROM tags),
       (SELECT count(*) FROM image_repositories WHERE id = ?)
"""
_INSERT_TAGS = insert(_TAGS)
_UPDATE_TAGS = (
    update(_TAGS)
    .where(_TAGS.c.id == bindparam("b_id"))
    .values(
        digest=bindparam("b_digest"),
        media_type=bindparam("b_media_type"),
        last_updated=bindparam("b_last_updated"),
        tag_status=bindparam("b_tag_status"),
        first_seen=bindparam("b_first_seen"),
        last_seen=bindparam("b_last_seen"),
        removed_at=null(),
    )
)
_UPDATE_TAG_PARAMS = tuple(f"b_{name}" for name in UPDATED_TAG_COLUMNS)
_DELETE_IMAGES = delete(_HUB_IMAGES).where(
    _HUB_IMAGES.c.tag_id.in_(bindparam("b_ids", expanding=True))
)
_latest = _TAG_HISTORY.alias("latest")
_CLOSE_HISTORY = (
    update(_TAG_HISTORY)
    .where(
        _TAG_HISTORY.c.tag_id.in_(bindparam("b_ids", expanding=True)),
        _TAG_HISTORY.c.last_seen < bindparam("b_now"),
        _TAG_HISTORY.c.first_seen
        == select(func.max(_latest.c.first_seen))
        .where(_latest.c.tag_id == _TAG_HISTORY.c.tag_id)
        .scalar_subquery(),
    )
    .values(last_seen=bindparam("b_now"))
)
_INSERT_IMAGES = insert(_HUB_IMAGES)
_INSERT_HISTORY = insert(_TAG_HISTORY)
_history = sqlite.insert(_TAG_HISTORY)
_UPSERT_HISTORY = _history.on_conflict_do_update(
    index_elements=["tag_id", "first_seen"], set_={"digest": _history.excluded.digest}
)


def _driver_rows(session: Session, sql: str, parameters: tuple[Any, ...]) -> list[Any]:
    """``sql``'s rows, as the driver runs it (no statement to compile, no result types)."""
    return list(session.connection().exec_driver_sql(sql, parameters).all())


def _stored_time(value: str | None) -> datetime | None:
    """A time as SQLite stores ``UTCDateTime`` (UTC text), as the ORM reads it."""
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value is not None else None


class SqliteHubRows:
    """`HubRows` through ``sqlite3``'s executemany on statements compiled once."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._binder = binder(session.get_bind().dialect)
        self.time: Callable[[datetime | None], Any] = self._binder.time

    async def stored(self, repository_id: int, names: Sequence[str]) -> dict[str, StoredTag]:
        # on the driver's connection: this lookup is most of what a no-change page costs
        parameters = (repository_id, json.dumps(list(names)))
        rows = await self._session.run_sync(_driver_rows, _SQLITE_STORED, parameters)
        return {
            name: (tag_id, digest, _stored_time(first_seen), _stored_time(removed_at))
            for name, tag_id, digest, first_seen, removed_at in rows
        }

    async def new_tag_ids(self, repository_id: int, count: int) -> Sequence[int]:
        rows = await self._session.run_sync(_driver_rows, _SQLITE_LAST_TAG_ID, (repository_id,))
        last, repositories = rows[0]
        if not repositories:  # the key a connection without key checks does not check
            raise IntegrityError(
                _SQLITE_LAST_TAG_ID,
                (repository_id,),
                sqlite3.IntegrityError(
                    f"FOREIGN KEY constraint failed: no repository {repository_id}"
                ),
            )
        return range(last + 1, last + 1 + count)

    async def insert_new_tags(
        self,
        tags: list[tuple[Any, ...]],
        images: list[tuple[Any, ...]],
        history: list[tuple[Any, ...]],
    ) -> None:
        await executemany(self._session, self._binder, _INSERT_TAGS, NEW_TAG_COLUMNS, tags)
        await self.insert_images(images)
        await executemany(self._session, self._binder, _INSERT_HISTORY, HISTORY_COLUMNS, history)

    async def update_tags(self, rows: list[tuple[Any, ...]], now: datetime) -> None:
        await executemany(self._session, self._binder, _UPDATE_TAGS, _UPDATE_TAG_PARAMS, rows)
        for chunk in chunks(sorted(row[6] for row in rows)):
            await self._session.execute(_DELETE_IMAGES, {"b_ids": list(chunk)})
            await self._session.execute(_CLOSE_HISTORY, {"b_ids": list(chunk), "b_now": now})

    async def insert_images(self, rows: list[tuple[Any, ...]]) -> None:
        await executemany(self._session, self._binder, _INSERT_IMAGES, IMAGE_COLUMNS, rows)

    async def upsert_history(self, rows: list[tuple[Any, ...]]) -> None:
        await executemany(self._session, self._binder, _UPSERT_HISTORY, HISTORY_COLUMNS, rows)
