"""Request counters per endpoint kind."""

from __future__ import annotations

import aiohttp
import pytest

from indexer.replay import ENDPOINT_KINDS, ReplayServer, classify
from tests.replay.conftest import LIBRARY

HEAD = "clearlinux/docker-brew-clearlinux/68e01605e9214b1884687b702416befa1cfe74cb/Dockerfile"


def test_classify() -> None:
    assert classify("/hub/v2/namespaces/library/repositories/python/tags") == "hub_tags"
    assert classify(f"/github-api{LIBRARY}/commits/master") == "branch_head"
    assert classify(f"/github-api{LIBRARY}/contents/library") == "library_listing"
    assert classify("/github-raw/docker-library/official-images/abc/library/python") == (
        "library_file"
    )
    assert classify(f"/github-raw/{HEAD}") == "dockerfile"
    assert classify("/favicon.ico") == "other"


@pytest.mark.asyncio
async def test_counts_paths_statuses_and_reset(
    replay: ReplayServer, session: aiohttp.ClientSession
) -> None:
    commit = replay.snapshot.commit
    library_file = f"/github-raw/docker-library/official-images/{commit}/library/python"
    hub = "/hub/v2/namespaces/library/repositories/python/tags?page_size=100&page=2"
    requests = [
        f"/github-api{LIBRARY}/commits/master",
        f"/github-api{LIBRARY}/contents/library?ref={commit}",
        library_file,
        f"/github-raw/{HEAD}",
        "/github-raw/a/b/c/Dockerfile",
        hub,
        "/nothing/here",
    ]
    for path in requests:
        async with session.get(replay.url + path) as response:
            await response.read()
    async with session.get(f"{replay.url}/_replay/snapshot") as response:
        assert (await response.json())["snapshot"] == "dense-current"
    counters = replay.counters
    assert dict(counters.requests) == {
        "branch_head": 1,
        "library_listing": 1,
        "library_file": 1,
        "dockerfile": 2,
        "hub_tags": 1,
        "other": 1,
    }
    assert counters.paths["library_file"] == [library_file]
    assert counters.paths["dockerfile"] == [f"/github-raw/{HEAD}", "/github-raw/a/b/c/Dockerfile"]
    assert counters.served["dockerfile"] == [f"/github-raw/{HEAD}"]
    assert counters.paths["hub_tags"] == [hub]
    assert counters.statuses["dockerfile"] == {200: 1, 404: 1}
    assert counters.statuses["other"] == {404: 1}
    async with session.get(f"{replay.url}/_replay/counters") as response:
        as_json = await response.json()
    assert as_json["requests"]["dockerfile"] == 2
    assert as_json["statuses"]["dockerfile"] == {"200": 1, "404": 1}
    assert as_json["paths"]["library_file"] == [library_file]
    async with session.post(f"{replay.url}/_replay/counters/reset") as response:
        assert response.status == 200
    assert sum(counters.requests.values()) == 0
    assert all(counters.paths[kind] == [] for kind in ENDPOINT_KINDS)
    replay.counters.reset()
    assert replay.counters.statuses["dockerfile"] == {}
