"""The contract views v_tags, v_parents and v_ancestors on the hand-made graph, both backends."""

from __future__ import annotations

import asyncio
from collections import Counter

from indexer.store.db import Database
from indexer.store.queries import show_tag
from indexer.store.read.session import SessionReader
from tests.queries.conftest import query


def test_v_tags_one_row_per_known_tag(lineage_url: str) -> None:
    rows = query(
        lineage_url,
        "SELECT tag, canonical_tag, maintained FROM v_tags WHERE repository = 'debian' ORDER BY tag",
    )
    assert rows == [
        ("10", "buster", False),
        ("11-slim", "bullseye-slim", True),
        ("12", "bookworm", True),
        ("12-slim", "bookworm-slim", True),
        ("12.7", "bookworm", True),
        ("bookworm", "bookworm", True),
        ("bookworm-slim", "bookworm-slim", True),
        ("bullseye-slim", "bullseye-slim", True),
        ("buster", "buster", False),
        ("latest", "bookworm", True),
    ]


def test_v_parents_rows_of_a_shared_tag(lineage_url: str) -> None:
    rows = query(
        lineage_url,
        "SELECT architecture, parent_ref, parent_repository, parent_tag FROM v_parents "
        "WHERE repository = 'python' AND tag = '3.12' ORDER BY architecture, parent_ref",
    )
    assert rows == [
        ("amd64", "buildpack-deps:bookworm", "buildpack-deps", "bookworm"),
        ("arm32v5", "buildpack-deps:bookworm", "buildpack-deps", "bookworm"),
        ("arm64v8", "buildpack-deps:bookworm", "buildpack-deps", "bookworm"),
        (
            "windows-amd64",
            "mcr.microsoft.com/windows/servercore:ltsc2022",
            "mcr.microsoft.com/windows/servercore",
            "ltsc2022",
        ),
        (
            "windows-amd64",
            "mcr.microsoft.com/windows/servercore:ltsc2025",
            "mcr.microsoft.com/windows/servercore",
            "ltsc2025",
        ),
    ]


def test_v_parents_scratch_and_unresolved(lineage_url: str) -> None:
    assert query(
        lineage_url,
        "SELECT parent_ref, parent_repository, parent_tag FROM v_parents "
        "WHERE repository = 'alpine' AND tag = '3.20' AND architecture = 'amd64'",
    ) == [("scratch", "scratch", None)]
    assert query(
        lineage_url,
        "SELECT parent_ref, parent_repository, parent_tag FROM v_parents "
        "WHERE repository = 'mystery' AND tag = 'latest'",
    ) == [(None, None, None)]
    assert query(
        lineage_url, "SELECT COUNT(*) FROM v_parents WHERE repository = 'debian' AND tag = 'buster'"
    ) == [(0,)]


def ancestors(url: str, repository: str, tag: str, architecture: str) -> list[str]:
    rows = query(
        url,
        "SELECT depth, ancestor_repository, ancestor_tag FROM v_ancestors "
        "WHERE repository = :r AND tag = :t AND architecture = :a ORDER BY depth",
        r=repository,
        t=tag,
        a=architecture,
    )
    return [f"{repo}:{tag}" if tag is not None else repo for _, repo, tag in rows]


def test_v_ancestors_chains(lineage_url: str) -> None:
    assert ancestors(lineage_url, "python", "3.12-slim", "arm32v5") == [
        "debian:bullseye-slim",
        "scratch",
    ]
    assert ancestors(lineage_url, "linuxapp", "latest", "amd64") == [
        "python:3.12",
        "buildpack-deps:bookworm",
        "buildpack-deps:bookworm-scm",
        "buildpack-deps:bookworm-curl",
        "debian:bookworm",
        "scratch",
    ]
    assert ancestors(lineage_url, "winapp", "1.0", "windows-amd64") == [
        "python:3.12",
        "mcr.microsoft.com/windows/servercore:ltsc2025",
    ]
    assert ancestors(lineage_url, "loopy", "a", "amd64") == ["loopy:b", "loopy:a"]
    assert ancestors(lineage_url, "legacy", "1.0", "arm64v8") == ["debian:buster", "scratch"]
    assert ancestors(lineage_url, "mystery", "1.0", "amd64") == []


async def _show_chains(url: str, refs: list[str]) -> Counter[tuple[str, str, tuple[str, ...]]]:
    database = Database(url)
    try:
        chains: Counter[tuple[str, str, tuple[str, ...]]] = Counter()
        async with database.session() as session:
            for ref in refs:
                view = await show_tag(SessionReader(session), ref)
                for platform in view.platforms:
                    chain = tuple(platform.ancestors)
                    chains[(f"{view.repository}:{view.tag}", platform.architecture, chain)] += 1
        return chains
    finally:
        await database.dispose()


def test_v_ancestors_agrees_with_show_for_every_tag_and_architecture(lineage_url: str) -> None:
    """The SQL walk (LATERAL on PostgreSQL, whole-graph on SQLite) and the store's walk agree."""
    tags = query(lineage_url, "SELECT DISTINCT repository, tag FROM v_parents")
    refs = [f"{repository}:{tag}" for repository, tag in tags]
    expected = asyncio.run(_show_chains(lineage_url, refs))
    rows = query(
        lineage_url,
        "SELECT repository, tag, architecture, depth, ancestor_repository, ancestor_tag "
        "FROM v_ancestors ORDER BY repository, tag, architecture, depth",
    )
    walks: list[tuple[str, str, list[str]]] = []
    for repository, tag, architecture, depth, ancestor_repository, ancestor_tag in rows:
        name = f"{ancestor_repository}:{ancestor_tag}" if ancestor_tag else ancestor_repository
        if depth == 1:
            walks.append((f"{repository}:{tag}", architecture, []))
        walks[-1][2].append(name)
    found = Counter((ref, arch, tuple(chain)) for ref, arch, chain in walks)
    expected_with_parents = Counter({key: n for key, n in expected.items() if key[2]})
    assert found == expected_with_parents
    assert len(found) > 40
