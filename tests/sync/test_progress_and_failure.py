"""The progress displays, the final summary, and a run that fails in the middle."""

from __future__ import annotations

import io
import logging
from collections import Counter
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy.exc import OperationalError

from indexer.replay import ReplayServer
from indexer.sync import LogProgress, RichProgress, SyncSummary, SyncTally, summary_lines
from indexer.upstream.http import RequestStats
from tests.sync.helpers import (
    MiniCorpus,
    execute,
    fresh_sqlite,
    query,
    replay_settings,
    sync_once,
)
from tests.sync.minis import write_app


def _summary() -> SyncSummary:
    tally = SyncTally(
        library_files_listed=3,
        library_files_to_read=2,
        library_files_fetched=2,
        dockerfiles_fetched=5,
        dockerfiles_missing=1,
        hub_pages=4,
        tags_added=12,
        errors=Counter({"not-found": 1}),
    )
    return SyncSummary(
        run_id=7,
        status="partial",
        library_commit="0123456789abcdef",
        library_unchanged=False,
        duration_seconds=2.5,
        tally=tally,
        requests={
            "requests": {"dockerfile": 6, "hub-tags": 4},
            "requests_total": 10,
            "retries": {},
            "bytes_received": 2_500_000,
        },
    )


def test_summary_lines_name_counts_errors_requests_bytes_and_duration() -> None:
    lines = summary_lines(_summary())
    text = "\n".join(lines)
    assert lines[0] == "sync run 7: partial in 2.5s"
    assert "errors: 1 (not-found 1)" in text
    assert "registry: 0 indexes and 0 layer manifests read, 0 left for the next run" in text
    assert "requests: 10 (dockerfile 6, hub-tags 4), 4.0/s" in text
    assert "2.50 MB received" in text
    assert "tags 12 added" in text


def test_log_progress_writes_plain_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="indexer.sync.progress")
    display = LogProgress(interval=5.0)
    stats = RequestStats()
    stats.requests["hub-tags"] = 3
    display.start(SyncTally(hub_pages=3), stats)
    display.refresh()
    display.stop()
    display.finish(_summary())
    assert caplog.messages[0].startswith("sync: library files 0/0")
    assert "tag pages 3" in caplog.messages[0]
    assert caplog.messages[1] == "sync run 7: partial in 2.5s"


def test_rich_progress_draws_a_live_table_on_a_terminal() -> None:
    output = io.StringIO()
    display = RichProgress(Console(file=output, force_terminal=True, width=120))
    display.start(SyncTally(library_files_to_read=4, library_files_written=1), RequestStats())
    display.refresh()
    display.stop()
    display.finish(_summary())
    text = output.getvalue()
    assert "library files" in text and "1/4 written" in text
    assert "sync run 7: partial" in text


@pytest.mark.asyncio
async def test_a_database_failure_fails_the_run_and_stops_the_stages(tmp_path: Path) -> None:
    corpus = MiniCorpus(tmp_path / "corpus", "only")
    write_app(corpus, "app")
    database_url = await fresh_sqlite(tmp_path)
    await execute(database_url, "DROP TABLE tag_history")  # every Hub page write now fails
    async with ReplayServer(tmp_path / "corpus", snapshot="only") as replay:
        with pytest.raises(OperationalError, match="tag_history"):
            await sync_once(replay_settings(replay, database_url))
    rows = await query(database_url, "SELECT status, message FROM sync_runs")
    assert len(rows) == 1
    status, message = rows[0]
    assert status == "failed"
    assert "tag_history" in message


def test_log_lines_go_through_the_live_display_and_back() -> None:
    """While the live table is up, a log line prints above it, not inside it."""
    terminal = io.StringIO()
    console = Console(file=terminal, force_terminal=True, width=100)
    root = logging.getLogger()
    original = logging.StreamHandler(terminal)
    original.setFormatter(logging.Formatter("LOG %(levelname)s %(message)s"))
    elsewhere = logging.StreamHandler(io.StringIO())
    root.addHandler(original)
    root.addHandler(elsewhere)
    try:
        display = RichProgress(console, interval=60)
        display.start(SyncTally(), RequestStats())
        assert original not in root.handlers
        assert elsewhere in root.handlers
        logging.getLogger("indexer.test").warning("a warning during the run")
        display.refresh()
        display.stop()
        assert original in root.handlers
        assert [type(h) for h in root.handlers].count(logging.StreamHandler) >= 2
        output = terminal.getvalue()
        assert output.count("LOG WARNING a warning during the run") == 1
        # the line was printed by the console: it ends before the next frame starts
        line_end = output.index("LOG WARNING a warning during the run")
        assert "library files" in output[line_end:]
    finally:
        root.removeHandler(original)
        root.removeHandler(elsewhere)


def test_without_a_terminal_handler_logging_is_left_alone() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    before = list(logging.getLogger().handlers)
    display = RichProgress(console, interval=60)
    display.start(SyncTally(), RequestStats())
    assert logging.getLogger().handlers == before
    display.stop()
    assert logging.getLogger().handlers == before
