"""``indexer migrate``: bring the database schema to the newest revision, and say what it did."""

from __future__ import annotations

import asyncio

import click

from indexer.cli.context import CliContext, pass_cli
from indexer.cli.database import run_with_database
from indexer.store.db import Database
from indexer.store.migrate import MigrationResult, upgrade

__all__ = ["migrate_command", "migration_message"]


def migration_message(result: MigrationResult) -> str:
    """``database schema upgraded from 0004 to 0006 (2 revisions)``, or ``already at 0006``."""
    if not result.applied:
        return f"database schema already at revision {result.after} (the newest)"
    start = "an empty database" if result.before is None else f"revision {result.before}"
    count = len(result.applied)
    return (
        f"database schema upgraded from {start} to revision {result.after} "
        f"({count} revision{'s' if count != 1 else ''}: {', '.join(result.applied)})"
    )


@click.command("migrate")
@pass_cli
def migrate_command(cli: CliContext) -> None:
    """Bring the database schema to the newest Alembic revision."""
    settings = cli.settings

    async def action(database: Database) -> MigrationResult:
        return await upgrade(settings.database_url)

    result = asyncio.run(run_with_database(settings, action))
    click.echo(migration_message(result), err=True)
