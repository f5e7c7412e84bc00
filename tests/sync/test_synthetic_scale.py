"""A sync against a Hub with synthetic tags (Docker Hub's scale in miniature), on each backend.

Every synthetic tag is stored with its platform images and history, through the same
writer as the real ones; the no-change run right after asks only for the branch head
and the Hub's repository list, and writes no row.
"""

from __future__ import annotations

import pytest

from indexer.replay import Corpus, ReplayServer
from indexer.replay.synthetic import synthetic_tag
from tests.sync.helpers import query, replay_settings, sync_once, table_snapshot

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

SYNTHETIC = 120
ONLY = ["hello-world", "python", "ghost"]


@pytest.mark.asyncio
async def test_synthetic_tags_are_stored_then_a_no_change_run_writes_nothing(
    database_url: str, corpus: Corpus
) -> None:
    async with ReplayServer(corpus, synthetic_tags=SYNTHETIC) as replay:
        settings = replay_settings(replay, database_url)
        first = await sync_once(settings)
        assert first.status in ("ok", "partial")
        for repository in ONLY:
            rows = await query(
                database_url,
                "SELECT tag, digest FROM v_tags WHERE repository = :r AND tag LIKE 'synthetic-%'",
                r=repository,
            )
            expected = {
                (view.name, view.digest)
                for view in (synthetic_tag(repository, i) for i in range(SYNTHETIC))
            }
            assert set(rows) == expected
            images = await query(
                database_url,
                "SELECT tag, digest, size FROM v_tag_images "
                "WHERE repository = :r AND tag LIKE 'synthetic-%'",
                r=repository,
            )
            assert {(t, d, int(s)) for t, d, s in images} == {
                (view.name, image.digest, image.size)
                for view in (synthetic_tag(repository, i) for i in range(SYNTHETIC))
                for image in view.images
            }
        ((history,),) = await query(
            database_url,
            "SELECT COUNT(*) FROM v_tag_history WHERE tag LIKE 'synthetic-%'",
        )
        ((repositories,),) = await query(
            database_url, "SELECT COUNT(DISTINCT repository) FROM v_tag_images"
        )
        assert history == SYNTHETIC * repositories

        before = await table_snapshot(database_url)
        replay.counters.reset()
        second = await sync_once(settings)
        assert second.status in ("ok", "partial")
        assert {kind for kind, count in replay.counters.requests.items() if count} == {
            "branch_head",
            "hub_repositories",
        }
        assert await table_snapshot(database_url) == before
