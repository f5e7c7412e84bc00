"""Query commands: show, children, explain, history, stale (graph: :mod:`indexer.cli.graph`).

REF is any form Docker accepts for an official image (CONTRACT §2); every command
resolves it the same way (:func:`indexer.store.queries.resolve_tag`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, TypeVar

import click

from indexer.cli.context import CliContext, pass_cli
from indexer.cli.database import read_database
from indexer.cli.query_output import (
    print_children,
    print_explain,
    print_history,
    print_show,
    print_stale,
)
from indexer.cli.render import echo_json, wide_option
from indexer.lineage.history import parse_moment
from indexer.store import queries
from indexer.store.read import Reader

__all__ = [
    "REF_HELP",
    "children_command",
    "explain_command",
    "history_command",
    "json_option",
    "query",
    "show_command",
]

T = TypeVar("T")

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
REF_HELP = (
    "REF is any form Docker accepts: python:3.12-slim, library/python:3.12-slim, "
    "docker.io/library/python:3.12-slim; a missing tag means latest."
)


def query(cli: CliContext, read: Callable[[Reader], Coroutine[Any, Any, T]]) -> T:
    """Run one read-only query on the configured database and answer its result."""
    return read_database(cli.settings, read)


@click.command("show", epilog=REF_HELP)
@click.argument("ref")
@json_option
@wide_option
@pass_cli
def show_command(cli: CliContext, ref: str, as_json: bool, wide: bool) -> None:
    """One tag: canonical name, aliases, per-architecture parents, ancestors, Hub facts."""
    view = query(cli, lambda reader: queries.show_tag(reader, ref))
    if as_json:
        echo_json(view.as_json())
    else:
        print_show(view, wide=wide)


@click.command("children", epilog=REF_HELP)
@click.argument("ref")
@click.option("--recursive", is_flag=True, help="Also the tags built on those, transitively.")
@json_option
@wide_option
@pass_cli
def children_command(cli: CliContext, ref: str, recursive: bool, as_json: bool, wide: bool) -> None:
    """The tags built directly (or transitively) on REF."""
    rows = query(cli, lambda reader: queries.children(reader, ref, recursive=recursive))
    if as_json:
        echo_json([row.as_json() for row in rows])
    else:
        print_children(rows, wide=wide)


@click.command("explain", epilog=REF_HELP)
@click.argument("ref")
@json_option
@wide_option
@pass_cli
def explain_command(cli: CliContext, ref: str, as_json: bool, wide: bool) -> None:
    """What the tag is: aliases, base distribution and release, variant, C library, sizes, siblings."""
    view = query(cli, lambda reader: queries.explain_tag(reader, ref))
    if as_json:
        echo_json(view.as_json())
    else:
        print_explain(view, wide=wide)


def _moment(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_moment(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("history", epilog=REF_HELP)
@click.argument("ref")
@click.option(
    "--at",
    "at",
    callback=_moment,
    metavar="DATE",
    help="Also answer which digest the tag pointed at then (ISO date or date-time, UTC).",
)
@json_option
@wide_option
@pass_cli
def history_command(
    cli: CliContext, ref: str, at: datetime | None, as_json: bool, wide: bool
) -> None:
    """The digests the tag has pointed at, with first and last seen."""
    view = query(cli, lambda reader: queries.tag_history(reader, ref, at=at))
    if as_json:
        echo_json(view.as_json())
    else:
        print_history(view, wide=wide)


@click.command("stale", epilog=REF_HELP)
@click.option("--base", "base", metavar="REF", help="Only images on this base (any of its tags).")
@json_option
@wide_option
@pass_cli
def stale_command(cli: CliContext, base: str | None, as_json: bool, wide: bool) -> None:
    """Images on a base build that is no longer the base tag's current one, oldest first.

    Each row is a published image (tag and architecture) whose registry annotations
    name a base digest the base tag has moved off, with the date it moved.
    """
    rows = query(cli, lambda reader: queries.stale_images(reader, base))
    if as_json:
        echo_json([row.as_json() for row in rows])
    else:
        print_stale(rows, wide=wide)
