"""Throwaway migrated databases for tests, on SQLite and PostgreSQL.

PostgreSQL: ``$INDEXER_TEST_POSTGRES_URL`` (default the local server's ``test``
database) is used only to create and drop databases. The migrations run once
into a template database; each test gets a copy (``CREATE DATABASE … TEMPLATE``),
so every test starts from the migrated schema, never from ``create_all``. Where
PostgreSQL is unreachable its tests skip, unless ``INDEXER_TEST_REQUIRE_POSTGRES=1``
(CI) makes that a failure.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from indexer.store.db import Database
from indexer.store.migrate import upgrade
from indexer.store.models import Base

__all__ = [
    "BACKENDS",
    "PostgresDatabases",
    "fetch_rows",
    "migrated_sqlite_url",
    "missing_from_schema",
    "postgres_admin_url",
    "schema_diff",
]

BACKENDS = ("sqlite", "postgresql")
DEFAULT_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


async def fetch_rows(database_url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """The rows of one SQL statement, as tuples."""
    database = Database(database_url)
    try:
        async with database.session() as session:
            return [tuple(row) for row in (await session.execute(text(sql), params)).all()]
    finally:
        await database.dispose()


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def missing_from_schema(diff: list[Any]) -> list[str]:
    """Names of the models' indexes and foreign keys that a `schema_diff` says are missing."""
    return sorted(
        str(item[1].name)
        for item in diff
        if isinstance(item, tuple) and item[0] in ("add_index", "add_fk")
    )


async def schema_diff(database_url: str) -> list[Any]:
    """How the database's schema differs from the models (tables, columns, indexes)."""
    database = Database(database_url)
    try:
        async with database.engine.connect() as connection:
            return await connection.run_sync(_diff)
    finally:
        await database.dispose()


def postgres_admin_url() -> str:
    return os.environ.get("INDEXER_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)


def _dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def _async_url(url: str, database: str) -> str:
    parsed = make_url(url).set(drivername="postgresql+asyncpg", database=database)
    return parsed.render_as_string(hide_password=False)


def migrated_sqlite_url(directory: Path, name: str = "indexer.db") -> str:
    url = f"sqlite+aiosqlite:///{directory / name}"
    asyncio.run(upgrade(url))
    return url


class PostgresDatabases:
    """Creates the migrated template once, then one database per test from it."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.prefix = f"indexer_test_{os.getpid()}"
        self.template = f"{self.prefix}_template"
        self._counter = itertools.count()
        self._created: list[str] = []
        self.available = False
        self.reason = ""

    async def _admin(self, sql: str) -> None:
        connection = await asyncpg.connect(_dsn(self.admin_url), timeout=5)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    def setup(self) -> None:
        try:
            asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{self.template}"'))
            asyncio.run(self._admin(f'CREATE DATABASE "{self.template}"'))
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            self.reason = (
                f"PostgreSQL unreachable at {make_url(self.admin_url).render_as_string()}: {exc}"
            )
            return
        asyncio.run(upgrade(_async_url(self.admin_url, self.template)))
        self.available = True

    def create(self) -> str:
        if not self.available:
            if os.environ.get("INDEXER_TEST_REQUIRE_POSTGRES") == "1":
                pytest.fail(self.reason)
            pytest.skip(self.reason)
        name = f"{self.prefix}_{next(self._counter)}"
        asyncio.run(self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        self._created.append(name)
        return _async_url(self.admin_url, name)

    def create_empty(self) -> str:
        """A database with no schema at all (for tests of ``indexer migrate`` itself)."""
        if not self.available:
            if os.environ.get("INDEXER_TEST_REQUIRE_POSTGRES") == "1":
                pytest.fail(self.reason)
            pytest.skip(self.reason)
        name = f"{self.prefix}_{next(self._counter)}"
        asyncio.run(self._admin(f'CREATE DATABASE "{name}"'))
        self._created.append(name)
        return _async_url(self.admin_url, name)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def teardown(self) -> None:
        if not self.available:
            return
        for name in [*self._created, self.template]:
            asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
