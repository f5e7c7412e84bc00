"""The deferred indexes: dropped at the start of a first load, built at its end."""

from __future__ import annotations

import pytest

from indexer.store.bulk_load import DEFERRED_INDEXES, begin_load, end_load
from indexer.store.records import HubTagRecord
from indexer.store.writer import running_writer
from indexer.store.writes import write_hub_tags
from tests.databases import schema_diff


def _missing_indexes(diff: list[object]) -> list[str]:
    return [item[1].name for item in diff if isinstance(item, tuple) and item[0] == "add_index"]


def test_the_deferred_index_is_the_one_on_tag_digests() -> None:
    assert [index.name for index in DEFERRED_INDEXES] == ["ix_tags_digest"]


@pytest.mark.asyncio
async def test_a_load_into_an_empty_store_drops_the_index_until_its_end(
    database_url: str,
) -> None:
    async with running_writer(database_url) as writer:
        assert await writer.run_job(begin_load) is True
    assert _missing_indexes(await schema_diff(database_url)) == ["ix_tags_digest"]
    async with running_writer(database_url) as writer:
        await writer.run_job(end_load)
    assert await schema_diff(database_url) == []


@pytest.mark.asyncio
async def test_a_load_into_a_store_with_tags_keeps_the_index_and_mends_it(
    database_url: str,
) -> None:
    tag = HubTagRecord(name="1.0", digest="sha256:" + "a" * 64)
    async with running_writer(database_url) as writer:
        await writer.run_job(begin_load)
        await writer.run_job(lambda session: write_hub_tags(session, "app", [tag]))
        assert await writer.run_job(begin_load) is False  # tags stored: the index comes back
    assert await schema_diff(database_url) == []
    async with running_writer(database_url) as writer:
        assert await writer.run_job(begin_load) is False
    assert await schema_diff(database_url) == []
