"""Operation commands: migrate, sync, schedule, runs, serve."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Sequence

import click
from sqlalchemy.exc import SQLAlchemyError

from indexer.cli import run_report
from indexer.cli.context import CliContext, pass_cli, run_with_database
from indexer.cli.render import echo_json
from indexer.errors import StoreError
from indexer.schedule.runner import run_locked_sync
from indexer.settings import Settings
from indexer.store.db import Database
from indexer.store.migrate import upgrade
from indexer.sync import SyncSummary, progress_for, run_sync

__all__ = ["COMMANDS"]


@click.command("migrate")
@pass_cli
def migrate_command(cli: CliContext) -> None:
    """Bring the database schema to the newest Alembic revision."""
    settings = cli.settings

    async def action(database: Database) -> None:
        await upgrade(settings.database_url)

    asyncio.run(run_with_database(settings, action))
    click.echo("database schema is up to date", err=True)


@click.command("runs")
@click.option("--limit", default=20, show_default=True, help="How many runs to list.")
@click.option(
    "--errors", "show_errors", is_flag=True, help="Also show each run's most frequent errors."
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print JSON (with up to 50 item errors per run)."
)
@pass_cli
def runs_command(cli: CliContext, limit: int, show_errors: bool, as_json: bool) -> None:
    """The latest sync runs: status, duration, counts, and errors by kind.

    Statuses: running, ok (no item errors), partial (some items failed; see
    --errors), failed (the run could not complete), interrupted (stopped by a
    signal, cancelled, or abandoned by a process that died).
    """

    async def action(database: Database) -> list[run_report.RunReport]:
        return await run_report.load_reports(
            database, limit, with_items=as_json, top=10 if show_errors else 5
        )

    reports = asyncio.run(run_with_database(cli.settings, action))
    if as_json:
        echo_json(run_report.reports_json(reports))
        return
    run_report.print_reports(reports, show_errors=show_errors)


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
    0 whenever the run finishes, 1 when another sync holds the lock (unless --wait), 2 when the
    database or the upstream is unreachable. Ctrl-C (or SIGTERM) lets the work in
    flight finish and records the run as interrupted; a second one cancels it (130).
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
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise StoreError(f"database error during the sync: {reason}") from exc
    if as_json:
        echo_json(summary.as_dict())


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
    # imported here: APScheduler and the pipeline load only for this command
    from indexer.schedule import production_sync, run_schedule  # noqa: PLC0415

    settings = cli.settings
    try:
        sync = production_sync()
    except ModuleNotFoundError as exc:
        raise click.ClickException(f"the sync pipeline is not available: {exc}") from None
    status = asyncio.run(
        run_schedule(settings, sync=sync, run_now=run_now or settings.run_at_start)
    )
    if status:
        click.get_current_context().exit(status)


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
    # imported here: the web view (Jinja, its templates) loads only for this command
    from indexer.web import serve  # noqa: PLC0415

    def ready(url: str) -> None:
        click.echo(f"serving {url} (Ctrl-C to stop)", err=True)

    asyncio.run(serve(cli.settings, host, port, ready=ready))


COMMANDS = (migrate_command, sync_command, schedule_command, runs_command, serve_command)
