"""Tag history: intervals written by write_hub_tags, a truthful last_seen, ``--at``; both backends."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from indexer.cli.main import main
from indexer.store.db import Database
from indexer.store.models import SyncError, SyncRun, TagHistory
from indexer.store.records import HubTagRecord
from indexer.store.writes import ensure_repository, reconcile_hub_tags, write_hub_tags
from tests.databases import BACKENDS, PostgresDatabases
from tests.queries.conftest import fresh_database, query

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
T1 = datetime(2026, 1, 30, 3, tzinfo=UTC)
T2 = datetime(2026, 2, 15, 3, tzinfo=UTC)
T3 = datetime(2026, 3, 19, 3, tzinfo=UTC)
T4 = datetime(2026, 4, 1, 3, tzinfo=UTC)
T5 = datetime(2026, 4, 2, 3, tzinfo=UTC)
T6 = datetime(2026, 4, 3, 3, tzinfo=UTC)
T7 = datetime(2026, 4, 4, 3, tzinfo=UTC)
WRITE = timedelta(minutes=1)
HUB_PAGE = "https://hub.docker.com/v2/namespaces/library/repositories/python/tags?page_size=100"


def tags(digest: str) -> list[HubTagRecord]:
    return [HubTagRecord("3.12-slim", digest), HubTagRecord("3.11-slim", "sha256:" + "c" * 64)]


async def _run(database: Database, started: datetime, status: str, only: list[str] | None) -> int:
    async with database.session() as session:
        run = SyncRun(started_at=started, status=status, only=only)
        session.add(run)
        await session.flush()
        run.finished_at = started + timedelta(minutes=5)
        return run.id


async def _history_rows(database: Database) -> int:
    async with database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(TagHistory)) or 0)


async def write_history(url: str) -> dict[str, int]:
    """Two digests over several sync runs, some of which do not confirm python.

    Answers the number of ``tag_history`` rows after the first write and after a
    write that changes nothing (it must add none).
    """
    database = Database(url)
    try:
        counts = {}
        await _run(database, T1, "ok", None)
        async with database.session() as session:
            await write_hub_tags(session, "python", tags(A), now=T1 + WRITE)
        counts["after first"] = await _history_rows(database)
        await _run(database, T2, "partial", ["python"])
        async with database.session() as session:
            result = await write_hub_tags(session, "python", tags(A), now=T2 + WRITE)
        assert result.added == () and result.changed == ()
        counts["after unchanged"] = await _history_rows(database)
        await _run(database, T3, "ok", None)
        async with database.session() as session:
            await write_hub_tags(session, "python", tags(B), now=T3 + WRITE)
        await _run(database, T4, "ok", ["debian"])
        await _run(database, T5, "partial", ["debian", "python"])
        await _run(database, T6, "failed", None)
        hub_failed = await _run(database, T7, "partial", None)
        async with database.session() as session:
            session.add(
                SyncError(
                    run_id=hub_failed,
                    item_kind="hub-page",
                    item=HUB_PAGE,
                    error_kind="upstream",
                    message="503",
                )
            )
        async with database.session() as session:
            python = await ensure_repository(session, "python")
            await reconcile_hub_tags(session, python, ["3.12-slim"], now=T5 + WRITE)
        return counts
    finally:
        await database.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def history_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_databases: PostgresDatabases,
) -> Iterator[str]:
    """A fresh database with the history above, shared by this module's tests (they only read)."""
    with fresh_database(request.param, tmp_path_factory, postgres_databases) as url:
        counts = asyncio.run(write_history(url))
        assert counts == {"after first": 2, "after unchanged": 2}
        yield url


def history(url: str, capsys: pytest.CaptureFixture[str], ref: str, *args: str) -> dict[str, Any]:
    status = main(["--database-url", url, "history", ref, "--json", *args])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    data: dict[str, Any] = json.loads(captured.out)
    return data


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_intervals_and_truthful_last_seen(
    history_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = history(history_url, capsys, "python:3.12-slim")
    assert data["removed_at"] is None
    assert data["intervals"] == [
        {"digest": A, "first_seen": z(T1 + WRITE), "last_seen": z(T3 + WRITE), "current": False},
        # confirmed by the run of T5 (covers python); not T4 (debian only), T6 (failed),
        # T7 (its python Hub page failed)
        {"digest": B, "first_seen": z(T3 + WRITE), "last_seen": z(T5), "current": True},
    ]


def test_removed_tag_has_only_closed_intervals(
    history_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = history(history_url, capsys, "python:3.11-slim")
    assert data["removed_at"] == z(T5 + WRITE)
    assert data["intervals"] == [
        {
            "digest": "sha256:" + "c" * 64,
            "first_seen": z(T1 + WRITE),
            "last_seen": z(T5 + WRITE),
            "current": False,
        }
    ]
    after = history(history_url, capsys, "python:3.11-slim", "--at", "2026-06-01")
    assert after["digest_at"] is None


@pytest.mark.parametrize(
    ("at", "digest"),
    [
        ("2026-01-01", None),
        ("2026-02-01", A),
        ("2026-03-19T03:00:30Z", A),
        ("2026-03-19T03:01:00Z", B),
        ("2026-06-01", B),
    ],
)
def test_at_date(
    history_url: str, capsys: pytest.CaptureFixture[str], at: str, digest: str | None
) -> None:
    assert history(history_url, capsys, "python:3.12-slim", "--at", at)["digest_at"] == digest


def test_bad_date_is_a_usage_error(history_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database-url", history_url, "history", "python:3.12-slim", "--at", "soon"]) == 1
    assert "ISO date" in capsys.readouterr().err


def as_utc(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def test_view_agrees_with_the_command(history_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    rows = query(
        history_url,
        "SELECT tag, digest, first_seen, last_seen FROM v_tag_history "
        "WHERE repository = 'python' ORDER BY tag, first_seen",
    )
    from_view = [
        (tag, digest, z(as_utc(first)), z(as_utc(last))) for tag, digest, first, last in rows
    ]
    from_command = [
        (tag, i["digest"], i["first_seen"], i["last_seen"])
        for tag in ("3.11-slim", "3.12-slim")
        for i in history(history_url, capsys, f"python:{tag}")["intervals"]
    ]
    assert from_view == from_command


def test_history_table(history_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        ["--database-url", history_url, "history", "python:3.12-slim", "--at", "2026-02-01"]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert f"at          2026-02-01 00:00Z: {A}" in out
    assert "current" in out
