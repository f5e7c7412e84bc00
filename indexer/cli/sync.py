"""``indexer sync``: one incremental sync under the single-run lock."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Sequence

import click

from indexer.cli.context import CliContext, pass_cli
from indexer.cli.database import run_with_database
from indexer.cli.render import echo_json
from indexer.schedule.runner import run_locked_sync
from indexer.settings import Settings
from indexer.store.db import Database
from indexer.sync import SyncSummary, progress_for, run_sync

__all__ = ["sync_command", "unknown_names_message"]


def unknown_names_message(summary: SyncSummary) -> str | None:
    """The error line for ``--only`` names the library does not list; ``None`` if all exist."""
    names = summary.tally.not_listed
    if not names:
        return None
    where = f" at {summary.library_commit[:12]}" if summary.library_commit else ""
    return (
        f"no official image named {', '.join(names)} in the library{where} "
        f"(recorded on sync run {summary.run_id}, status {summary.status})"
    )


@click.command("sync")
@click.option(
    "--only", "only", multiple=True, metavar="NAME", help="Sync only this image (repeatable)."
)
@click.option(
    "--full-reconcile",
    is_flag=True,
    default=False,
    help="Page every repository's Hub tags to the end and mark vanished tags removed.",
)
@click.option(
    "--concurrency", type=click.IntRange(min=1), help="Requests in flight (INDEXER_CONCURRENCY)."
)
@click.option(
    "--wait",
    is_flag=True,
    help="When another sync is running, wait for it to finish instead of exiting at once.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON on stdout.")
@pass_cli
def sync_command(
    cli: CliContext,
    only: tuple[str, ...],
    full_reconcile: bool,
    concurrency: int | None,
    wait: bool,
    as_json: bool,
) -> None:
    """One incremental sync of the official images (all, or the named ones).

    Errors on single items are recorded on the run and summarised; the exit status is
    0 when the run finishes (ok or partial), 1 when another sync holds the lock (unless
    --wait) or an --only name is not in the library, 2 when the database or an
    upstream is unreachable or more than max_item_error_share of the items were lost
    (the run is recorded failed). Ctrl-C (or SIGTERM) stops within seconds: no new
    request, those in flight get a few seconds, what was fetched is written, the run
    is recorded interrupted (exit 0); a second one cancels it (130).
    """
    settings = cli.with_overrides(concurrency=concurrency)

    async def action(database: Database) -> SyncSummary:
        return await _locked_sync(
            settings,
            database,
            only=only,
            full_reconcile=True if full_reconcile else None,
            wait=wait,
        )

    try:
        summary = asyncio.run(run_with_database(settings, action))
    except asyncio.CancelledError:
        click.echo("indexer: sync cancelled", err=True)
        raise click.exceptions.Exit(130) from None
    if as_json:
        echo_json(summary.as_dict())
    unknown = unknown_names_message(summary)
    if unknown is not None:
        raise click.ClickException(unknown)


async def _locked_sync(
    settings: Settings,
    database: Database,
    *,
    only: Sequence[str],
    full_reconcile: bool | None,
    wait: bool,
) -> SyncSummary:
    """One sync under the single-run lock; the first stop signal drains, the second cancels."""

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    task = asyncio.current_task()
    signals = 0

    def on_signal() -> None:
        nonlocal signals
        signals += 1
        if signals == 1:
            click.echo("indexer: stopping after the work in flight (again to cancel)", err=True)
            stop.set()
        elif task is not None:
            task.cancel()

    async def sync(
        settings: Settings,
        database: Database,
        *,
        only: Sequence[str],
        full_reconcile: bool | None,
        stop: asyncio.Event | None,
    ) -> SyncSummary:
        return await run_sync(
            settings,
            database,
            only=only,
            full_reconcile=full_reconcile,
            stop=stop,
            progress=progress_for(),
        )

    handled = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, on_signal)
            handled.append(signum)
    try:
        summary: SyncSummary = await run_locked_sync(
            settings,
            database,
            only=only,
            full_reconcile=full_reconcile,
            stop=stop,
            wait=wait,
            sync=sync,
        )
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
    return summary
