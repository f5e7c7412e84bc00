"""A :class:`~indexer.store.read.Reader` over a SQLAlchemy ``AsyncSession``.

For callers that already hold a session: the web view (one session per request on
the server's pool; aiosqlite keeps SQLite reads off its event loop), and the tests and
benchmarks that fill and read a database in one process. The statement goes to the
driver as the light readers send it (:mod:`indexer.store.read.statements`), so every
query runs the same SQL whichever reader runs it. Errors stay SQLAlchemy's, as the
session's other users expect.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from indexer.store.read import Params
from indexer.store.read.statements import postgresql_statement, sqlite_statement

__all__ = ["SessionReader"]


class SessionReader:
    """Reads through the connection of ``session`` (in its transaction)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name

    async def rows(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        connection = await self.session.connection()
        if self.dialect == "postgresql":
            statement, positional = postgresql_statement(sql, params)
            result = await connection.exec_driver_sql(statement, tuple(positional))
        else:
            statement, named = sqlite_statement(sql, params)
            result = await connection.exec_driver_sql(statement, named)
        return [tuple(row) for row in result.all()]
