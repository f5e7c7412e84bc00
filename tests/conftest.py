"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.corpus import require_corpus
from tests.databases import (
    BACKENDS,
    PostgresDatabases,
    migrated_sqlite_url,
    postgres_admin_url,
)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The shared corpus folder (the test is skipped when it is absent)."""
    return require_corpus()


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases(postgres_admin_url())
    databases.setup()
    yield databases
    databases.teardown()


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_databases: PostgresDatabases
) -> Iterator[str]:
    """A freshly migrated, empty database on each backend."""
    if request.param == "sqlite":
        yield migrated_sqlite_url(tmp_path)
        return
    url = postgres_databases.create()
    yield url
    postgres_databases.drop(url)


@pytest.fixture(params=BACKENDS)
def empty_database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_databases: PostgresDatabases
) -> Iterator[str]:
    """A database without any schema, on each backend (never migrated)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    url = postgres_databases.create_empty()
    yield url
    postgres_databases.drop(url)
