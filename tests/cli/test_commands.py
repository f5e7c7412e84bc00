"""The command registry: every command loads on demand and lists without loading."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import click
import pytest

from indexer.cli.lazy import docstring_of
from indexer.cli.main import COMMANDS, cli, main
from tests.corpus import PROJECT_ROOT
from tests.queries.lineage_fixture import load_lineage_graph

#: what `indexer --help`, `show`, `children` and `explain` must not load
HEAVY_MODULES = (
    "aiohttp",
    "alembic",
    "apscheduler",
    "rich",
    "indexer.sync",
    "indexer.upstream",
    "indexer.replay",
)


#: what the read commands must not load: the engine, the ORM models, the async SQLite driver
ENGINE_MODULES = ("sqlalchemy", "aiosqlite", "indexer.store.models", "indexer.store.db")

#: the read commands, each with arguments the lineage graph answers
READ_COMMANDS = (
    ("show", "python:3.12-slim"),
    ("children", "debian:bookworm", "--recursive"),
    ("explain", "python:3.12-slim"),
    ("history", "python:3.12-slim"),
    ("graph", "python:3.12-slim"),
    ("stale",),
    ("runs",),
    ("health", "--max-age", "1d"),
)


def _loaded_after(*args: str, database_url: str = "sqlite+aiosqlite:///:memory:") -> set[str]:
    """The modules loaded in a fresh interpreter after ``indexer ARGS`` (any exit status)."""
    script = (
        "import json, sys\n"
        "from indexer.cli.main import main\n"
        "status = main(sys.argv[1:])\n"
        "print(json.dumps([status, sorted(sys.modules)]))\n"
    )
    env = {**os.environ, "INDEXER_DATABASE_URL": database_url}
    result = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
        env=env,
    )
    status, loaded = json.loads(result.stdout.strip().splitlines()[-1])
    # 0, or 1 for a verdict (health of an index never synced); never a fatal error
    assert status in (0, 1) or database_url.endswith(":memory:"), (args, result.stderr)
    return set(loaded)


def test_every_registered_command_loads_under_its_name() -> None:
    ctx = click.Context(cli, info_name="indexer")
    assert cli.list_commands(ctx) == sorted(COMMANDS)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert isinstance(command, click.Command), name
        assert command.name == name


def test_help_summaries_read_from_source_match_the_commands() -> None:
    ctx = click.Context(cli, info_name="indexer")
    for name, target in COMMANDS.items():
        doc = docstring_of(target)
        assert doc is not None, target
        command = cli.get_command(ctx, name)
        assert command is not None
        assert click.Command(name, help=doc).get_short_help_str(60) == (
            command.get_short_help_str(60)
        )


def test_help_and_queries_do_not_load_the_sync_machinery() -> None:
    for args in (["--help"], ["show", "python"], ["children", "python"], ["explain", "python"]):
        loaded = _loaded_after(*args)
        heavy = sorted(
            name
            for name in loaded
            if any(name == prefix or name.startswith(f"{prefix}.") for prefix in HEAVY_MODULES)
        )
        assert heavy == [], (args, heavy)
    assert "sqlalchemy" not in _loaded_after("--help")


def test_read_commands_answer_without_sqlalchemy(database_url: str) -> None:
    """The read commands answer on a small index without the engine or the ORM (their
    start-up); on SQLite without asyncio either (its reads are driven without a loop)."""
    load_lineage_graph(database_url)
    for args in READ_COMMANDS:
        loaded = _loaded_after(*args, database_url=database_url)
        engine = sorted(
            name
            for name in loaded
            if any(name == prefix or name.startswith(f"{prefix}.") for prefix in ENGINE_MODULES)
        )
        assert engine == [], (args, engine)
        assert ("asyncio" in loaded) == database_url.startswith("postgresql"), args
    # each query command loads its own query module, not the others'
    loaded = _loaded_after("show", "python:3.12-slim", database_url=database_url)
    assert "indexer.store.queries.show" in loaded
    assert "indexer.store.queries.explain" not in loaded
    assert "indexer.lineage.dot" not in loaded


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(shell: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", shell]) == 0
    assert "_INDEXER_COMPLETE" in capsys.readouterr().out


def test_completion_completes_lazy_commands_and_their_options(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("_INDEXER_COMPLETE", "bash_complete")
    monkeypatch.setenv("COMP_WORDS", "indexer sh")
    monkeypatch.setenv("COMP_CWORD", "1")
    with pytest.raises(SystemExit) as done:
        main([])
    assert done.value.code == 0
    assert capsys.readouterr().out.split() == ["plain,show"]
    monkeypatch.setenv("COMP_WORDS", "indexer show python --w")
    monkeypatch.setenv("COMP_CWORD", "3")
    with pytest.raises(SystemExit):
        main([])
    assert capsys.readouterr().out.split() == ["plain,--wide"]
