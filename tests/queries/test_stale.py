"""``indexer stale``, ``show --json``'s registry, the stale marks, and the README's registry
queries, on an index synced from a replay whose registry publishes stale and pending images."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from indexer.replay import Corpus, ReplayServer
from indexer.replay.registry_images import RegistryOptions
from tests.queries.conftest import Cli, query
from tests.queries.test_docs_queries import examples
from tests.sync.helpers import replay_settings, sync_once

SNAPSHOT = "dense-current"
ONLY = ("debian", "python")
OPTIONS = RegistryOptions(stale_share=0.2, pending_share=0.1)
REGISTRY_EXAMPLES = (
    "Images on an outdated debian:bookworm-slim, oldest first",
    "Builds the registry has not published yet",
)

Key = tuple[str, str, str]


def _sync(corpus_dir: Path, database_url: str) -> tuple[set[Key], set[Key]]:
    """Sync ONLY from the replay; answer the (repository, canonical tag, arch) expected
    stale and pending."""

    async def run() -> tuple[set[Key], set[Key]]:
        async with ReplayServer(Corpus(corpus_dir), snapshot=SNAPSHOT, registry=OPTIONS) as replay:
            summary = await sync_once(replay_settings(replay, database_url), only=ONLY)
            assert summary.status in ("ok", "partial")
            stale: set[Key] = set()
            pending: set[Key] = set()
            canonical = {
                (repository, canonical)
                for repository, canonical in await _canonical_tags(database_url)
            }
            for repository in ONLY:
                for name, tag in replay.published.tags(SNAPSHOT, repository).items():
                    if (repository, name) not in canonical:
                        continue
                    for build in tag.builds:
                        key = (repository, name, build.architecture)
                        if build.stale and (build.base_name or "").startswith("debian:"):
                            stale.add(key)
                        if build.pending:
                            pending.add(key)
            return stale, pending

    return asyncio.run(run())


async def _canonical_tags(database_url: str) -> list[tuple[str, str]]:
    from tests.sync.helpers import query as async_query

    rows = await async_query(
        database_url,
        "SELECT repository, tag FROM v_tags WHERE maintained AND tag = canonical_tag",
    )
    return [(row[0], row[1]) for row in rows]


@pytest.fixture
def synced(
    corpus_dir: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> tuple[Cli, set[Key], set[Key]]:
    stale, pending = _sync(corpus_dir, database_url)
    return Cli(database_url, capsys), stale, pending


def test_stale_lists_the_stale_images_oldest_first(
    synced: tuple[Cli, set[Key], set[Key]],
) -> None:
    cli, stale, _ = synced
    assert stale
    rows = cli.json("stale")
    assert {(r["repository"], r["tag"], r["architecture"]) for r in rows} == stale
    moments = [r["stale_since"] for r in rows]
    assert all(moments) and moments == sorted(moments)
    assert all(r["base_digest"] != r["base_current_digest"] for r in rows)

    on_bookworm = cli.json("stale", "--base", "debian:bookworm-slim")
    assert on_bookworm
    assert {r["base"] for r in on_bookworm} <= {"debian:bookworm-slim", "debian:12-slim"}
    assert cli.json("stale", "--base", "debian:12-slim") == on_bookworm
    status, out, err = cli.run("stale")
    assert status == 0 and "python:" in out and err == ""

    # the README's query answers the same
    sql = examples()[REGISTRY_EXAMPLES[0]]
    answered = [(r[0], r[1], r[2]) for r in query(cli.database_url, sql)]
    assert answered == [(r["repository"], r["tag"], r["architecture"]) for r in on_bookworm]


def test_show_explain_and_children_carry_the_registry(
    synced: tuple[Cli, set[Key], set[Key]],
) -> None:
    cli, stale, pending = synced
    repository, tag, arch = sorted(k for k in stale if k[0] == "python")[0]
    shown = cli.json("show", f"{repository}:{tag}")
    registry = {p["architecture"]: p["registry"] for p in shown["platforms"]}
    assert set(registry[arch]) == {
        "index_digest",
        "manifest_digest",
        "base",
        "base_digest",
        "agrees",
        "stale",
        "stale_since",
        "pending",
        "revision",
        "created",
        "stale_since_exact",
    }
    assert registry[arch]["stale"] is True
    assert registry[arch]["agrees"] is True
    assert registry[arch]["index_digest"] == shown["hub"]["digest"]

    explained = cli.json("explain", f"{repository}:{tag}")
    marks = {p["architecture"]: p["stale"] for p in explained["platforms"]}
    assert marks[arch] is True

    base = registry[arch]["base"]
    children = cli.json("children", base, "--recursive")
    row = next(r for r in children if (r["repository"], r["tag"]) == (repository, tag))
    assert arch in row["stale"]
    assert all((r["repository"], r["tag"], a) in stale for r in children for a in r["stale"])

    rows = query(cli.database_url, examples()[REGISTRY_EXAMPLES[1]])
    assert {(r[0], r[1], r[2]) for r in rows} == pending
    assert all(r[3] != r[4] for r in rows)
