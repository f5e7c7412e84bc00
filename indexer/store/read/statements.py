"""Named parameters into each driver's form, the same for every reader of a dialect.

The queries write ``:name`` for a value and ``column = ANY(:name)`` /
``column <> ALL(:name)`` for a list (PostgreSQL's own spelling):

- PostgreSQL (asyncpg): ``$1``, ``$2``, … in order of first use (a name used twice
  is one parameter); a list is passed whole, as an array, so the statement's text
  (and the plan asyncpg prepares for it) does not change with the list's length;
- SQLite (``sqlite3``): names stay (``:name``); a list becomes ``IN (:name__0,
  :name__1, …)`` (``NOT IN``), as SQLAlchemy's expanding parameters did.

A ``:`` inside a string literal of the SQL would be taken for a parameter: pass
such text as a parameter instead. ``::`` casts are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from indexer.store.read import Params

__all__ = ["postgresql_statement", "sqlite_statement"]

_NAME = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_LIST = re.compile(r"(=\s*ANY|<>\s*ALL)\s*\(\s*:([A-Za-z_]\w*)\s*\)", re.IGNORECASE)


@lru_cache(maxsize=256)
def _numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _NAME.sub(number, sql), tuple(names)


def postgresql_statement(sql: str, params: Params | None) -> tuple[str, list[Any]]:
    """``sql`` with ``$n`` parameters, and their values in order."""
    statement, names = _numbered(sql)
    values = params or {}
    return statement, [
        list(value) if isinstance(value, tuple | set | frozenset) else value
        for value in (values[name] for name in names)
    ]


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple | set | frozenset)


def sqlite_statement(sql: str, params: Params | None) -> tuple[str, dict[str, Any]]:
    """``sql`` with each list parameter spelt out as an ``IN`` list, and the values by name."""
    values = dict(params or {})
    lists = {name: list(value) for name, value in values.items() if _is_list(value)}
    if not lists:
        return sql, values

    def spell_out(match: re.Match[str]) -> str:
        name = match.group(2)
        items: Sequence[Any] = lists[name]
        operator = "IN" if match.group(1).startswith("=") else "NOT IN"
        return f"{operator} ({', '.join(f':{name}__{i}' for i in range(len(items)))})"

    statement = _LIST.sub(spell_out, sql)
    for name, items in lists.items():
        del values[name]
        values.update((f"{name}__{index}", item) for index, item in enumerate(items))
    return statement, values
