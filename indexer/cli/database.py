"""Running a command's work against the database, with its errors in the contract's terms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError

from indexer.errors import StoreError
from indexer.settings import Settings
from indexer.store.db import Database

__all__ = ["database_error", "run_with_database"]

T = TypeVar("T")


def database_error(exc: SQLAlchemyError) -> StoreError:
    """A one-line :class:`StoreError` for an error the database answered."""
    reason = str(getattr(exc, "orig", None) or exc).strip()
    first = reason.splitlines()[0] if reason else type(exc).__name__
    return StoreError(f"database error: {first} (is the schema current? run `indexer migrate`)")


async def run_with_database(
    settings: Settings, action: Callable[[Database], Awaitable[T]], *, check: bool = True
) -> T:
    """Open the database, check it is reachable, run ``action``, always dispose.

    A SQLAlchemy error is raised again as :class:`StoreError` (exit status 2).
    """
    database = Database(settings.database_url)
    try:
        if check:
            await database.check()
        return await action(database)
    except SQLAlchemyError as exc:
        raise database_error(exc) from exc
    finally:
        await database.dispose()
