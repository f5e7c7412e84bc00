"""Tag history across real syncs of the replay upstream: dense-previous, then dense-current.

Two small repositories whose digests change between the snapshots (teamspeak, krakend)
keep the runs quick. Both backends.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from indexer.cli.main import main
from indexer.replay import Corpus, ReplayServer
from indexer.replay.registry_images import published_images
from indexer.settings import Settings
from indexer.store.db import Database
from indexer.sync import run_sync

ONLY = ("teamspeak", "krakend")


def settings_for(replay: ReplayServer, database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        **replay.upstreams(),
        concurrency=16,
        backoff_base=0.01,
        backoff_max=0.2,
    )


async def sync(settings: Settings) -> None:
    database = Database(settings.database_url)
    try:
        summary = await run_sync(settings, database, only=ONLY)
    finally:
        await database.dispose()
    assert summary.status in ("ok", "partial")


async def rows(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    database = Database(database_url)
    try:
        async with database.session() as session:
            return [tuple(row) for row in (await session.execute(text(sql))).all()]
    finally:
        await database.dispose()


def digests(corpus: Corpus, snapshot: str, repository: str) -> dict[str, str]:
    """The digests the replayed Hub lists (those of the registry's bodies)."""
    return {tag.name: tag.digest for tag in published_images(corpus).views(snapshot, repository)}


def as_utc_text(value: Any) -> str:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=None).isoformat()


def history(url: str, capsys: pytest.CaptureFixture[str], ref: str, *args: str) -> Any:
    status = main(["--database-url", url, "history", ref, "--json", *args])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return json.loads(captured.out)


async def sync_three_times(corpus: Corpus, database_url: str) -> None:
    """dense-previous, then dense-current, then dense-current again (nothing changes)."""
    async with ReplayServer(corpus, snapshot="dense-previous") as replay:
        settings = settings_for(replay, database_url)
        await sync(settings)
        replay.switch_snapshot("dense-current")
        await sync(settings)
        history_rows = len(await rows(database_url, "SELECT * FROM tag_history"))
        await sync(settings)  # nothing changed upstream: no history written
        assert len(await rows(database_url, "SELECT * FROM tag_history")) == history_rows


def test_history_across_two_snapshots(
    database_url: str, corpus_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = Corpus(corpus_dir)
    before = digests(corpus, "dense-previous", "teamspeak")
    after = digests(corpus, "dense-current", "teamspeak")
    assert before["latest"] != after["latest"]
    krakend_before = digests(corpus, "dense-previous", "krakend")
    krakend_after = digests(corpus, "dense-current", "krakend")
    unchanged = sorted(t for t in krakend_before if krakend_after.get(t) == krakend_before[t])
    assert unchanged
    asyncio.run(sync_three_times(corpus, database_url))

    runs = asyncio.run(rows(database_url, "SELECT started_at FROM sync_runs ORDER BY id"))
    assert len(runs) == 3
    third_start = as_utc_text(runs[2][0])

    latest = history(database_url, capsys, "teamspeak")  # a bare name: latest
    intervals = latest["intervals"]
    assert [i["digest"] for i in intervals] == [before["latest"], after["latest"]]
    assert intervals[0]["last_seen"] == intervals[1]["first_seen"]
    assert intervals[1]["current"] is True
    # the third run confirmed the current digest without writing anything
    assert intervals[1]["last_seen"].rstrip("Z") == third_start

    steady = history(database_url, capsys, f"krakend:{unchanged[0]}")
    assert [i["digest"] for i in steady["intervals"]] == [krakend_before[unchanged[0]]]
    assert steady["intervals"][0]["last_seen"].rstrip("Z") == third_start

    first_seen = intervals[0]["first_seen"]
    at_first = history(database_url, capsys, "library/teamspeak:latest", "--at", first_seen)
    assert at_first["digest_at"] == before["latest"]
    at_now = history(database_url, capsys, "teamspeak", "--at", "2030-01-01")
    assert at_now["digest_at"] == after["latest"]

    view = asyncio.run(
        rows(
            database_url,
            "SELECT digest, first_seen, last_seen FROM v_tag_history "
            "WHERE repository = 'teamspeak' AND tag = 'latest' ORDER BY first_seen",
        )
    )
    assert [(d, as_utc_text(f), as_utc_text(last)) for d, f, last in view] == [
        (i["digest"], i["first_seen"].rstrip("Z"), i["last_seen"].rstrip("Z")) for i in intervals
    ]
