"""The read path: SQL text run through a :class:`Reader`, without SQLAlchemy.

Every query of :mod:`indexer.store.queries` is SQL text with named parameters
(``:name``) run by a :class:`Reader`, which answers plain tuples. A list parameter
is written ``column = ANY(:name)`` (``column <> ALL(:name)`` for its negation):
PostgreSQL takes it as one array, SQLite as an ``IN`` list (:mod:`.statements`).
Values come back as the driver has them; :mod:`.values` turns them into the shapes
the query dataclasses hold (times, JSON, booleans), the one place that knows how
each backend stores them.

Readers:

- :class:`indexer.store.read.sqlite.SqliteReader`: the standard library's ``sqlite3``,
  the file opened read-only; its coroutines never suspend, so the CLI drives them
  without an event loop (:func:`drive`) and starts without importing asyncio;
- :class:`indexer.store.read.postgresql.PostgresReader`: one asyncpg connection;
- :class:`indexer.store.read.session.SessionReader`: an adapter over a SQLAlchemy
  ``AsyncSession``, for the web view and the tests and benchmarks that hold one.

This module imports nothing heavy: the CLI's read commands load it at start-up.
"""

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from typing import Any, Protocol, TypeVar

from indexer.errors import StoreError

__all__ = ["Params", "Reader", "database_error", "drive"]

#: the named parameters of one statement; a list or tuple value is a list parameter
Params = Mapping[str, Any]

T = TypeVar("T")


class Reader(Protocol):
    """Runs read-only SQL text and answers its rows."""

    #: ``sqlite`` or ``postgresql``: for the few statements written per dialect
    @property
    def dialect(self) -> str: ...

    async def rows(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        """Every row of one statement, as tuples of the driver's values."""
        ...


def drive(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends (one reading through ``sqlite3``) to its end.

    No event loop: importing asyncio would cost more than the whole query. Raises
    RuntimeError if the coroutine does suspend (it awaited real I/O).
    """
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError("a coroutine driven without an event loop suspended")


def database_error(reason: BaseException) -> StoreError:
    """A one-line :class:`StoreError` for an error the database answered (a query that
    failed: most often a schema older than the code)."""
    text = str(reason).strip()
    first = text.splitlines()[0] if text else type(reason).__name__
    return StoreError(f"database error: {first} (is the schema current? run `indexer migrate`)")
