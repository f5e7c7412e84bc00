"""Rows straight to the driver: executemany on tuples, statements compiled once per dialect.

``session.execute(statement, rows)`` builds every row's parameters in Python: a dict per
row, then each value through its column type's bind processor. For the Hub's hundreds of
thousands of rows that was most of the writer's time. `executemany` compiles a statement
once per dialect and runs it with the driver's own executemany on tuples whose values are
already bound: times go through `Binder.time` (checked against the column type's bind
processor, so the stored form is exactly what the ORM stores); strings, integers and
booleans need none on our backends (SQLite, asyncpg). A dialect whose parameters are not
positional keeps the ordinary path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import all_, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert, UpdateBase
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from indexer.store.models import UTCDateTime

__all__ = ["BATCH", "Binder", "InList", "binder", "chunks", "executemany", "rowcount"]

#: ids per expanding ``IN`` list (SQLite allows 32766 bound parameters)
BATCH = 500


def chunks(rows: Sequence[Any], size: int = BATCH) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def rowcount(result: object) -> int:
    """The rows a statement's result says it wrote (0 where the driver does not say)."""
    return int(getattr(result, "rowcount", 0) or 0)


def _unbound(value: datetime | None) -> Any:
    return value


@functools.lru_cache(maxsize=4096)
def _sqlite_time(value: datetime | None) -> str | None:
    """What ``UTCDateTime`` binds on SQLite (UTC, ``YYYY-MM-DD HH:MM:SS.ffffff``), faster;
    remembered, as a page's images share a few push times."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


#: times `binder` checks `_sqlite_time` against the column type's own bind processor
_PROBE_TIMES = (
    None,
    datetime(2024, 6, 19, 16, 40, 9, tzinfo=UTC),
    datetime(2024, 6, 19, 16, 40, 9, 123456, tzinfo=timezone(timedelta(hours=-5))),
    datetime(999, 1, 2, 3, 4, 5, 6),
)


@dataclass(frozen=True)
class Binder:
    """How rows for `executemany` are prepared on one dialect."""

    #: run through the driver's executemany (else through ``session.execute``)
    driver: bool
    #: a time as a driver parameter (as-is when ``driver`` is false)
    time: Callable[[datetime | None], Any]


_BINDERS: dict[tuple[str, str], Binder] = {}
#: (dialect, driver, statement, parameter names) -> the SQL the driver runs
_DRIVER_SQL: dict[tuple[str, str, UpdateBase, tuple[str, ...]], str] = {}


def binder(dialect: Dialect) -> Binder:
    """The `Binder` of ``dialect`` (times checked against ``UTCDateTime``'s own binding)."""
    key = (dialect.name, dialect.driver)
    found = _BINDERS.get(key)
    if found is None:
        if dialect.positional:
            processor = UTCDateTime().dialect_impl(dialect).bind_processor(dialect) or _unbound
            if all(_sqlite_time(time) == processor(time) for time in _PROBE_TIMES):
                processor = _sqlite_time  # the same text, without two layers of calls
            found = Binder(True, processor)
        else:
            found = Binder(False, _unbound)
        _BINDERS[key] = found
    return found


def _driver_sql(dialect: Dialect, statement: UpdateBase, names: tuple[str, ...]) -> str:
    key = (dialect.name, dialect.driver, statement, names)
    sql = _DRIVER_SQL.get(key)
    if sql is None:
        column_keys = list(names) if isinstance(statement, Insert) else None
        compiled = statement.compile(dialect=dialect, column_keys=column_keys, for_executemany=True)
        if tuple(compiled.positiontup or ()) != names:
            raise RuntimeError(f"{statement} binds {compiled.positiontup}, not {names}")
        sql = _DRIVER_SQL[key] = compiled.string
    return sql


def _run_driver_sql(session: Session, sql: str, rows: list[tuple[Any, ...]]) -> None:
    session.connection().exec_driver_sql(sql, rows)


async def executemany(
    session: AsyncSession,
    bound: Binder,
    statement: UpdateBase,
    names: tuple[str, ...],
    rows: list[tuple[Any, ...]],
) -> None:
    """``statement`` once per row of ``rows`` (values in ``names`` order, bound by ``bound``)."""
    if not rows:
        return
    if not bound.driver:
        await session.execute(statement, [dict(zip(names, row, strict=True)) for row in rows])
        return
    sql = _driver_sql(session.get_bind().dialect, statement, names)
    await session.run_sync(_run_driver_sql, sql, rows)


class InList(ColumnElement[bool]):
    """``column IN (:name)`` for a list parameter ``name``; on PostgreSQL ``column =
    ANY(:name)``, one array parameter, so the statement's text (and the plan asyncpg
    prepares for it) does not change with the list's length. ``negate``: NOT IN."""

    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012 - SQLAlchemy's own declaration
        ("column", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_string),
        ("negate", InternalTraversal.dp_boolean),
    ]

    def __init__(self, column: ColumnElement[Any], name: str, *, negate: bool = False) -> None:
        self.column = column
        self.name = name
        self.negate = negate


@compiles(InList)
def _in_list(element: InList, compiler: Any, **kw: Any) -> str:
    parameter: Any = bindparam(element.name, expanding=True)
    clause = element.column.not_in(parameter) if element.negate else element.column.in_(parameter)
    return str(compiler.process(clause, **kw))


@compiles(InList, "postgresql")
def _any_array(element: InList, compiler: Any, **kw: Any) -> str:
    parameter = bindparam(element.name, type_=ARRAY(element.column.type))
    clause = (
        element.column != all_(parameter) if element.negate else element.column == any_(parameter)
    )
    return str(compiler.process(clause, **kw))
