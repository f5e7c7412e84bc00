"""Running a command's work against the database, with its errors in the contract's terms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError

from indexer.errors import DatabaseUnavailableError, StoreError
from indexer.settings import Settings
from indexer.store.db import Database, normalize_database_url

__all__ = ["database_error", "missing_sqlite_file", "run_with_database"]

T = TypeVar("T")


def database_error(exc: SQLAlchemyError) -> StoreError:
    """A one-line :class:`StoreError` for an error the database answered."""
    reason = str(getattr(exc, "orig", None) or exc).strip()
    first = reason.splitlines()[0] if reason else type(exc).__name__
    return StoreError(f"database error: {first} (is the schema current? run `indexer migrate`)")


def missing_sqlite_file(database_url: str) -> Path | None:
    """The SQLite file ``database_url`` names when it does not exist; else ``None``."""
    url = normalize_database_url(database_url)
    name = url.database
    if not url.drivername.startswith("sqlite") or not name or name == ":memory:":
        return None
    path = Path(name)
    return None if path.exists() else path


async def run_with_database(
    settings: Settings,
    action: Callable[[Database], Awaitable[T]],
    *,
    check: bool = True,
    existing: bool = False,
) -> T:
    """Open the database, check it is reachable, run ``action``, always dispose.

    ``existing``: a SQLite file must already be there (the read-only commands, which
    would otherwise leave an empty file behind). A SQLAlchemy error is raised again
    as :class:`StoreError` (exit status 2).
    """
    missing = missing_sqlite_file(settings.database_url) if existing else None
    if missing is not None:
        raise DatabaseUnavailableError(
            f"no database at {missing}: create it with `indexer migrate`, "
            "then fill it with `indexer sync`"
        )
    database = Database(settings.database_url)
    try:
        if check:
            await database.check()
        return await action(database)
    except SQLAlchemyError as exc:
        raise database_error(exc) from exc
    finally:
        await database.dispose()
