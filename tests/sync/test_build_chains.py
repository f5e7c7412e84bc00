"""The lineage closure (``build_chains``) behind ``v_ancestors``, on both backends.

- on the corpus, every contract view holds the same rows with the closure as with
  the walking ``v_ancestors`` it replaced (downgrade, compare, upgrade again), and the
  migration's fill equals what the sync maintained;
- a sync that moves one base rewrites the chains at and below it, and no other row;
- a refresh with nothing changed writes nothing, and repairs what is missing.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory

from indexer.replay import Corpus, ReplayServer
from indexer.store.closure import refresh_build_chains
from indexer.store.migrate import alembic_config, upgrade
from tests.store.handmade import load_handmade_graph
from tests.sync.helpers import MiniCorpus, query, refresh_after, relink, replay_settings, sync_once
from tests.sync.minis import commits

#: the revision that added build_chains
REVISION = "0009"

CHAINS_SQL = "SELECT build_id, steps, chain_build_id FROM build_chains"


def _before_closure(database_url: str) -> str:
    script = ScriptDirectory.from_config(alembic_config(database_url))
    down = script.get_revision(REVISION).down_revision
    assert isinstance(down, str)
    return down


async def _downgrade(database_url: str, revision: str) -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), revision)


async def _contract_views(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every ``v_*`` view's rows, sorted, values as text."""
    dialect_views = (
        "SELECT name FROM sqlite_master WHERE type = 'view' AND name LIKE 'v\\_%' ESCAPE '\\'"
        if database_url.startswith("sqlite")
        else "SELECT viewname FROM pg_views WHERE schemaname = 'public' AND viewname LIKE 'v\\_%'"
    )
    names = sorted(name for (name,) in await query(database_url, dialect_views))
    result = {}
    for name in names:
        rows = await query(database_url, f"SELECT * FROM {name}")
        result[name] = sorted(tuple(None if v is None else str(v) for v in row) for row in rows)
    return result


@pytest.mark.corpus
@pytest.mark.slow
@pytest.mark.asyncio
async def test_views_hold_the_same_rows_with_and_without_the_closure_on_the_corpus(
    database_url: str, corpus: Corpus, replay: ReplayServer
) -> None:
    await sync_once(replay_settings(replay, database_url))
    with_closure = await _contract_views(database_url)
    maintained = sorted(await query(database_url, CHAINS_SQL))
    assert len(with_closure["v_ancestors"]) > 20_000

    await _downgrade(database_url, _before_closure(database_url))
    walking = await _contract_views(database_url)
    assert walking.keys() <= with_closure.keys()
    assert "v_ancestors" in walking
    for name, rows in walking.items():
        assert rows == with_closure[name], name

    await upgrade(database_url)
    after = await _contract_views(database_url)
    # the views the closure serves are back as they were (the downgrade also dropped
    # later revisions' tables, such as the registry's, which a sync would refill)
    assert after.keys() == with_closure.keys()
    for name in walking:
        assert after[name] == with_closure[name], name
    # the migration's fill walks exactly the chains the sync kept
    assert sorted(await query(database_url, CHAINS_SQL)) == maintained


# --------------------------------------------------------------------------- one base moves

COMMIT_ONE = "1" * 40
COMMIT_TWO = "2" * 40
PLATFORMS = [("linux", "amd64", None, 10_000_000), ("linux", "arm64", "v8", 9_000_000)]


def _library(commit: str, *stanzas: str) -> str:
    body = "\n".join(
        f"Tags: {tag}\nArchitectures: amd64, arm64v8\nGitCommit: {commit}\nDirectory: {tag}\n"
        for tag in stanzas
    )
    return f"Maintainers: Test (@test)\nGitRepo: https://github.com/example/lib.git\n\n{body}"


def _image(corpus: MiniCorpus, name: str, commit: str, tags: list[str]) -> None:
    corpus.library_file(name, _library(commit, *tags))
    corpus.hub(name, dict.fromkeys(tags, PLATFORMS))


def _two_snapshots(root: Path) -> None:
    """``one``: app -> mid -> base:a, other -> base:b; ``two``: mid (a new commit) moves to
    base:b. One source repository holds every Dockerfile, a directory per tag."""
    for snapshot, mid_commit in (("one", COMMIT_ONE), ("two", COMMIT_TWO)):
        corpus = MiniCorpus(root, snapshot)
        _image(corpus, "base", COMMIT_ONE, ["a", "b"])
        _image(corpus, "mid", mid_commit, ["m1"])
        _image(corpus, "app", COMMIT_ONE, ["x1"])
        _image(corpus, "other", COMMIT_ONE, ["o1"])
    corpus = MiniCorpus(root, "one")
    for commit, mid_parent in ((COMMIT_ONE, "base:a"), (COMMIT_TWO, "base:b")):
        files = {"a": "scratch", "b": "scratch", "m1": mid_parent, "x1": "mid:m1", "o1": "base:b"}
        for tag, parent in files.items():
            corpus.dockerfile("example/lib", commit, f"{tag}/Dockerfile", f"FROM {parent}\n")
    commits(root, "one", "two")


