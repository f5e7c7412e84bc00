"""``indexer migrate`` says what it did: from which revision to which, or that it had nothing to do."""

from __future__ import annotations

import asyncio

import pytest

from indexer.cli.main import main
from indexer.store.migrate import head_revision, upgrade
from tests.databases import fetch_rows


def test_migrate_reports_each_step(
    empty_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    head = head_revision()
    assert main(["--database-url", empty_database_url, "migrate"]) == 0
    first = capsys.readouterr().err.strip()
    assert first.startswith("database schema upgraded from an empty database to revision ")
    assert first.split("revision ")[1].split(" ")[0] == head
    assert asyncio.run(
        fetch_rows(empty_database_url, "SELECT version_num FROM alembic_version")
    ) == [(head,)]
    assert main(["--database-url", empty_database_url, "migrate"]) == 0
    assert (
        capsys.readouterr().err.strip()
        == f"database schema already at revision {head} (the newest)"
    )


def test_upgrade_from_an_older_revision_names_both(empty_database_url: str) -> None:
    older = asyncio.run(upgrade(empty_database_url, "0002"))
    assert (older.before, older.after, older.applied) == (None, "0002", ("0001", "0002"))
    newest = asyncio.run(upgrade(empty_database_url))
    assert newest.before == "0002"
    assert newest.after == head_revision()
    assert newest.applied[0] != "0002" and newest.applied[-1] == head_revision()
