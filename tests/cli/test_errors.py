"""Every mistake a user can make answers with the contract's exit status and one line.

CONTRACT §2: 0 success; 1 not found or usage error; 2 fatal (database or upstream
unreachable, invalid configuration). The message is one line on stderr starting
with ``indexer:``, never a traceback.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer.cli.main import main
from tests.databases import fetch_rows, migrated_sqlite_url
from tests.sync.helpers import MiniCorpus
from tests.sync.minis import write_app
from tests.sync.test_cli import replay_thread


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_line(err: str) -> str:
    """The single error line of ``err`` (failing when there are more, or a traceback)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("indexer: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def mini_corpus(tmp_path: Path) -> Path:
    corpus = MiniCorpus(tmp_path / "corpus", "only")
    write_app(corpus, "app")
    return tmp_path / "corpus"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return migrated_sqlite_url(tmp_path)


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port some other socket already listens on."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_replay_of_a_missing_folder_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "replay", str(tmp_path / "nowhere"))
    assert status == 1
    assert "not a corpus folder" in one_line(err)


def test_replay_of_an_unknown_snapshot_is_a_usage_error(
    mini_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "replay", str(mini_corpus), "--snapshot", "nope")
    assert status == 1
    assert "unknown snapshot" in one_line(err)


def test_replay_on_a_busy_port_is_fatal(
    mini_corpus: Path, busy_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(
        capsys, "replay", str(mini_corpus), "--snapshot", "only", "--port", str(busy_port)
    )
    assert status == 2
    assert f"cannot serve on 127.0.0.1:{busy_port}" in one_line(err)


@pytest.mark.parametrize("only", [["nosuchimage"], ["app", "nosuchimage"]])
def test_sync_of_an_image_not_in_the_library_is_not_found(
    only: list[str],
    mini_corpus: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with replay_thread(mini_corpus, "only") as replay:
        for name, value in replay.env().items():
            monkeypatch.setenv(name, value)
        arguments = [f"--only={name}" for name in only]
        status, _, err = run(capsys, "--database-url", database_url, "sync", *arguments)
    assert status == 1
    assert "no official image named nosuchimage in the library" in one_line(err)
    # the run is recorded, and the names that do exist were synced
    runs = asyncio.run(fetch_rows(database_url, "SELECT status, errors FROM v_sync_runs"))
    assert runs == [("partial", 1)]
    count = "SELECT COUNT(*) FROM v_tags WHERE repository = 'app'"
    assert asyncio.run(fetch_rows(database_url, count)) == [(7 if "app" in only else 0,)]


@pytest.mark.parametrize(
    "url",
    [
        "mysql://user@127.0.0.1/indexer",
        "postgresql+psycopg://user@127.0.0.1/indexer",
        "postgresql+psycopg2://user@127.0.0.1/indexer",
        "oracle://user@127.0.0.1/indexer",
    ],
)
@pytest.mark.parametrize("command", [["show", "python"], ["migrate"], ["runs"]])
def test_database_url_of_a_driver_not_installed_is_invalid_configuration(
    url: str, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "--database-url", url, *command)
    assert status == 2
    line = one_line(err)
    assert "database_url" in line and "unsupported database" in line


def test_runs_limit_must_be_positive(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    for limit in ("-1", "0"):
        status, _, err = run(capsys, "--database-url", sqlite_url, "runs", "--limit", limit)
        assert status == 1
        assert "--limit" in one_line(err)


def test_missing_config_file_names_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INDEXER_CONFIG", raising=False)
    status, _, err = run(capsys, "--config", str(tmp_path / "missing.toml"), "runs")
    assert status == 2
    line = one_line(err)
    assert "--config" in line and "missing.toml" in line
    assert "INDEXER_CONFIG" not in line


def test_missing_file_named_by_the_variable_names_the_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INDEXER_CONFIG", str(tmp_path / "missing.toml"))
    status, _, err = run(capsys, "runs")
    assert status == 2
    assert "INDEXER_CONFIG" in one_line(err)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["nosuch"], "No such command 'nosuch'"),
        (["show"], "Missing argument 'REF'"),
        (["show", "python", "--database-url", "x"], "put it before the command"),
        (["graph", "python", "--format", "png"], "'--format'"),
        (["history", "python", "--at", "yesterday"], "'--at'"),
        (["completion", "tcsh"], "'tcsh'"),
    ],
)
def test_usage_errors_are_one_line_with_status_1(
    args: list[str], expected: str, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "--database-url", sqlite_url, *args)
    assert status == 1
    assert expected in one_line(err)


def test_no_arguments_prints_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys)
    assert status == 0
    assert "Commands:" in out and "show" in out
    assert err == ""


def test_unknown_tag_is_not_found(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("show", "children", "explain", "history", "graph"):
        status, _, err = run(capsys, "--database-url", database_url, command, "nosuch:1.0")
        assert status == 1, command
        one_line(err)


def test_query_on_a_database_never_migrated_is_fatal(
    empty_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (["show", "python"], ["runs"]):
        status, _, err = run(capsys, "--database-url", empty_database_url, *command)
        assert status == 2
        assert "indexer migrate" in one_line(err)


def test_unreachable_database_is_fatal(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql+asyncpg://nobody:secret@127.0.0.1:9/none"
    for command in (["show", "python"], ["migrate"], ["runs"]):
        status, _, err = run(capsys, "--database-url", url, *command)
        assert status == 2
        line = one_line(err)
        assert "cannot connect" in line and "secret" not in line


def test_queries_on_a_missing_sqlite_file_leave_nothing_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "never-made.db"
    for command in (["show", "python"], ["children", "debian"], ["runs"]):
        status, _, err = run(capsys, "--database-url", f"sqlite:///{path}", *command)
        assert status == 2
        assert f"no database at {path}" in one_line(err)
    assert not path.exists()
