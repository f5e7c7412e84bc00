"""``indexer runs``: the latest sync runs with their counts and errors."""

from __future__ import annotations

import click

from indexer.cli import run_report
from indexer.cli.context import CliContext, pass_cli
from indexer.cli.database import read_database
from indexer.cli.render import echo_json, wide_option
from indexer.store.read import Reader

__all__ = ["runs_command"]


@click.command("runs")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="How many runs to list.",
)
@click.option(
    "--errors", "show_errors", is_flag=True, help="Also show each run's most frequent errors."
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print JSON (with up to 50 item errors per run)."
)
@wide_option
@pass_cli
def runs_command(cli: CliContext, limit: int, show_errors: bool, as_json: bool, wide: bool) -> None:
    """The latest sync runs: status, duration, counts, and errors by kind.

    Statuses: running, ok (no item errors), partial (some items failed; see
    --errors), failed (the run could not complete), interrupted (stopped by a
    signal, cancelled, or abandoned by a process that died).
    """

    async def action(reader: Reader) -> list[run_report.RunReport]:
        return await run_report.load_reports(
            reader, limit, with_items=as_json, top=10 if show_errors else 5
        )

    reports = read_database(cli.settings, action)
    if as_json:
        echo_json(run_report.reports_json(reports))
        return
    run_report.print_reports(reports, show_errors=show_errors, wide=wide)
