"""The library part on a small hand-made corpus: ETag watermark, vanished files, --only."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.replay import ReplayServer
from indexer.sync.library_stage import ETAG_KEY
from tests.sync.helpers import MiniCorpus, fresh_sqlite, query, replay_settings, sync_once
from tests.sync.minis import commits, write_app
from tests.sync.servers import flaky_proxy

ETAG_SQL = f"SELECT value FROM sync_state WHERE key = '{ETAG_KEY}'"
MAINTAINED_SQL = "SELECT name, maintained FROM image_repositories ORDER BY name"


def two_snapshots(root: Path) -> None:
    """``old`` has the images app and gone; ``new`` only app."""
    old = MiniCorpus(root, "old")
    write_app(old, "app")
    write_app(old, "gone", owner_repo="example/gone")
    new = MiniCorpus(root, "new")
    write_app(new, "app")
    commits(root, "old", "new")


@pytest.mark.asyncio
async def test_etag_skips_an_unchanged_library_and_vanished_files_become_unmaintained(
    tmp_path: Path,
) -> None:
    two_snapshots(tmp_path / "corpus")
    database_url = await fresh_sqlite(tmp_path)
    async with ReplayServer(tmp_path / "corpus", snapshot="old") as replay:
        settings = replay_settings(replay, database_url)
        first = await sync_once(settings)
        assert first.status == "ok"
        assert first.tally.library_files_fetched == 2
        assert (await query(database_url, ETAG_SQL))[0][0] is not None

        replay.counters.reset()
        second = await sync_once(settings)
        assert second.library_unchanged
        assert replay.counters.requests["library_listing"] == 0
        # the Hub is still checked: its repository list shows no new push
        assert replay.counters.requests["hub_repositories"] == 1
        assert replay.counters.requests["hub_tags"] == 0

        replay.switch_snapshot("new")
        await sync_once(settings, only=["app"])  # an --only run marks nothing
        assert await query(database_url, MAINTAINED_SQL) == [("app", 1), ("gone", 1)]
        third = await sync_once(settings)
        assert third.tally.repositories_unmaintained == 1
        assert await query(database_url, MAINTAINED_SQL) == [("app", 1), ("gone", 0)]
        gone_tags = await query(
            database_url, "SELECT DISTINCT maintained FROM v_tags WHERE repository = 'gone'"
        )
        assert gone_tags == [(0,)]


@pytest.mark.asyncio
async def test_retryable_failures_keep_the_etag_back_until_a_clean_run(tmp_path: Path) -> None:
    corpus = MiniCorpus(tmp_path / "corpus", "only")
    write_app(corpus, "app")
    database_url = await fresh_sqlite(tmp_path)
    async with ReplayServer(tmp_path / "corpus", snapshot="only") as replay:

        def app_dockerfiles(path: str) -> bool:
            return path.startswith("/example/app/")

        async with flaky_proxy(replay.github_raw_url, app_dockerfiles) as flaky_raw:
            flaky = replay_settings(replay, database_url, github_raw_url=flaky_raw, max_tries=1)
            first = await sync_once(flaky)
        assert first.status == "partial"
        assert first.tally.dockerfiles_failed == 2
        assert await query(database_url, ETAG_SQL) == [(None,)]

        replay.counters.reset()
        second = await sync_once(replay_settings(replay, database_url))
        assert not second.library_unchanged
        assert second.status == "ok"
        assert replay.counters.requests["library_file"] == 0  # from the fetch cache
        assert replay.counters.requests["dockerfile"] == 2
        assert (await query(database_url, ETAG_SQL))[0][0] is not None
        parents = await query(
            database_url, "SELECT tag, architecture, parent_ref FROM v_parents ORDER BY 1, 2"
        )
        assert ("1.0", "amd64", "debian:bookworm") in parents
        assert ("slim", "amd64", "debian:bookworm-slim") in parents


@pytest.mark.asyncio
async def test_only_names_not_in_the_listing_are_item_errors(tmp_path: Path) -> None:
    corpus = MiniCorpus(tmp_path / "corpus", "only")
    write_app(corpus, "app")
    database_url = await fresh_sqlite(tmp_path)
    async with ReplayServer(tmp_path / "corpus", snapshot="only") as replay:
        summary = await sync_once(replay_settings(replay, database_url), only=["app", "nosuch"])
    assert summary.status == "partial"
    errors = await query(database_url, "SELECT item_kind, item, error_kind FROM sync_errors")
    assert errors == [("library-file", "nosuch", "not-listed")]
    assert replay.counters.requests["hub_tags"] == 1
