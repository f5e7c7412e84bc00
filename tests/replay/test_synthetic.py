"""``--synthetic-tags N``: N more deterministic tags per repository, after the real ones."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from indexer.replay import Corpus, ReplayServer, hub_tags_for
from indexer.replay.synthetic import synthetic_tag


def _tags_url(replay: ReplayServer, repository: str) -> str:
    return f"{replay.hub_url}/v2/namespaces/library/repositories/{repository}/tags"


async def _all(session: aiohttp.ClientSession, url: str, **params: Any) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    next_url: str | None = url
    query: dict[str, Any] | None = {"page_size": 100, **params}
    while next_url is not None:
        async with session.get(next_url, params=query) as response:
            assert response.status == 200, await response.text()
            page = await response.json()
        results.extend(page["results"])
        next_url, query = page["next"], None
    return results


def _stored(tag: dict[str, Any]) -> tuple[Any, ...]:
    """What a sync stores of a tag (``last_pulled`` follows the snapshot's date)."""
    images = [(i["digest"], i["size"], i["last_pushed"]) for i in tag["images"]]
    return tag["name"], tag["digest"], tag["last_updated"], images


@pytest.mark.asyncio
async def test_synthetic_tags_follow_the_real_ones(corpus: Corpus) -> None:
    real = hub_tags_for(corpus, "dense-current", "hello-world")
    async with (
        ReplayServer(corpus, synthetic_tags=250) as replay,
        aiohttp.ClientSession() as session,
    ):
        served = await _all(session, _tags_url(replay, "hello-world"))
        by_name = await _all(session, _tags_url(replay, "hello-world"), ordering="name")
        replay.switch_snapshot("dense-previous")
        after_switch = await _all(session, _tags_url(replay, "hello-world"))
    assert len(served) == len(real) + 250
    assert [tag["name"] for tag in served[: len(real)]] == [view.name for view in real]
    synthetic = served[len(real) :]
    assert [tag["name"] for tag in synthetic] == [f"synthetic-{i:05d}" for i in range(250)]
    # newest first, all older than every real tag; three to six platforms, distinct digests
    times = [tag["last_updated"] for tag in served]
    assert times == sorted(times, reverse=True)
    assert synthetic[0]["last_updated"] < min(view.last_updated for view in real)
    assert all(3 <= len(tag["images"]) <= 6 for tag in synthetic)
    digests = [image["digest"] for tag in synthetic for image in tag["images"]]
    assert len(set(digests)) == len(digests)
    assert len({tag["digest"] for tag in synthetic}) == 250
    # the same tags whatever the ordering and the snapshot
    assert sorted(tag["name"] for tag in by_name) == sorted(tag["name"] for tag in served)
    switched = [t for t in after_switch if t["name"].startswith("synthetic-")]
    assert [_stored(tag) for tag in switched] == [_stored(tag) for tag in synthetic]


def test_synthetic_tags_are_a_pure_function_of_repository_and_index() -> None:
    assert synthetic_tag("python", 7) == synthetic_tag("python", 7)
    assert synthetic_tag("python", 7).digest != synthetic_tag("debian", 7).digest
    assert synthetic_tag("python", 7).digest != synthetic_tag("python", 8).digest


@pytest.mark.asyncio
async def test_without_the_option_nothing_is_added(replay: ReplayServer) -> None:
    async with aiohttp.ClientSession() as session:
        served = await _all(session, _tags_url(replay, "hello-world"))
    assert not [tag for tag in served if tag["name"].startswith("synthetic-")]
    assert len(served) == len(hub_tags_for(replay.corpus, "dense-current", "hello-world"))


@pytest.mark.asyncio
async def test_warming_renders_the_synthetic_tags_once_and_serves_the_same(
    corpus: Corpus,
) -> None:
    snapshot = "dense-current"
    async with ReplayServer(corpus, snapshot=snapshot, synthetic_tags=5) as replay:
        pages = replay.state.hub_pages
        lazy = list(pages.entries(snapshot, "python", "last_updated"))
        await replay.warm()
        warmed = pages.entries(snapshot, "python", "last_updated")
        assert isinstance(warmed, list)  # kept, no longer rendered per request
        assert warmed == lazy
        assert sum(b'"name":"synthetic-' in entry for entry in warmed) == 5
