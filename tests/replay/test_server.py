"""ReplayServer itself: addresses, environment, snapshot control, cold concurrent loads."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from indexer.replay import Corpus, ReplayServer, UnknownSnapshotError, hub_tags_for


@pytest.mark.asyncio
async def test_addresses_env_and_snapshot_control(
    replay: ReplayServer, session: aiohttp.ClientSession
) -> None:
    assert replay.port > 0
    assert replay.url == f"http://127.0.0.1:{replay.port}"
    assert replay.env() == {
        "INDEXER_HUB_URL": f"{replay.url}/hub",
        "INDEXER_GITHUB_API_URL": f"{replay.url}/github-api",
        "INDEXER_GITHUB_RAW_URL": f"{replay.url}/github-raw",
        "INDEXER_REGISTRY_URL": f"{replay.url}/registry",
        "INDEXER_REGISTRY_AUTH_URL": f"{replay.url}/registry-auth",
    }
    assert (
        replay.hub_url,
        replay.github_api_url,
        replay.github_raw_url,
        replay.registry_url,
        replay.registry_auth_url,
    ) == tuple(replay.env().values())
    with pytest.raises(UnknownSnapshotError):
        replay.switch_snapshot("nope")
    replay.switch_snapshot("meta-2024")
    async with session.get(f"{replay.url}/_replay/snapshot") as response:
        body = await response.json()
    assert body["snapshot"] == "meta-2024"
    assert body["commit"] == "405e0b84ff62c704d9e1a8b82863f926a4dbe7b5"
    assert body["snapshots"][0] == "meta-2024"
    assert sum(replay.counters.requests.values()) == 0  # control requests are not counted
    await replay.warm("dense-current")
    assert len(replay.state.hub_pages.entries("dense-current", "python", "name")) > 300


@pytest.mark.asyncio
async def test_cold_repository_under_concurrent_requests(
    corpus_dir: Path, session: aiohttp.ClientSession
) -> None:
    corpus = Corpus(corpus_dir)  # a fresh corpus: nothing loaded yet
    async with ReplayServer(corpus, snapshot="current") as server:
        url = f"{server.hub_url}/v2/namespaces/library/repositories/php/tags"

        async def page(number: int) -> list[str]:
            params = {"page_size": 100, "page": number}
            async with session.get(url, params=params) as response:
                assert response.status == 200
                return [r["name"] for r in (await response.json())["results"]]

        pages = await asyncio.gather(*(page(n) for n in range(1, 6)))
        names = [name for names in pages for name in names]
        assert names[:500] == [v.name for v in hub_tags_for(corpus, "current", "php")][:500]
        assert server.counters.statuses["hub_tags"] == {200: 5}
