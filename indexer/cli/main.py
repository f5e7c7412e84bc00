"""The ``indexer`` command line (CONTRACT §2).

Exit status: 0 success; 1 not found or usage error (message on stderr); 2 a
fatal error (database or upstream unreachable, invalid configuration).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from indexer.cli import operations, queries
from indexer.cli.context import CliContext
from indexer.cli.replay import replay_command
from indexer.errors import (
    ConfigError,
    DatabaseUnavailableError,
    ImageReferenceError,
    IndexerError,
    NotIndexedError,
    SyncLockedError,
    UpstreamError,
)
from indexer.process import freeze_startup_objects

__all__ = ["cli", "main"]

EXIT_OK = 0
EXIT_NOT_FOUND = 1
EXIT_FATAL = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML settings file (default: $INDEXER_CONFIG or config/indexer.toml).",
)
@click.option("--database-url", help="Database URL (overrides INDEXER_DATABASE_URL).")
@click.option("--log-level", help="DEBUG, INFO, WARNING or ERROR (default INFO).")
@click.version_option(package_name="indexer")
@click.pass_context
def cli(
    ctx: click.Context, config_path: Path | None, database_url: str | None, log_level: str | None
) -> None:
    """What is this Docker official image really built on? A lineage index of every tag."""
    ctx.obj = CliContext(
        config_path=config_path,
        overrides={"database_url": database_url, "log_level": log_level},
    )


for _command in (*operations.COMMANDS, *queries.COMMANDS, replay_command):
    cli.add_command(_command)


def _fail(message: str, status: int) -> int:
    click.echo(f"indexer: {message}", err=True)
    return status


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if argv is None:  # the program itself, not a caller that runs commands in its process
        freeze_startup_objects()
    try:
        # without standalone mode click answers a command's ctx.exit(N) / Exit(N) as N
        status = cli.main(args=argv, prog_name="indexer", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        return _fail("aborted", EXIT_FATAL)
    except click.UsageError as exc:
        hint = f"\n{exc.ctx.get_usage()}" if exc.ctx is not None else ""
        return _fail(f"{exc.format_message()}{hint}", EXIT_NOT_FOUND)
    except click.ClickException as exc:
        return _fail(exc.format_message(), EXIT_NOT_FOUND)
    except (NotIndexedError, ImageReferenceError, SyncLockedError) as exc:
        return _fail(str(exc), EXIT_NOT_FOUND)
    except (DatabaseUnavailableError, ConfigError, UpstreamError) as exc:
        return _fail(str(exc), EXIT_FATAL)
    except IndexerError as exc:
        return _fail(str(exc), EXIT_FATAL)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return _fail(
            f"database error: {reason} (is the schema current? run `indexer migrate`)", EXIT_FATAL
        )
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    return status if isinstance(status, int) else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
