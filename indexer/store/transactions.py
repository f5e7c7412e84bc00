"""Transactions for a store thread or process: one connection, used back to back.

On SQLite a store thread (or the page process) drives the standard library's ``sqlite3``
through a synchronous SQLAlchemy session (`_SyncSessionBridge` lends it the few
``AsyncSession`` methods the store's functions call). aiosqlite would only move each
statement to yet another thread and back; here the thread is already ours, and
``sqlite3`` releases the GIL while SQLite works. PostgreSQL keeps its async driver
(asyncpg) on the caller's loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar, cast

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Result, ScalarResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from indexer.store.db import SQLITE_BUSY_TIMEOUT_MS, Database, configure_sqlite

__all__ = ["Transaction", "store_transactions"]

T = TypeVar("T")
#: a factory of transactions (an open session, committed on exit)
Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]


class _SyncSessionBridge:
    """The ``AsyncSession`` methods the store's writes use, over a synchronous ``Session``.

    Each coroutine runs its statement at once and never suspends.
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    async def execute(self, statement: Any, params: Any = None, **options: Any) -> Result[Any]:
        return self._session.execute(statement, params, **options)

    async def scalar(self, statement: Any, params: Any = None, **options: Any) -> Any:
        return self._session.scalar(statement, params, **options)

    async def scalars(
        self, statement: Any, params: Any = None, **options: Any
    ) -> ScalarResult[Any]:
        return self._session.scalars(statement, params, **options)

    async def run_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return fn(self._session, *args, **kwargs)

    def get_bind(self) -> Any:
        return self._session.get_bind()


#: page cache of the page process' SQLite connection, in KiB (SQLite's default is 2 MiB):
#: the indexes a Hub page writes to (tag names, digests) are spread over the whole file.
#: The store threads keep the default: their jobs touch a few pages each, and a large
#: cache there only held the pages their lookups had read, in the sync process.
PAGE_CACHE_KIB = 65536


#: WAL pages after which a commit of a store connection copies the log into the database
#: (SQLite's default is 1,000, 4 MiB: about every commit of a run of Hub pages, and each
#: copied the index pages that every one of those commits touches again)
STORE_CHECKPOINT_PAGES = 16384


def _store_connection(dbapi_connection: Any, _record: Any) -> None:
    """A store connection: the common settings and less frequent checkpoints."""
    configure_sqlite(dbapi_connection, _record)
    dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={STORE_CHECKPOINT_PAGES}")


def _bulk_connection(dbapi_connection: Any, _record: Any) -> None:
    """The page process' connection: no foreign-key checks, a larger page cache."""
    dbapi_connection.execute("PRAGMA foreign_keys=OFF")
    dbapi_connection.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")


def _sqlite_engine(url: URL, *, bulk: bool) -> Engine:
    """A synchronous engine (stdlib ``sqlite3``) on the SQLite file of ``url``."""
    engine = create_engine(
        url.set(drivername="sqlite"),
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )
    event.listen(engine, "connect", _store_connection)
    if bulk:
        event.listen(engine, "connect", _bulk_connection)
    return engine


@asynccontextmanager
async def store_transactions(url: URL, *, bulk: bool = False) -> AsyncIterator[Transaction]:
    """A factory of transactions on one connection of ``url``'s database, and its clean-up.

    ``bulk``: the page process' connection, which writes the Hub's rows. On SQLite it
    does not check foreign keys (a lookup per row written): its rows reference only
    rows it has just written or looked up in the same transaction; and it keeps a
    larger page cache (`PAGE_CACHE_KIB`). PostgreSQL checks the keys."""
    if url.drivername.startswith("sqlite"):
        engine = _sqlite_engine(url, bulk=bulk)

        @asynccontextmanager
        async def sqlite_transaction() -> AsyncIterator[AsyncSession]:
            with Session(engine) as session, session.begin():
                yield cast(AsyncSession, _SyncSessionBridge(session))

        try:
            yield sqlite_transaction
        finally:
            engine.dispose()
        return
    # the one connection is checked out back to back, one transaction after another: a
    # liveness ping before each would cost a round trip per job
    database = Database(url.render_as_string(hide_password=False), pool_pre_ping=False)
    try:
        yield database.session
    finally:
        await database.dispose()
