"""The migrated schema equals the models, and the contract views have their columns."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.databases import schema_diff

CONTRACT_VIEWS = {
    "v_tags": ["repository", "tag", "canonical_tag", "maintained", "digest", "last_updated"],
    "v_parents": [
        "repository",
        "tag",
        "architecture",
        "parent_ref",
        "parent_repository",
        "parent_tag",
    ],
    "v_ancestors": [
        "repository",
        "tag",
        "architecture",
        "depth",
        "ancestor_repository",
        "ancestor_tag",
    ],
    "v_tag_images": [
        "repository",
        "tag",
        "os",
        "architecture",
        "variant",
        "bashbrew_arch",
        "digest",
        "size",
        "last_pushed",
    ],
    "v_tag_history": ["repository", "tag", "digest", "first_seen", "last_seen"],
    "v_sync_runs": [
        "id",
        "started_at",
        "finished_at",
        "status",
        "library_files_fetched",
        "dockerfiles_fetched",
        "tags_added",
        "tags_changed",
        "tags_removed",
        "errors",
    ],
    "v_image_parents": [
        "repository",
        "canonical_tag",
        "architecture",
        "parent_ref",
        "parent_repository",
        "parent_tag",
    ],
    "v_image_ancestors": [
        "repository",
        "canonical_tag",
        "architecture",
        "depth",
        "ancestor_repository",
        "ancestor_tag",
    ],
    "v_parent_refs": ["parent_ref", "parent_repository", "parent_tag", "repositories", "images"],
}


async def _view_columns(url: str) -> dict[str, list[str]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            columns = {}
            for view in CONTRACT_VIEWS:
                result = await connection.execute(text(f"SELECT * FROM {view} WHERE 1 = 0"))
                columns[view] = list(result.keys())
            return columns
    finally:
        await engine.dispose()


def test_migrated_schema_equals_models(database_url: str) -> None:
    assert asyncio.run(schema_diff(database_url)) == []


def test_contract_views_have_exactly_their_columns(database_url: str) -> None:
    assert asyncio.run(_view_columns(database_url)) == CONTRACT_VIEWS
