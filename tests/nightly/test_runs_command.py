"""``indexer runs``: statuses, durations, counts, errors by kind and top errors."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from indexer.cli.main import main
from indexer.store.db import Database
from indexer.store.models import SyncError, SyncRun
from indexer.store.queries.runs import error_pattern

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
RAW = "https://raw.githubusercontent.com/docker-library/python/0123456789abcdef0123"


async def _fill(url: str) -> None:
    database = Database(url)
    try:
        async with database.session() as session:
            session.add(
                SyncRun(
                    id=1,
                    started_at=T0,
                    finished_at=T0 + timedelta(minutes=4, seconds=5),
                    status="ok",
                    library_files_fetched=150,
                    dockerfiles_fetched=900,
                    tags_added=4000,
                )
            )
            session.add(
                SyncRun(
                    id=2,
                    started_at=T0 + timedelta(days=1),
                    finished_at=T0 + timedelta(days=1, seconds=12),
                    status="partial",
                    only=["python", "debian"],
                    tags_changed=3,
                    errors=3,
                )
            )
            session.add(
                SyncRun(
                    id=3,
                    started_at=T0 + timedelta(days=2),
                    finished_at=T0 + timedelta(days=2, hours=2, minutes=3),
                    status="interrupted",
                    message="abandoned: the process running it ended before recording a result",
                )
            )
            await session.flush()
            for item, kind, error, message in [
                (
                    "python:3.12 (amd64)",
                    "dockerfile",
                    "not-found",
                    f"not found ({RAW}/a/Dockerfile)",
                ),
                (
                    "python:3.11 (amd64)",
                    "dockerfile",
                    "not-found",
                    f"not found ({RAW}/b/Dockerfile)",
                ),
                ("debian page 3", "hub-page", "upstream-retryable", "503 after 6 tries"),
            ]:
                session.add(
                    SyncError(
                        run_id=2, item_kind=kind, item=item, error_kind=error, message=message
                    )
                )
    finally:
        await database.dispose()


@pytest.fixture
def filled_url(database_url: str) -> str:
    asyncio.run(_fill(database_url))
    return database_url


def _cells(line: str) -> list[str]:
    """The cells of one line of a table piped out (tab-separated)."""
    return line.split("\t")


def test_runs_table_shows_status_duration_and_errors_by_kind(
    filled_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--database-url", filled_url, "runs"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert _cells(lines[0])[:4] == ["id", "started", "duration", "status"]
    newest, middle, oldest = (_cells(line) for line in lines[1:4])
    assert newest[:5] == ["3", "2026-11-29 03:00Z", "2h03m", "interrupted", "all"]
    assert newest[5:] == ["0", "0", "+0 ~0 -0", "0"]
    assert middle[:5] == ["2", "2026-11-28 03:00Z", "12.0s", "partial", "python, debian"]
    assert middle[7:] == ["+0 ~3 -0", "3"]
    assert oldest[:5] == ["1", "2026-11-27 03:00Z", "4m05s", "ok", "all"]
    assert oldest[5:] == ["150", "900", "+4000 ~0 -0", "0"]
    assert "run 2 (partial): 3 errors: dockerfile not found 2, hub page upstream failed 1" in out
    assert "run 3 (interrupted): abandoned: the process running it ended" in out
    assert "run 1 (" not in out  # a clean run needs no second line
    assert "not found (" not in out


def test_runs_errors_option_lists_the_most_frequent_errors(
    filled_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--database-url", filled_url, "runs", "--errors"]) == 0
    out = capsys.readouterr().out
    assert "  2× dockerfile not found: not found (<url>) (e.g. python:3.12 (amd64))" in out
    assert "  1× hub page upstream failed: 503 after 6 tries (e.g. debian page 3)" in out


def test_runs_json(filled_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database-url", filled_url, "runs", "--json", "--limit", "2"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [run["id"] for run in runs] == [3, 2]
    partial = runs[1]
    assert partial["duration_seconds"] == 12.0
    assert partial["only"] == ["python", "debian"]
    assert partial["errors_by_kind"] == [
        {"item_kind": "dockerfile", "error_kind": "not-found", "count": 2},
        {"item_kind": "hub-page", "error_kind": "upstream-retryable", "count": 1},
    ]
    assert partial["top_errors"][0]["count"] == 2
    assert len(partial["error_items"]) == 3
    assert {"started_at", "finished_at", "status", "tags_added", "message"} <= set(partial)


def test_error_messages_are_grouped_without_their_urls_and_ids() -> None:
    assert error_pattern(f"not found ({RAW}/x/Dockerfile)") == "not found (<url>)"
    assert error_pattern("blob 0123456789abcdef0123 gone") == "blob <id> gone"
    assert error_pattern("FROM $BASE: ARG without value") == "FROM $BASE: ARG without value"
