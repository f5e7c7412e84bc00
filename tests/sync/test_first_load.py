"""A first load builds the index on ``tags.digest`` (and on PostgreSQL the Hub rows' foreign
keys) after its rows; a later run mends what a killed one left missing.

Every test runs on both backends, through whole syncs against a small replay.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.replay import ReplayServer
from tests.databases import missing_from_schema, schema_diff
from tests.sync.helpers import MiniCorpus, execute, query, replay_settings, sync_once
from tests.sync.minis import write_app


@pytest.fixture
def corpus_root(tmp_path: Path) -> Path:
    corpus = MiniCorpus(tmp_path / "corpus", "only")
    write_app(corpus, "app")
    return tmp_path / "corpus"


@pytest.mark.asyncio
async def test_a_first_load_ends_with_the_schema_of_the_models(
    database_url: str, corpus_root: Path
) -> None:
    async with ReplayServer(corpus_root, snapshot="only") as replay:
        summary = await sync_once(replay_settings(replay, database_url))
        assert summary.status == "ok"
        assert summary.tally.seconds["indexing"] > 0
        assert await schema_diff(database_url) == []
        # the next run is no first load: it builds nothing
        again = await sync_once(replay_settings(replay, database_url))
    assert again.tally.seconds["indexing"] == 0
    digests = await query(database_url, "SELECT count(*) FROM tags WHERE digest IS NOT NULL")
    assert digests[0][0] == 7


@pytest.mark.asyncio
async def test_a_run_that_finds_tags_and_no_digest_index_creates_it(
    database_url: str, corpus_root: Path
) -> None:
    async with ReplayServer(corpus_root, snapshot="only") as replay:
        await sync_once(replay_settings(replay, database_url))
        # what a first load killed before its end leaves
        await execute(database_url, "DROP INDEX ix_tags_digest")
        dropped = ["ix_tags_digest"]
        if database_url.startswith("postgresql"):
            await execute(
                database_url, "ALTER TABLE hub_images DROP CONSTRAINT fk_hub_images_tag_id_tags"
            )
            dropped.insert(0, "fk_hub_images_tag_id_tags")
        assert missing_from_schema(await schema_diff(database_url)) == dropped
        second = await sync_once(replay_settings(replay, database_url))
    assert second.status == "ok"
    assert await schema_diff(database_url) == []
