"""Store connections on SQLite: what the page process' bulk connection sets apart."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from indexer.store.db import normalize_database_url
from indexer.store.transactions import PAGE_CACHE_KIB, store_transactions
from tests.databases import migrated_sqlite_url

#: SQLite's own page cache, in KiB, as ``PRAGMA cache_size`` reports it (negative: KiB)
SQLITE_DEFAULT_CACHE = -2000


async def _pragmas(url: str, *, bulk: bool) -> tuple[int, int]:
    connection = store_transactions(normalize_database_url(url), bulk=bulk)
    async with connection as transaction, transaction() as session:
        cache = (await session.execute(text("PRAGMA cache_size"))).scalar_one()
        keys = (await session.execute(text("PRAGMA foreign_keys"))).scalar_one()
    return int(cache), int(keys)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return migrated_sqlite_url(tmp_path)


@pytest.mark.asyncio
async def test_only_the_bulk_connection_keeps_a_large_cache_and_skips_key_checks(
    sqlite_url: str,
) -> None:
    """The store threads' connections (in the sync process) keep SQLite's page cache and
    check foreign keys; the page process' connection, which writes the Hub's rows,
    keeps `PAGE_CACHE_KIB` of pages and checks no keys."""
    assert await _pragmas(sqlite_url, bulk=False) == (SQLITE_DEFAULT_CACHE, 1)
    assert await _pragmas(sqlite_url, bulk=True) == (-PAGE_CACHE_KIB, 0)
