"""The deferred indexes and keys: dropped at the start of a first load, built at its end."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from indexer.store.bulk_load import DEFERRED_FOREIGN_KEYS, DEFERRED_INDEXES, begin_load, end_load
from indexer.store.records import HubTagRecord
from indexer.store.writer import running_writer
from indexer.store.writes import write_hub_tags
from tests.databases import missing_from_schema, schema_diff
from tests.sync.helpers import execute

#: what a first load drops on PostgreSQL (on SQLite only the index)
HUB_KEYS = [
    "fk_hub_images_tag_id_tags",
    "fk_tag_history_tag_id_tags",
    "fk_tags_repository_id_image_repositories",
]


def _deferred(database_url: str) -> list[str]:
    keys = HUB_KEYS if database_url.startswith("postgresql") else []
    return sorted(["ix_tags_digest", *keys])


def test_the_deferred_index_and_keys_are_those_of_the_hub_rows() -> None:
    assert [index.name for index in DEFERRED_INDEXES] == ["ix_tags_digest"]
    assert sorted(str(key.name) for key in DEFERRED_FOREIGN_KEYS) == HUB_KEYS


@pytest.mark.asyncio
async def test_a_load_into_an_empty_store_drops_them_until_its_end(database_url: str) -> None:
    async with running_writer(database_url) as writer:
        assert await writer.run_job(begin_load) is True
    assert missing_from_schema(await schema_diff(database_url)) == _deferred(database_url)
    async with running_writer(database_url) as writer:
        await writer.run_job(end_load)
    assert await schema_diff(database_url) == []


@pytest.mark.asyncio
async def test_a_load_into_a_store_with_tags_keeps_them_and_mends_them(
    database_url: str,
) -> None:
    tag = HubTagRecord(name="1.0", digest="sha256:" + "a" * 64)
    async with running_writer(database_url) as writer:
        await writer.run_job(begin_load)
        await writer.run_job(lambda session: write_hub_tags(session, "app", [tag]))
        assert await writer.run_job(begin_load) is False  # tags stored: they come back
    assert await schema_diff(database_url) == []
    async with running_writer(database_url) as writer:
        assert await writer.run_job(begin_load) is False
    assert await schema_diff(database_url) == []


@pytest.mark.asyncio
async def test_after_a_load_the_keys_refuse_an_orphan(database_url: str) -> None:
    async with running_writer(database_url) as writer:
        await writer.run_job(begin_load)
        await writer.run_job(end_load)
    with pytest.raises(IntegrityError):
        await execute(
            database_url,
            "INSERT INTO tag_history (tag_id, digest, first_seen, last_seen)"
            " VALUES (424242, 'sha256:x', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        )
