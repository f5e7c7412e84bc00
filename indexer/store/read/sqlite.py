"""A :class:`~indexer.store.read.Reader` on a SQLite file, through the standard library.

The file is opened read-only (``file:…?mode=ro``): a read never creates a database,
and a missing file is said plainly. Reads see the writer's last commit (WAL) and wait
for a lock as long as the store's own connections do.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from indexer.errors import DatabaseUnavailableError
from indexer.store.read import Params, database_error
from indexer.store.read.statements import sqlite_statement

__all__ = ["SQLITE_BUSY_TIMEOUT_SECONDS", "SqliteReader", "missing_database"]

#: how long a read waits for a lock held by another connection (as the store's engine)
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0


def missing_database(path: str | Path) -> DatabaseUnavailableError:
    return DatabaseUnavailableError(
        f"no database at {path}: create it with `indexer migrate`, then fill it with `indexer sync`"
    )


class SqliteReader:
    """Reads one SQLite file; its ``rows`` never suspends (see :func:`indexer.store.read.drive`)."""

    dialect = "sqlite"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    @classmethod
    def open(cls, path: str | Path) -> SqliteReader:
        """Open ``path`` read-only; :class:`DatabaseUnavailableError` when there is no such file."""
        if not Path(path).is_file():
            raise missing_database(path)
        uri = f"file:{quote(str(Path(path).resolve()))}?mode=ro"
        try:
            connection = sqlite3.connect(uri, uri=True, timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
        except sqlite3.Error as exc:
            raise DatabaseUnavailableError(f"cannot open database {path}: {exc}") from None
        return cls(connection)

    async def rows(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        statement, values = sqlite_statement(sql, params)
        try:
            return self.connection.execute(statement, values).fetchall()
        except sqlite3.Error as exc:
            raise database_error(exc) from exc

    def close(self) -> None:
        self.connection.close()
