"""Fixtures of the sync tests: the shared corpus opened once, a replay server per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from indexer.replay import Corpus, ReplayServer
from tests.databases import PostgresDatabases, migrated_sqlite_url


@pytest.fixture(scope="session")
def corpus(corpus_dir: Path) -> Corpus:
    """The shared corpus, opened once so its caches serve every test."""
    return Corpus(corpus_dir)


@pytest_asyncio.fixture
async def replay(corpus: Corpus) -> AsyncIterator[ReplayServer]:
    """A replay server serving ``dense-current``, no faults, no latency."""
    async with ReplayServer(corpus, snapshot="dense-current") as server:
        yield server


@pytest.fixture
def second_database_url(
    database_url: str, tmp_path: Path, postgres_databases: PostgresDatabases
) -> Iterator[str]:
    """Another fresh migrated database on the same backend as ``database_url``."""
    if database_url.startswith("sqlite"):
        yield migrated_sqlite_url(tmp_path, "second.db")
        return
    url = postgres_databases.create()
    yield url
    postgres_databases.drop(url)
