"""The ``indexer`` command line (CONTRACT §2).

Exit status: 0 success; 1 not found or usage error; 2 a fatal error (database or
upstream unreachable, invalid configuration). Every error is one line on stderr
starting with ``indexer:``, never a traceback.

Commands load lazily: :data:`COMMANDS` names each one's module, imported only when
that command runs, so ``indexer show`` starts without the sync pipeline, Alembic or
aiohttp (and, reading through :mod:`indexer.store.read`, without SQLAlchemy). **Adding a command is one line in** :data:`COMMANDS`; keep the command
module's own imports to what the command needs. This module imports only click
and the light :mod:`indexer.errors`.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from indexer.cli.context import CliContext
from indexer.cli.lazy import LazyGroup
from indexer.errors import ImageReferenceError, IndexerError, NotIndexedError, SyncLockedError
from indexer.process import freeze_startup_objects

__all__ = ["COMMANDS", "EXIT_FATAL", "EXIT_NOT_FOUND", "EXIT_OK", "cli", "main"]

EXIT_OK = 0
EXIT_NOT_FOUND = 1
EXIT_FATAL = 2
#: stopped by Ctrl-C (128 + SIGINT, as shells report it)
EXIT_INTERRUPTED = 130

#: every command: its name and the ``module:attribute`` of its click command
COMMANDS = {
    "children": "indexer.cli.queries:children_command",
    "completion": "indexer.cli.completion:completion_command",
    "explain": "indexer.cli.queries:explain_command",
    "graph": "indexer.cli.graph:graph_command",
    "health": "indexer.cli.health:health_command",
    "history": "indexer.cli.queries:history_command",
    "migrate": "indexer.cli.migrate:migrate_command",
    "replay": "indexer.cli.replay:replay_command",
    "runs": "indexer.cli.runs:runs_command",
    "schedule": "indexer.cli.schedule:schedule_command",
    "serve": "indexer.cli.serve:serve_command",
    "show": "indexer.cli.queries:show_command",
    "stale": "indexer.cli.queries:stale_command",
    "sync": "indexer.cli.sync:sync_command",
}

#: deliberate errors that mean "not found" or "not now" (exit 1); every other is fatal (2)
NOT_FOUND_ERRORS = (NotIndexedError, ImageReferenceError, SyncLockedError)


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
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


def _fail(message: str, status: int) -> int:
    """Print ``indexer: message`` as one line on stderr and answer ``status``."""
    line = " ".join(message.split())
    click.echo(f"indexer: {line}", err=True)
    return status


def _usage_message(exc: click.UsageError) -> str:
    """The usage error in one line, with where to read more."""
    message = exc.format_message()
    ctx = exc.ctx
    if isinstance(exc, click.NoSuchOption) and ctx is not None and ctx.parent is not None:
        group_options = {name for param in cli.params for name in param.opts}
        if exc.option_name in group_options:
            return (
                f"{exc.option_name} is an option of indexer itself: put it before the "
                f"command (indexer {exc.option_name} ... {ctx.info_name} ...)"
            )
    path = ctx.command_path if ctx is not None else "indexer"
    return f"{message.rstrip('.')}. See '{path} --help'."


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if argv is None:  # the program itself, not a caller that runs commands in its process
        # what the command's module imported lives as long as the process: out of the
        # garbage collector's walks once it is loaded
        cli.on_load = freeze_startup_objects
    try:
        # without standalone mode click answers a command's ctx.exit(N) / Exit(N) as N
        status = cli.main(args=argv, prog_name="indexer", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:  # plain `indexer`: the help
        click.echo(exc.ctx.get_help() if exc.ctx is not None else cli.get_help(click.Context(cli)))
        return EXIT_OK
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:  # Ctrl-C, as click reports it
        return _fail("interrupted", EXIT_INTERRUPTED)
    except click.UsageError as exc:
        return _fail(_usage_message(exc), EXIT_NOT_FOUND)
    except click.ClickException as exc:
        return _fail(exc.format_message(), EXIT_NOT_FOUND)
    except NOT_FOUND_ERRORS as exc:
        return _fail(str(exc), EXIT_NOT_FOUND)
    except IndexerError as exc:
        return _fail(str(exc), EXIT_FATAL)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    return status if isinstance(status, int) else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
