"""Query commands: show, children, explain, graph, history."""

from __future__ import annotations

import asyncio

import click

from indexer.cli.context import CliContext, pass_cli, run_with_database
from indexer.cli.render import echo_json, print_table, stdout_console
from indexer.store import queries
from indexer.store.db import Database
from indexer.store.queries import ChildRow, TagView

__all__ = ["COMMANDS"]

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def _print_show(view: TagView) -> None:
    console = stdout_console()
    console.print(f"[bold]{view.repository}:{view.tag}[/bold]")
    console.print(f"  canonical   {view.repository}:{view.canonical_tag or '-'}")
    console.print(f"  aliases     {', '.join(view.aliases) or '-'}")
    console.print(f"  shared tags {', '.join(view.shared_tags) or '-'}")
    console.print(f"  maintained  {'yes' if view.maintained else 'no'}")
    chain = " -> ".join(view.ancestors) or "-"
    console.print(f"  ancestors   {chain}")
    if view.ancestors_note:
        console.print(f"  note        {view.ancestors_note}")
    if view.hub:
        console.print(f"  digest      {view.hub['digest']}  (updated {view.hub['last_updated']})")
    print_table(
        None,
        ["architecture", "parent", "froms", "builder", "error"],
        (
            (p.architecture, p.parent or "-", ", ".join(p.froms or []), p.builder, p.error)
            for p in view.platforms
        ),
        console,
    )


@click.command("show")
@click.argument("ref")
@json_option
@pass_cli
def show_command(cli: CliContext, ref: str, as_json: bool) -> None:
    """One tag: canonical name, aliases, per-architecture parents, ancestors, Hub facts.

    REF is any form Docker accepts: python:3.12-slim, library/python:3.12-slim,
    docker.io/library/python:3.12-slim; a missing tag means latest.
    """

    async def action(database: Database) -> TagView:
        async with database.session() as session:
            return await queries.show_tag(session, ref)

    view = asyncio.run(run_with_database(cli.settings, action))
    if as_json:
        echo_json(view.as_json())
    else:
        _print_show(view)


@click.command("children")
@click.argument("ref")
@click.option("--recursive", is_flag=True, help="Also the tags built on those, transitively.")
@json_option
@pass_cli
def children_command(cli: CliContext, ref: str, recursive: bool, as_json: bool) -> None:
    """The tags built directly (or transitively) on REF."""

    async def action(database: Database) -> list[ChildRow]:
        async with database.session() as session:
            return await queries.children(session, ref, recursive=recursive)

    rows = asyncio.run(run_with_database(cli.settings, action))
    if as_json:
        echo_json([row.as_json() for row in rows])
        return
    print_table(
        None,
        ["depth", "image", "aliases", "architectures", "parent"],
        (
            (
                row.depth,
                f"{row.repository}:{row.tag}",
                ", ".join(row.aliases),
                ", ".join(row.architectures),
                row.parent,
            )
            for row in rows
        ),
    )


def _not_yet(name: str) -> None:
    raise click.ClickException(f"`indexer {name}` is not available in this build yet")


@click.command("explain")
@click.argument("ref")
@json_option
def explain_command(ref: str, as_json: bool) -> None:
    """What the tag is: aliases, base distribution and release, variant, C library, sizes, siblings."""
    _not_yet("explain")


@click.command("graph")
@click.argument("ref")
@click.option(
    "--format", "fmt", type=click.Choice(["dot", "mermaid"]), default="dot", show_default=True
)
@click.option(
    "--descendants", is_flag=True, help="Draw the images built on REF instead of its ancestors."
)
def graph_command(ref: str, fmt: str, descendants: bool) -> None:
    """The lineage as Graphviz DOT or Mermaid source."""
    _not_yet("graph")


@click.command("history")
@click.argument("ref")
@json_option
def history_command(ref: str, as_json: bool) -> None:
    """The digests the tag has pointed at, with first and last seen."""
    _not_yet("history")


COMMANDS = (show_command, children_command, explain_command, graph_command, history_command)
