"""Operation commands: migrate, sync, schedule, runs."""

from __future__ import annotations

import asyncio

import click

from indexer.cli.context import CliContext, pass_cli, run_with_database
from indexer.cli.render import echo_json, print_table
from indexer.store import queries
from indexer.store.db import Database
from indexer.store.migrate import upgrade

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
@click.option("--errors", "show_errors", is_flag=True, help="Also list each run's item errors.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_cli
def runs_command(cli: CliContext, limit: int, show_errors: bool, as_json: bool) -> None:
    """The latest sync runs with their counts and errors."""

    async def action(database: Database) -> list[dict[str, object]]:
        async with database.session() as session:
            runs = await queries.latest_runs(session, limit)
            result = []
            for run in runs:
                item: dict[str, object] = {
                    "id": run.id,
                    "started_at": run.started_at.isoformat(),
                    "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                    "status": run.status,
                    "library_files_fetched": run.library_files_fetched,
                    "dockerfiles_fetched": run.dockerfiles_fetched,
                    "tags_added": run.tags_added,
                    "tags_changed": run.tags_changed,
                    "tags_removed": run.tags_removed,
                    "parents_resolved": run.parents_resolved,
                    "parents_unresolved": run.parents_unresolved,
                    "errors": run.errors,
                    "requests": run.requests,
                    "message": run.message,
                }
                if show_errors or as_json:
                    item["error_items"] = [
                        {
                            "item_kind": e.item_kind,
                            "item": e.item,
                            "error_kind": e.error_kind,
                            "message": e.message,
                        }
                        for e in await queries.run_errors(session, run.id)
                    ]
                result.append(item)
            return result

    runs = asyncio.run(run_with_database(cli.settings, action))
    if as_json:
        echo_json(runs)
        return
    print_table(
        None,
        [
            "id",
            "started",
            "status",
            "files",
            "dockerfiles",
            "added",
            "changed",
            "removed",
            "errors",
        ],
        (
            (
                r["id"],
                r["started_at"],
                r["status"],
                r["library_files_fetched"],
                r["dockerfiles_fetched"],
                r["tags_added"],
                r["tags_changed"],
                r["tags_removed"],
                r["errors"],
            )
            for r in runs
        ),
    )
    if show_errors:
        for run in runs:
            for error in run.get("error_items") or []:  # type: ignore[attr-defined]
                click.echo(
                    f"run {run['id']}: {error['item_kind']} {error['item']}: {error['message']}"
                )


@click.command("sync")
@click.option(
    "--only", "only", multiple=True, metavar="NAME", help="Sync only this image (repeatable)."
)
@pass_cli
def sync_command(cli: CliContext, only: tuple[str, ...]) -> None:
    """One incremental sync of the official images (all, or the named ones)."""
    raise click.ClickException("`indexer sync` is not available in this build yet")


@click.command("schedule")
@pass_cli
def schedule_command(cli: CliContext) -> None:
    """Run in the foreground and sync on the configured cron schedule (default nightly)."""
    raise click.ClickException("`indexer schedule` is not available in this build yet")


COMMANDS = (migrate_command, sync_command, schedule_command, runs_command)
