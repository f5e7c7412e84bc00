"""A :class:`~indexer.store.read.Reader` on PostgreSQL: one asyncpg connection, no pool.

Rows come back as asyncpg has them: ``json``/``jsonb`` as text (no codec is set: that
would cost a round trip per connection), ``timestamptz`` as aware datetimes
(:mod:`indexer.store.read.values` shapes both).
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from indexer.errors import DatabaseUnavailableError
from indexer.store.database_url import DatabaseUrl
from indexer.store.read import Params, database_error
from indexer.store.read.statements import postgresql_statement

__all__ = ["CONNECT_TIMEOUT_SECONDS", "PostgresReader"]

#: how long connecting may take before the database counts as unreachable
CONNECT_TIMEOUT_SECONDS = 10.0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class PostgresReader:
    """Reads through one asyncpg connection."""

    dialect = "postgresql"

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    @classmethod
    async def connect(cls, url: DatabaseUrl) -> PostgresReader:
        """Connect; :class:`DatabaseUnavailableError` naming the masked URL when it fails."""
        try:
            connection = await asyncio.wait_for(
                asyncpg.connect(url.postgres_dsn), CONNECT_TIMEOUT_SECONDS
            )
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise DatabaseUnavailableError(
                f"cannot connect to database {url.masked}: {_first_line(exc)}"
            ) from None
        return cls(connection)

    async def rows(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        statement, values = postgresql_statement(sql, params)
        try:
            records = await self.connection.fetch(statement, *values)
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise database_error(exc) from exc
        return [tuple(record) for record in records]

    async def close(self) -> None:
        await self.connection.close()
