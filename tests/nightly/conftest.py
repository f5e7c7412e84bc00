"""Fixtures of the nightly tests: migrated databases, the replay server, reference views.

``database_url`` has the root fixture's contract (a fresh migrated database on each
backend); the SQLite migrations run once per session and each test gets a copy,
which keeps these many short tests quick.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from indexer.replay import ReplayServer
from tests.databases import BACKENDS, PostgresDatabases, migrated_sqlite_url
from tests.nightly.replayed import LATENCY_MS, SNAPSHOT, Views, read_views, sync

DATABASE_FILE = "indexer.db"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("nightly-template")
    migrated_sqlite_url(directory, DATABASE_FILE)
    return directory


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh migrated SQLite database (a copy of the session's template)."""
    for source in sqlite_template.glob(f"{DATABASE_FILE}*"):
        shutil.copyfile(source, tmp_path / source.name)
    return f"sqlite+aiosqlite:///{tmp_path / DATABASE_FILE}"


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest,
    sqlite_template: Path,
    tmp_path: Path,
    postgres_databases: PostgresDatabases,
) -> Iterator[str]:
    """A freshly migrated, empty database on each backend."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_url")
        return
    url = postgres_databases.create()
    yield url
    postgres_databases.drop(url)


@pytest_asyncio.fixture
async def replay(corpus_dir: Path) -> AsyncIterator[ReplayServer]:
    """The replay server (snapshot ``dense-current``, a little latency per request)."""
    async with ReplayServer(corpus_dir, snapshot=SNAPSHOT, latency_ms=LATENCY_MS) as server:
        yield server


_REFERENCE_VIEWS: dict[str, Views] = {}


@pytest_asyncio.fixture
async def reference_views(
    database_url: str,
    replay: ReplayServer,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_databases: PostgresDatabases,
) -> Views:
    """The views after one uninterrupted sync on a fresh database of ``database_url``'s backend.

    Computed once per backend and session.
    """
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    if backend not in _REFERENCE_VIEWS:
        if backend == "sqlite":
            url = await asyncio.to_thread(migrated_sqlite_url, tmp_path_factory.mktemp("reference"))
        else:
            url = await asyncio.to_thread(postgres_databases.create)
        try:
            await sync(url, replay)
            views = await read_views(url)
        finally:
            if backend == "postgresql":
                await asyncio.to_thread(postgres_databases.drop, url)
        assert all(views.values()), "the reference run indexed nothing"
        _REFERENCE_VIEWS[backend] = views
    return _REFERENCE_VIEWS[backend]
