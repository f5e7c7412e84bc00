"""Incremental behaviour: fetch once, Hub watermark and early stop, retries, graceful stop."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from indexer.replay import Corpus, ReplayServer
from indexer.settings import Settings
from indexer.store.db import Database
from indexer.store.state import set_state
from indexer.sync import SyncSummary, SyncTally
from indexer.sync.hub_stage import UNFINISHED_KEY
from indexer.sync.library_stage import ETAG_KEY
from indexer.upstream.http import RequestStats
from tests.sync.helpers import (
    execute,
    fresh_sqlite,
    query,
    replay_settings,
    sync_once,
    view_rows,
)
from tests.sync.servers import flaky_proxy

pytestmark = pytest.mark.corpus

#: two Dockerfiles, 40 tags of which 8 change between dense-previous and dense-current
GHOST = "ghost"


class TallyWatch:
    """A progress display that only watches the run's tally, so a test can react to it."""

    interval = 0.005

    def __init__(self) -> None:
        self.tally: SyncTally | None = None
        self._waiting: list[tuple[str, asyncio.Event]] = []

    def start(self, tally: SyncTally, stats: RequestStats) -> None:
        self.tally = tally

    def refresh(self) -> None:
        for condition, event in self._waiting:
            if self.tally is not None and getattr(self.tally, condition):
                event.set()

    def stop(self) -> None:
        pass

    def finish(self, summary: SyncSummary) -> None:
        pass

    async def until(self, condition: str, within: float = 20.0) -> None:
        """Wait until ``condition`` (a tally attribute) is non-zero."""
        event = asyncio.Event()
        self._waiting.append((condition, event))
        async with asyncio.timeout(within):
            await event.wait()


async def _set_state(database_url: str, key: str, value: str | None) -> None:
    database = Database(database_url)
    try:
        async with database.session() as session:
            await set_state(session, key, value)
    finally:
        await database.dispose()


@pytest.mark.asyncio
async def test_hub_paging_stops_early_only_after_a_clean_complete_page_through(
    database_url: str, replay: ReplayServer
) -> None:
    # without the repository list, which would skip the unchanged repository altogether
    settings = replay_settings(replay, database_url, hub_page_size=10, hub_repository_listing=False)
    first = await sync_once(settings, only=[GHOST])
    pages = replay.counters.requests["hub_tags"]
    assert pages == 4
    assert first.tally.hub_full_page_throughs == 1
    (reconciled,) = await query(
        database_url, "SELECT hub_reconciled_at FROM image_repositories WHERE name = 'ghost'"
    )
    assert reconciled[0] is not None

    replay.counters.reset()
    second = await sync_once(settings, only=[GHOST])
    assert replay.counters.requests["hub_tags"] == 1
    assert second.tally.hub_stopped_early == 1

    # a run that died while paging leaves the repository marked unfinished
    await _set_state(database_url, UNFINISHED_KEY, '["ghost"]')
    replay.counters.reset()
    third = await sync_once(settings, only=[GHOST])
    assert replay.counters.requests["hub_tags"] == pages
    assert third.tally.hub_full_page_throughs == 1

    replay.counters.reset()
    await sync_once(settings, only=[GHOST], full_reconcile=True)
    assert replay.counters.requests["hub_tags"] == pages


@pytest.mark.asyncio
async def test_a_run_killed_while_paging_does_not_make_the_next_stop_early(
    tmp_path: Path, corpus: Corpus
) -> None:
    database_url = await fresh_sqlite(tmp_path)
    clean_url = await fresh_sqlite(tmp_path, "clean.db")
    async with ReplayServer(corpus, snapshot="dense-previous") as replay:
        settings = replay_settings(replay, database_url, hub_page_size=5)
        await sync_once(settings, only=[GHOST])
        replay.switch_snapshot("dense-current")
        # the changed tags now lead the newest-first listing, over two pages of five:
        # the run is killed once the first page is written
        replay.set_faults(latency_ms=300)
        watch = TallyWatch()
        run = asyncio.create_task(sync_once(settings, only=[GHOST], progress=watch))
        await watch.until("tags_changed")
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run
        replay.set_faults(latency_ms=0)
        # a page request the killed run had in flight is still answered (and counted)
        # after its 300 ms latency: let it land before counting afresh
        await asyncio.sleep(0.5)
        replay.counters.reset()
        await sync_once(settings, only=[GHOST])
        assert replay.counters.requests["hub_tags"] == 8  # all 40 tags, 5 a page
        await sync_once(replay_settings(replay, clean_url, hub_page_size=5), only=[GHOST])
    # the Hub side equals a clean sync of dense-current (the library side keeps history)
    hub_facts = "SELECT repository, tag, digest, last_updated FROM v_tags WHERE digest IS NOT NULL"
    assert sorted(await query(database_url, hub_facts)) == sorted(await query(clean_url, hub_facts))
    images = await view_rows(database_url, ["v_tag_images"])
    assert images == await view_rows(clean_url, ["v_tag_images"])


