"""Fixtures of the web view tests: a corpus database per backend, and the view served on it.

The database is filled once per test session and backend by the real sync against the
replay upstream (snapshot ``dense-current``; python, debian and alpine: enough for the
lineage python -> debian/alpine -> scratch and python's variants), then only read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from indexer.replay import Corpus, ReplayServer
from indexer.settings import Settings
from indexer.store.db import Database
from indexer.sync import run_sync
from indexer.web import create_app
from tests.databases import BACKENDS, PostgresDatabases
from tests.queries.conftest import fresh_database

#: the images synced into the web tests' database
WEB_IMAGES = ("python", "debian", "alpine")


async def sync_corpus(corpus_dir: Path, database_url: str) -> None:
    """One real sync of :data:`WEB_IMAGES` from the replayed ``dense-current``."""
    async with ReplayServer(Corpus(corpus_dir), snapshot="dense-current") as replay:
        settings = Settings(
            database_url=database_url,
            **replay.upstreams(),
            concurrency=16,
            backoff_base=0.01,
            backoff_max=0.2,
        )
        database = Database(database_url)
        try:
            summary = await run_sync(settings, database, only=WEB_IMAGES)
        finally:
            await database.dispose()
    assert summary.status in ("ok", "partial"), summary


@pytest.fixture(scope="session", params=BACKENDS)
def corpus_url(
    request: pytest.FixtureRequest,
    corpus_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_databases: PostgresDatabases,
) -> Iterator[str]:
    """A database synced from the corpus (see the module docstring), shared by read-only tests."""
    with fresh_database(request.param, tmp_path_factory, postgres_databases) as url:
        asyncio.run(sync_corpus(corpus_dir, url))
        yield url


@asynccontextmanager
async def served(database_url: str) -> AsyncIterator[aiohttp.ClientSession]:
    """The web view on ``database_url`` at a real local port, and a client session for it.

    Redirects are not followed, so tests see them.
    """
    database = Database(database_url)
    server = TestServer(create_app(database), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession(str(server.make_url("/"))) as client:
            yield client
    finally:
        await server.close()
        await database.dispose()


JSON = {"Accept": "application/json"}
