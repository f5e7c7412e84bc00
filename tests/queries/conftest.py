"""Fixtures of the query tests: the hand-made lineage graph on each backend.

Most tests only read, so the graph is written once per test session and backend
into a freshly migrated database (made the way ``database_url`` makes one).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from indexer.cli.main import main
from tests.databases import BACKENDS, PostgresDatabases, fetch_rows, migrated_sqlite_url
from tests.queries.lineage_fixture import load_lineage_graph


@contextmanager
def fresh_database(
    backend: str, tmp_path_factory: pytest.TempPathFactory, postgres: PostgresDatabases
) -> Iterator[str]:
    """A freshly migrated database on ``backend``, dropped afterwards (as ``database_url``)."""
    if backend == "sqlite":
        yield migrated_sqlite_url(tmp_path_factory.mktemp("queries"))
        return
    url = postgres.create()
    try:
        yield url
    finally:
        postgres.drop(url)


@pytest.fixture(scope="session", params=BACKENDS)
def lineage_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_databases: PostgresDatabases,
) -> Iterator[str]:
    """A migrated database holding the lineage graph, shared by the tests that only read."""
    with fresh_database(request.param, tmp_path_factory, postgres_databases) as url:
        load_lineage_graph(url)
        yield url


class Cli:
    """Runs ``indexer`` in-process against one database and captures its output."""

    def __init__(self, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.database_url = database_url
        self.capsys = capsys

    def run(self, *args: str) -> tuple[int, str, str]:
        status = main(["--database-url", self.database_url, *args])
        captured = self.capsys.readouterr()
        return status, captured.out, captured.err

    def json(self, *args: str) -> Any:
        status, out, err = self.run(*args, "--json")
        assert status == 0, err
        return json.loads(out)


@pytest.fixture
def cli(lineage_url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(lineage_url, capsys)


def query(database_url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Rows of one SQL statement."""
    return asyncio.run(fetch_rows(database_url, sql, **params))
