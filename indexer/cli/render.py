"""Output helpers: JSON for ``--json``, rich tables for a terminal."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table

__all__ = ["echo_json", "print_table", "stdout_console"]


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout."""
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def stdout_console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def print_table(
    title: str | None,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    console: Console | None = None,
) -> None:
    """Print ``rows`` under ``columns``; plain text when stdout is not a terminal."""
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if value is None else str(value) for value in row))
    (console or stdout_console()).print(table)
