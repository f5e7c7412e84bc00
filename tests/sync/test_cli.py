"""``indexer sync`` from the command line: exit status and what it records."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from indexer.cli.main import main
from indexer.replay import ReplayServer
from tests.databases import migrated_sqlite_url
from tests.sync.helpers import MiniCorpus, query
from tests.sync.minis import write_app


@contextmanager
def replay_thread(corpus_dir: Path, snapshot: str) -> Iterator[ReplayServer]:
    """A replay server on a loop of its own thread (the CLI runs its own event loop)."""
    started = threading.Event()
    holder: dict[str, object] = {}

    async def serve() -> None:
        stop = asyncio.Event()
        holder["stop"], holder["loop"] = stop, asyncio.get_running_loop()
        async with ReplayServer(corpus_dir, snapshot=snapshot) as server:
            holder["server"] = server
            started.set()
            await stop.wait()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(10)
    try:
        server = holder["server"]
        assert isinstance(server, ReplayServer)
        yield server
    finally:
        loop = holder["loop"]
        stop = holder["stop"]
        assert isinstance(loop, asyncio.AbstractEventLoop) and isinstance(stop, asyncio.Event)
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)


def run_status(database_url: str) -> list[tuple[object, ...]]:
    return asyncio.run(query(database_url, "SELECT status, errors FROM v_sync_runs ORDER BY id"))


def test_sync_exits_0_and_prints_its_summary(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="indexer.sync.progress")
    corpus = MiniCorpus(tmp_path / "corpus", "only")
    write_app(corpus, "app")
    database_url = migrated_sqlite_url(tmp_path)
    with replay_thread(tmp_path / "corpus", "only") as replay:
        for name, value in replay.env().items():
            monkeypatch.setenv(name, value)
        status = main(["--database-url", database_url, "sync", "--only", "app", "--json"])
    captured = capsys.readouterr()
    assert status == 0
    summary = json.loads(captured.out)
    assert summary["status"] == "ok"
    assert summary["counts"]["library_files_fetched"] == 1
    # not on a terminal: the final summary as log lines
    assert any(message.startswith("sync run 1: ok") for message in caplog.messages)
    assert run_status(database_url) == [("ok", 0)]


def test_sync_exits_0_with_item_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = MiniCorpus(tmp_path / "corpus", "only")
    write_app(corpus, "app")
    (
        tmp_path / "corpus" / "dockerfiles" / "example" / "app" / ("a" * 40) / "1" / "Dockerfile"
    ).unlink()
    database_url = migrated_sqlite_url(tmp_path)
    with replay_thread(tmp_path / "corpus", "only") as replay:
        for name, value in replay.env().items():
            monkeypatch.setenv(name, value)
        status = main(["--database-url", database_url, "sync"])
    assert status == 0
    assert run_status(database_url) == [("partial", 1)]


def test_sync_exits_2_when_the_upstream_is_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database_url = migrated_sqlite_url(tmp_path)
    monkeypatch.setenv("INDEXER_GITHUB_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("INDEXER_MAX_TRIES", "1")
    status = main(["--database-url", database_url, "sync"])
    assert status == 2
    assert "connection failed" in capsys.readouterr().err
    assert run_status(database_url) == [("failed", 0)]


def test_sync_exits_2_when_the_database_is_unreachable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["--database-url", "postgresql+asyncpg://nobody:secret@127.0.0.1:9/none", "sync"])
    assert status == 2
    err = capsys.readouterr().err
    assert "cannot connect" in err and "secret" not in err


def test_sync_refuses_while_locked_and_waits_with_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.nightly.processes import finish, kill_all, read_line, start_module

    corpus = MiniCorpus(tmp_path / "corpus", "only")
    write_app(corpus, "app")
    database_url = migrated_sqlite_url(tmp_path)
    holder = start_module("tests.nightly.hold_lock", database_url, "--hold", "1.5")
    try:
        assert read_line(holder) == "locked"
        with replay_thread(tmp_path / "corpus", "only") as replay:
            for name, value in replay.env().items():
                monkeypatch.setenv(name, value)
            refused = main(["--database-url", database_url, "sync", "--only", "app"])
            refused_err = capsys.readouterr().err
            waited = main(["--database-url", database_url, "sync", "--only", "app", "--wait"])
        assert finish(holder)[0] == 0
    finally:
        kill_all([holder])
    assert refused == 1
    assert "another sync is running" in refused_err
    assert waited == 0
    assert run_status(database_url) == [("ok", 0)]
