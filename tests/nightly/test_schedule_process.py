"""The scheduler entry point as a real process: SIGTERM drains, a second signal cancels."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
from typing import Any

from click.testing import CliRunner
from sqlalchemy.engine import make_url

from indexer.cli.main import cli
from indexer.schedule import EXIT_CANCELLED
from indexer.store.audit import CANCELLED_MESSAGE
from tests.nightly.fakes import STOPPED_MESSAGE
from tests.nightly.processes import finish, kill_all, start_module, wait_until

ENTRY = "tests.nightly.schedule_entry"


def _runs(url: str) -> list[dict[str, Any]]:
    path = make_url(url).database
    assert path is not None
    with sqlite3.connect(path, timeout=5) as connection:
        connection.row_factory = sqlite3.Row
        rows = connection.execute("SELECT * FROM sync_runs ORDER BY id").fetchall()
    return [dict(row) for row in rows]


def _batches(url: str) -> dict[str, int]:
    runs = _runs(url)
    return json.loads(runs[0]["requests"]) if runs and runs[0]["requests"] else {}


def _start(url: str, *args: str) -> subprocess.Popen[str]:
    process = start_module(ENTRY, url, *args)
    # running, and inside its second batch
    wait_until(lambda: _batches(url).get("batches_started", 0) >= 2 or process.poll() is not None)
    assert process.poll() is None, finish(process)
    return process


def test_sigterm_finishes_the_batch_records_interrupted_and_exits_0(sqlite_url: str) -> None:
    url = sqlite_url
    process = _start(url, "--batches", "50", "--batch-seconds", "0.3")
    try:
        process.send_signal(signal.SIGTERM)
        status, _, stderr = finish(process, timeout=10)
    finally:
        kill_all([process])
    assert status == 0, stderr
    (run,) = _runs(url)
    assert run["status"] == "interrupted"
    assert run["message"] == STOPPED_MESSAGE
    batches = json.loads(run["requests"])
    assert batches["batches_started"] == batches["batches_done"] == run["tags_added"] >= 2
    assert run["tags_added"] < 50
    assert "SIGTERM: finishing the current batch" in stderr
    assert "sync run 1 ended: interrupted" in stderr
    assert "Traceback" not in stderr


def test_second_signal_cancels_the_run_and_exits_130(sqlite_url: str) -> None:
    url = sqlite_url
    process = _start(url, "--batches", "50", "--batch-seconds", "0.3", "--ignore-stop")
    try:
        process.send_signal(signal.SIGTERM)
        wait_until(lambda: _batches(url).get("batches_started", 0) >= 3)
        assert process.poll() is None  # this fake ignores the stop event: still running
        process.send_signal(signal.SIGINT)
        status, _, stderr = finish(process, timeout=10)
    finally:
        kill_all([process])
    assert status == EXIT_CANCELLED, stderr
    (run,) = _runs(url)
    assert run["status"] == "interrupted"
    assert run["message"] == CANCELLED_MESSAGE
    assert "SIGINT again: cancelling the running sync" in stderr


def test_schedule_command_help() -> None:
    result = CliRunner().invoke(cli, ["schedule", "--help"])
    assert result.exit_code == 0
    assert "--run-now" in result.output
    assert "UTC" in result.output
