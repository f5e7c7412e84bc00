"""Running a command's work against the database, with its errors in the contract's terms.

Two ways in, one per kind of command:

- :func:`read_database`: the read commands (``show``, ``children``, ``explain``,
  ``history``, ``graph``, ``stale``, ``runs``) run their queries through a light
  :class:`~indexer.store.read.Reader`: ``sqlite3`` on the file opened read-only, driven
  without an event loop, or one asyncpg connection. Neither SQLAlchemy nor asyncio
  (on SQLite) is imported, which is most of their start-up;
- :func:`run_with_database`: the commands that write or need the engine (``sync``,
  ``migrate``, ``health``) get a :class:`~indexer.store.db.Database`; SQLAlchemy is
  imported when such a command runs, not when this module is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from indexer.settings import Settings
from indexer.store.database_url import DatabaseUrl, parse_database_url
from indexer.store.read import Reader, database_error, drive

if TYPE_CHECKING:
    from indexer.store.db import Database

__all__ = ["read_database", "run_with_database"]

T = TypeVar("T")


def read_database(settings: Settings, read: Callable[[Reader], Coroutine[Any, Any, T]]) -> T:
    """Run ``read`` on a read-only connection to the configured database, then close it.

    A SQLite file must already be there (a read never leaves an empty file behind). A
    database that cannot be reached raises :class:`DatabaseUnavailableError`, an error
    it answers :class:`StoreError` (both exit status 2).
    """
    url = parse_database_url(settings.database_url)
    if url.dialect == "sqlite":
        return _read_sqlite(url, read)
    import asyncio  # noqa: PLC0415 - only PostgreSQL needs an event loop

    return asyncio.run(_read_postgresql(url, read))


def _read_sqlite(url: DatabaseUrl, read: Callable[[Reader], Coroutine[Any, Any, T]]) -> T:
    from indexer.store.read.sqlite import SqliteReader, missing_database  # noqa: PLC0415

    path = url.sqlite_path
    if path is None:
        raise missing_database(":memory:")
    reader = SqliteReader.open(path)
    try:
        return drive(read(reader))
    finally:
        reader.close()


async def _read_postgresql(url: DatabaseUrl, read: Callable[[Reader], Coroutine[Any, Any, T]]) -> T:
    from indexer.store.read.postgresql import PostgresReader  # noqa: PLC0415

    reader = await PostgresReader.connect(url)
    try:
        return await read(reader)
    finally:
        await reader.close()


async def run_with_database(
    settings: Settings, action: Callable[[Database], Awaitable[T]], *, check: bool = True
) -> T:
    """Open the database, check it is reachable, run ``action``, always dispose.

    A SQLAlchemy error is raised again as :class:`StoreError` (exit status 2).
    """
    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415 - see the module docstring

    from indexer.store.db import Database  # noqa: PLC0415

    database = Database(settings.database_url)
    try:
        if check:
            await database.check()
        return await action(database)
    except SQLAlchemyError as exc:
        raise database_error(getattr(exc, "orig", None) or exc) from exc
    finally:
        await database.dispose()
