"""``indexer schedule``: run in the foreground and sync on the cron schedule."""

from __future__ import annotations

import asyncio

import click

from indexer.cli.context import CliContext, pass_cli
from indexer.schedule import production_sync, run_schedule

__all__ = ["schedule_command"]


@click.command("schedule")
@click.option(
    "--run-now",
    is_flag=True,
    help="Also run one sync at start (as run_at_start = true does).",
)
@pass_cli
def schedule_command(cli: CliContext, run_now: bool) -> None:
    """Run in the foreground and sync on the configured cron schedule (default nightly).

    The schedule (INDEXER_SCHEDULE) is a 5-field crontab read in UTC. One sync runs
    at a time, here and across machines; a fire time that finds a sync running is
    skipped. SIGTERM or Ctrl-C lets the running sync finish its batch and record
    itself as interrupted (exit 0); a second signal cancels it (exit 130).
    """
    settings = cli.settings
    try:
        sync = production_sync()
    except ModuleNotFoundError as exc:
        raise click.ClickException(f"the sync pipeline is not available: {exc}") from None
    status = asyncio.run(
        run_schedule(settings, sync=sync, run_now=run_now or settings.run_at_start)
    )
    if status:
        raise click.exceptions.Exit(status)
