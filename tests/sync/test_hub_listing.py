"""The Hub's repository list: unchanged repositories are not paged; a push is noticed."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.replay import Corpus, ReplayServer
from tests.sync.helpers import fresh_sqlite, query, replay_settings, sync_once
from tests.sync.servers import flaky_proxy

pytestmark = pytest.mark.corpus

#: two Dockerfiles, 40 tags of which 8 change between dense-previous and dense-current
GHOST = "ghost"
HUB_FACTS = "SELECT repository, tag, digest, last_updated FROM v_tags WHERE digest IS NOT NULL"
LAST_READ = "SELECT name, hub_last_updated FROM image_repositories ORDER BY name"


def _ghost_time(replay: ReplayServer) -> str:
    (entry,) = [
        entry
        for entry in replay.state.hub_pages.repositories(replay.snapshot.name)
        if entry["name"] == GHOST
    ]
    return str(entry["last_updated"])


@pytest.mark.asyncio
async def test_unchanged_repositories_are_skipped_and_a_push_is_paged(
    database_url: str, second_database_url: str, corpus: Corpus
) -> None:
    clean_url = second_database_url
    async with ReplayServer(corpus, snapshot="dense-previous") as replay:
        settings = replay_settings(replay, database_url, hub_page_size=10)
        first = await sync_once(settings, only=[GHOST])
        assert first.status == "ok"
        assert replay.counters.requests["hub_tags"] == 4  # 40 tags, 10 a page
        ((name, stored),) = await query(database_url, LAST_READ)
        assert name == GHOST
        assert stored is not None
        assert str(stored).replace(" ", "T")[:19] == _ghost_time(replay)[:19]

        # nobody pushed: the repository list is read, no tag page
        replay.counters.reset()
        second = await sync_once(settings, only=[GHOST])
        assert replay.counters.requests["hub_repositories"] == 2  # 100 repositories a page
        assert replay.counters.requests["hub_tags"] == 0
        assert (second.tally.hub_unchanged, second.tally.hub_pages) == (1, 0)

        # the Hub as of dense-current: the push moved the repository's time
        replay.switch_snapshot("dense-current")
        replay.counters.reset()
        third = await sync_once(settings, only=[GHOST])
        assert third.tally.hub_unchanged == 0
        assert 1 <= replay.counters.requests["hub_tags"] < 4  # stopped early
        assert third.tally.tags_changed == 8
        assert (await query(database_url, LAST_READ))[0][1] != stored
        await sync_once(replay_settings(replay, clean_url, hub_page_size=10), only=[GHOST])
    assert sorted(await query(database_url, HUB_FACTS)) == sorted(await query(clean_url, HUB_FACTS))


@pytest.mark.asyncio
async def test_a_repository_whose_paging_failed_is_paged_again(
    tmp_path: Path, corpus: Corpus
) -> None:
    database_url = await fresh_sqlite(tmp_path)
    async with ReplayServer(corpus, snapshot="dense-current") as replay:

        def ghost_tags(path: str) -> bool:
            return path.endswith(f"/repositories/{GHOST}/tags")

        async with flaky_proxy(replay.hub_url, ghost_tags) as flaky_hub:
            flaky = replay_settings(replay, database_url, hub_url=flaky_hub, max_tries=1)
            first = await sync_once(flaky, only=[GHOST])
        assert first.status == "partial"
        assert await query(database_url, LAST_READ) == [(GHOST, None)]

        replay.counters.reset()
        second = await sync_once(replay_settings(replay, database_url), only=[GHOST])
        assert second.status == "ok"
        assert second.tally.hub_unchanged == 0
        assert replay.counters.requests["hub_tags"] == 1  # 40 tags, 100 a page
        assert (await query(database_url, LAST_READ))[0][1] is not None


@pytest.mark.asyncio
async def test_a_full_reconcile_pages_unchanged_repositories(
    database_url: str, replay: ReplayServer
) -> None:
    settings = replay_settings(replay, database_url, hub_page_size=10)
    await sync_once(settings, only=[GHOST])
    replay.counters.reset()
    forced = await sync_once(settings, only=[GHOST], full_reconcile=True)
    assert forced.tally.hub_unchanged == 0
    assert replay.counters.requests["hub_tags"] == 4
    assert forced.tally.hub_full_page_throughs == 1