@pytest.mark.asyncio
async def test_failed_dockerfiles_are_retried_from_the_cached_library_text(
    database_url: str, replay: ReplayServer
) -> None:
    def ghost_dockerfiles(path: str) -> bool:
        return path.startswith("/docker-library/ghost/")

    async with flaky_proxy(replay.github_raw_url, ghost_dockerfiles) as flaky_raw:
        flaky = replay_settings(replay, database_url, github_raw_url=flaky_raw, max_tries=2)
        first = await sync_once(flaky, only=[GHOST, "bonita"])
    assert first.status == "partial"
    assert first.tally.dockerfiles_failed == 2
    assert first.tally.errors["upstream-retryable"] == 2
    errors_sql = "SELECT count(*) FROM builds WHERE error LIKE 'Dockerfile could not be fetched%'"
    assert (await query(database_url, errors_sql))[0][0] > 0

    replay.counters.reset()
    second = await sync_once(replay_settings(replay, database_url), only=[GHOST, "bonita"])
    assert second.status == "ok"
    assert replay.counters.requests["library_file"] == 0  # re-resolved from the cached text
    assert replay.counters.requests["dockerfile"] == 2  # only the two that failed
    assert second.tally.library_files_from_cache == 1
    assert await query(database_url, errors_sql) == [(0,)]


@pytest.mark.asyncio
async def test_a_graceful_stop_finishes_in_flight_work_and_is_recorded(
    tmp_path: Path, replay: ReplayServer
) -> None:
    database_url = await fresh_sqlite(tmp_path)
    settings: Settings = replay_settings(replay, database_url, concurrency=2)
    stop = asyncio.Event()
    watch = TallyWatch()
    run = asyncio.create_task(sync_once(settings, stop=stop, progress=watch))
    await watch.until("library_files_written")
    stop.set()
    summary = await run
    assert summary.status == "interrupted"
    assert 0 < summary.tally.library_files_written < summary.tally.library_files_to_read
    rows = await query(
        database_url, "SELECT status FROM sync_runs WHERE id = :run", run=summary.run_id
    )
    assert rows == [("interrupted",)]
    assert await query(database_url, f"SELECT value FROM sync_state WHERE key = '{ETAG_KEY}'") in (
        [],
        [(None,)],
    )


@pytest.mark.asyncio
async def test_parent_links_left_stale_by_a_killed_run_are_finished_by_the_next(
    database_url: str, replay: ReplayServer
) -> None:
    from indexer.store.state import LINKS_STALE_KEY

    settings = replay_settings(replay, database_url)
    await sync_once(settings, only=["python", "debian"])
    links = "SELECT id, parent_tag_id, parent_stanza_id FROM builds ORDER BY id"
    linked = await query(database_url, links)
    assert sum(1 for _, tag_id, _ in linked if tag_id is not None) > 50
    assert (
        await query(database_url, "SELECT value FROM sync_state WHERE key = :k", k=LINKS_STALE_KEY)
        == []
    )

    # a run killed after its library writes and before the final linking leaves the
    # links unset and the stale mark that was written with the library files
    await execute(database_url, "UPDATE builds SET parent_tag_id = NULL, parent_stanza_id = NULL")
    await _set_state(database_url, LINKS_STALE_KEY, "1")
    replay.counters.reset()
    await sync_once(settings, only=["python", "debian"])
    assert replay.counters.requests["library_file"] == 0
    assert await query(database_url, links) == linked
    assert (
        await query(database_url, "SELECT value FROM sync_state WHERE key = :k", k=LINKS_STALE_KEY)
        == []
    )
