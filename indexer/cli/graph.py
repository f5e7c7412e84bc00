"""``indexer graph REF``: the lineage as Graphviz DOT or Mermaid source."""

from __future__ import annotations

import click

from indexer.cli.context import CliContext, pass_cli
from indexer.cli.queries import REF_HELP, json_option, query
from indexer.cli.query_output import graph_json
from indexer.cli.render import echo_json
from indexer.lineage.dot import to_dot
from indexer.lineage.mermaid import to_mermaid
from indexer.store import queries

__all__ = ["graph_command"]


@click.command("graph", epilog=REF_HELP)
@click.argument("ref")
@click.option(
    "--format", "fmt", type=click.Choice(["dot", "mermaid"]), default="dot", show_default=True
)
@click.option(
    "--descendants", is_flag=True, help="Draw the images built on REF instead of its ancestors."
)
@json_option
@pass_cli
def graph_command(cli: CliContext, ref: str, fmt: str, descendants: bool, as_json: bool) -> None:
    """The lineage as Graphviz DOT or Mermaid source (aliases folded into one node)."""
    graph = query(cli, lambda reader: queries.lineage_graph(reader, ref, descendants=descendants))
    if as_json:
        echo_json(graph_json(graph))
    elif fmt == "mermaid":
        click.echo(to_mermaid(graph), nl=False)
    else:
        click.echo(to_dot(graph), nl=False)