async def _chain_rows(database_url: str) -> dict[tuple[str, str, int], tuple[str, str]]:
    """(image, architecture, steps) -> (chain build's image, the row's identity)."""
    identity = "c.rowid" if database_url.startswith("sqlite") else "c.xmin::text"
    rows = await query(
        database_url,
        f"""SELECT r.name || ':' || s.canonical_tag, b.architecture, c.steps,
                   cr.name || ':' || cs.canonical_tag, CAST({identity} AS TEXT)
            FROM build_chains c
            JOIN builds b ON b.id = c.build_id
            JOIN stanzas s ON s.id = b.stanza_id
            JOIN image_repositories r ON r.id = s.repository_id
            JOIN builds cb ON cb.id = c.chain_build_id
            JOIN stanzas cs ON cs.id = cb.stanza_id
            JOIN image_repositories cr ON cr.id = cs.repository_id""",
    )
    return {(image, arch, steps): (chain, row_id) for image, arch, steps, chain, row_id in rows}


def _ancestors(rows: list[tuple[Any, ...]]) -> list[str]:
    return [f"{repository}:{tag}" if tag else repository for _, repository, tag in rows]


ANCESTORS_SQL = (
    "SELECT depth, ancestor_repository, ancestor_tag FROM v_ancestors "
    "WHERE repository = 'app' AND tag = 'x1' AND architecture = 'arm64v8' ORDER BY depth"
)


@pytest.mark.asyncio
async def test_a_sync_that_moves_one_base_rewrites_only_the_chains_below_it(
    database_url: str, tmp_path: Path
) -> None:
    _two_snapshots(tmp_path / "corpus")
    async with ReplayServer(tmp_path / "corpus", snapshot="one") as replay:
        settings = replay_settings(replay, database_url)
        assert (await sync_once(settings)).status == "ok"
        before = await _chain_rows(database_url)
        assert _ancestors(await query(database_url, ANCESTORS_SQL)) == [
            "mid:m1",
            "base:a",
            "scratch",
        ]

        replay.switch_snapshot("two")
        assert (await sync_once(settings)).status == "ok"
        after = await _chain_rows(database_url)

    assert _ancestors(await query(database_url, ANCESTORS_SQL)) == ["mid:m1", "base:b", "scratch"]
    below = {"mid:m1", "app:x1"}
    # the images at and below the moved link: every chain row written again
    for key, (_chain, row_id) in after.items():
        if key[0] in below:
            assert key not in before or before[key][1] != row_id, key
    assert after[("app:x1", "amd64", 2)][0] == "base:b"
    assert after[("mid:m1", "amd64", 1)][0] == "base:b"
    # everything else: the very same rows, not rewritten
    untouched = {key: value for key, value in before.items() if key[0] not in below}
    assert untouched == {key: value for key, value in after.items() if key[0] not in below}
    assert {key[0] for key in untouched} == {"base:a", "base:b", "other:o1"}


# --------------------------------------------------------------------------- refresh itself


async def _refresh(database_url: str, *statements: str) -> tuple[int, int]:
    return await refresh_after(database_url, refresh_build_chains, *statements)


def test_a_refresh_with_nothing_changed_writes_nothing_and_repairs_what_is_missing(
    database_url: str,
) -> None:
    load_handmade_graph(database_url)
    full = sorted(asyncio.run(query(database_url, CHAINS_SQL)))
    assert any(steps == 3 for _, steps, _ in full)  # python -> bookworm -> scm -> curl
    assert asyncio.run(relink(database_url)) == 0
    assert asyncio.run(_refresh(database_url)) == (0, 0)
    assert sorted(asyncio.run(query(database_url, CHAINS_SQL))) == full

    # a lost chain (the step-0 row of each build of one stanza) is walked again
    deleted, inserted = asyncio.run(
        _refresh(database_url, "DELETE FROM build_chains WHERE steps = 0 AND build_id IN (1, 2)")
    )
    assert inserted == deleted + 2
    assert sorted(asyncio.run(query(database_url, CHAINS_SQL))) == full
    # a wrong step-1 row rewrites that chain and every chain through it
    asyncio.run(
        _refresh(database_url, "UPDATE build_chains SET chain_build_id = 1 WHERE steps = 1")
    )
    assert sorted(asyncio.run(query(database_url, CHAINS_SQL))) == full
    # from nothing, the full walk
    asyncio.run(_refresh(database_url, "DELETE FROM build_chains"))
    assert sorted(asyncio.run(query(database_url, CHAINS_SQL))) == full
