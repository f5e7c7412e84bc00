"""``indexer serve``: the read-only web view of the index."""

from __future__ import annotations

import asyncio

import click

from indexer.cli.context import CliContext, pass_cli

__all__ = ["serve_command"]


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(min=0, max=65535),
    default=8080,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@pass_cli
def serve_command(cli: CliContext, host: str, port: int) -> None:
    """A read-only web view of the index: HTML, and JSON with `Accept: application/json`.

    Pages: / (search, most depended-on bases), /r/REPOSITORY, /t/REPOSITORY:TAG, /runs.
    Runs until SIGINT or SIGTERM.
    """
    from indexer.web import serve  # noqa: PLC0415  (Jinja and the templates load only here)

    def ready(url: str) -> None:
        click.echo(f"serving {url} (Ctrl-C to stop)", err=True)

    asyncio.run(serve(cli.settings, host, port, ready=ready))
