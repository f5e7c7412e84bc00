"""Engines and sessions for SQLite (aiosqlite, the embedded default) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from indexer.errors import DatabaseUnavailableError
from indexer.store import database_url

__all__ = [
    "Database",
    "configure_sqlite",
    "is_postgresql",
    "mask_url",
    "normalize_database_url",
]

#: SQLite waits this long (ms) for a lock held by another connection
SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalize_database_url(url: str) -> URL:
    """Parse ``url`` (:func:`indexer.store.database_url.parse_database_url`, as the read
    path does) and answer it as SQLAlchemy's URL, with the async driver."""
    parsed = database_url.parse_database_url(url)
    try:
        return make_url(parsed.url)
    except ArgumentError as exc:
        raise DatabaseUnavailableError(f"invalid database URL {parsed.masked!r}: {exc}") from None


def mask_url(url: str | URL) -> str:
    """The URL with its password replaced by ``***``."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    return database_url.mask_url(url)


def is_postgresql(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"


def configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """Every SQLite connection's settings (a ``connect`` event listener): foreign keys,
    the busy timeout, WAL."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Database:
    """An async engine plus a session factory, created from a database URL."""

    def __init__(self, url: str, *, echo: bool = False, **engine_options: Any) -> None:
        self.url = normalize_database_url(url)
        self.masked_url = mask_url(self.url)
        options: dict[str, Any] = {"echo": echo, **engine_options}
        if self.url.drivername.startswith("sqlite"):
            options.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        else:
            options.setdefault("pool_pre_ping", True)
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", configure_sqlite)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def check(self, within: float = 10.0) -> None:
        """Connect once; raise :class:`DatabaseUnavailableError` naming the masked URL."""
        try:
            async with asyncio.timeout(within), self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (OperationalError, InterfaceError, DBAPIError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "orig", None) or exc
            detail = (
                str(reason).strip().splitlines()[0]
                if str(reason).strip()
                else type(reason).__name__
            )
            raise DatabaseUnavailableError(
                f"cannot connect to database {self.masked_url}: {detail}"
            ) from None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session inside a transaction: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.dispose()
