"""``indexer health``: exit 0 when the index is kept up to date, else 1 with the reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from indexer.cli.context import CliContext, pass_cli
from indexer.cli.database import read_database
from indexer.cli.render import echo_json
from indexer.schedule.health import Health, check_health, parse_duration, schedule_period
from indexer.store.read import Reader

__all__ = ["health_command"]


def _max_age(value: str | None) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--max-age") from None


@click.command("health")
@click.option(
    "--max-age",
    metavar="DURATION",
    help="Oldest the last successful run may be: 90s, 30m, 36h, 2d "
    "(default: two periods of the schedule).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON on stdout.")
@pass_cli
def health_command(cli: CliContext, max_age: str | None, as_json: bool) -> None:
    """Exit 0 when the index is kept up to date, else 1 with the reason (for alerts).

    Healthy: the last finished run of the whole index is ok or partial, and the last
    successful one finished less than --max-age ago. `indexer sync --only` runs do
    not count. The database unreachable: exit 2.
    """
    settings = cli.settings
    age = _max_age(max_age) or 2 * schedule_period(settings.schedule, datetime.now(UTC))

    async def action(reader: Reader) -> Health:
        return await check_health(reader, max_age=age)

    health = read_database(settings, action)
    reason = " ".join(health.reason.split())
    if as_json:
        echo_json(health.as_dict())
    elif health.healthy:
        click.echo(f"healthy: {reason}")
    if not health.healthy:
        click.echo(f"indexer: unhealthy: {reason}", err=True)
        raise click.exceptions.Exit(1)
