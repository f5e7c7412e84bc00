"""The Docker Hub tag list of the replay server, through a real aiohttp client."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from indexer.replay import ReplayServer, hub_tags_for
from indexer.replay.hub_view import parse_hub_time

RESULT_KEYS = {
    "creator", "id", "images", "last_updated", "last_updater", "last_updater_username", "name",
    "repository", "full_size", "v2", "tag_status", "tag_last_pulled", "tag_last_pushed",
    "media_type", "content_type", "digest",
}  # fmt: skip
IMAGE_KEYS = {
    "architecture", "features", "variant", "digest", "os", "os_features", "os_version", "size",
    "status", "last_pushed", "last_pulled",
}  # fmt: skip


def _tags_url(replay: ReplayServer, repository: str) -> str:
    return f"{replay.hub_url}/v2/namespaces/library/repositories/{repository}/tags"


async def _get(session: aiohttp.ClientSession, url: str, **params: str | int) -> Any:
    async with session.get(url, params=params or None) as response:
        assert response.status == 200, await response.text()
        assert response.content_type == "application/json"
        return await response.json()


async def _all_pages(session: aiohttp.ClientSession, url: str) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    page: Any = await _get(session, url, page_size=100, ordering="last_updated")
    while True:
        results.extend(page["results"])
        if page["next"] is None:
            return results
        page = await _get(session, page["next"])


@pytest.mark.asyncio
async def test_shape_of_a_page(replay: ReplayServer, session: aiohttp.ClientSession) -> None:
    page = await _get(session, _tags_url(replay, "python"))
    assert set(page) == {"count", "next", "previous", "results"}
    assert page["count"] == len(hub_tags_for(replay.corpus, "dense-current", "python"))
    assert len(page["results"]) == 10  # the Hub's default page size
    assert page["previous"] is None
    for result in page["results"]:
        assert set(result) == RESULT_KEYS
        assert result["tag_status"] == "active"
        assert result["v2"] is True
        assert result["digest"].startswith("sha256:")
        assert result["images"]
        for image in result["images"]:
            assert set(image) == IMAGE_KEYS
            assert image["status"] == "active"
            assert image["os"] in {"linux", "windows"}
    amd64 = [i for i in page["results"][0]["images"] if i["architecture"] == "amd64"]
    assert page["results"][0]["full_size"] == amd64[0]["size"]


@pytest.mark.asyncio
async def test_paging_next_previous_and_page_size(
    replay: ReplayServer, session: aiohttp.ClientSession
) -> None:
    url = _tags_url(replay, "python")
    first = await _get(session, url, page_size=100, page=1)
    count = first["count"]
    assert 300 < count < 400
    assert first["next"] == f"{url}?page=2&page_size=100"
    second = await _get(session, first["next"])
    assert second["previous"] == f"{url}?page=1&page_size=100"
    last = await _get(session, url, page_size=100, page=4)
    assert last["next"] is None
    assert len(last["results"]) == count - 300
    capped = await _get(session, url, page_size=500)
    assert len(capped["results"]) == 100
    assert capped["next"] == f"{url}?page=2&page_size=100"
    async with session.get(
        url, params={"page_size": 2}, headers={"Host": "hub.example.test:4321"}
    ) as response:
        assert (await response.json())["next"] == (
            "http://hub.example.test:4321/hub/v2/namespaces/library/repositories/python/tags"
            "?page=2&page_size=2"
        )


@pytest.mark.asyncio
async def test_following_next_gives_the_hub_view_in_order(
    replay: ReplayServer, session: aiohttp.ClientSession
) -> None:
    results = await _all_pages(session, _tags_url(replay, "python"))
    expected = replay.published.views("dense-current", "python")
    assert [v.name for v in expected] == [
        v.name for v in hub_tags_for(replay.corpus, "dense-current", "python")
    ]
    assert [r["name"] for r in results] == [v.name for v in expected]
    assert [r["digest"] for r in results] == [v.digest for v in expected]
    assert [r["last_updated"] for r in results] == [v.last_updated for v in expected]
    assert [[i["digest"] for i in r["images"]] for r in results] == [
        [i.digest for i in v.images] for v in expected
    ]


@pytest.mark.asyncio
async def test_ordering(replay: ReplayServer, session: aiohttp.ClientSession) -> None:
    url = _tags_url(replay, "alpine")
    default = await _get(session, url, page_size=100)
    by_update = await _get(session, url, page_size=100, ordering="last_updated")
    assert default["results"] == by_update["results"]
    assert by_update["next"] is None or "ordering=last_updated" in by_update["next"]
    keys = [(r["last_updated"], r["name"]) for r in by_update["results"]]
    assert keys == sorted(keys, key=lambda k: (-parse_hub_time(k[0]).timestamp(), k[1]))
    by_name = await _get(session, url, page_size=100, ordering="name")
    names = [r["name"] for r in by_name["results"]]
    assert names == sorted(names)


@pytest.mark.asyncio
async def test_errors(replay: ReplayServer, session: aiohttp.ClientSession) -> None:
    async with session.get(_tags_url(replay, "no-such-image")) as response:
        assert response.status == 404
        assert await response.json() == {
            "message": "httperror 404: object not found",
            "errinfo": {"namespace": "library", "repository": "no-such-image"},
        }
    async with session.get(_tags_url(replay, "python"), params={"page": 99}) as response:
        assert response.status == 404
        assert (await response.json())["message"] == "httperror 404: object not found"
    async with session.get(
        f"{replay.hub_url}/v2/namespaces/someone/repositories/python/tags"
    ) as response:
        assert response.status == 404
    for bad in ({"page": 0}, {"page_size": "x"}):
        async with session.get(_tags_url(replay, "python"), params=bad) as response:
            assert response.status == 400


@pytest.mark.asyncio
async def test_snapshot_switch_changes_the_hub_view(
    replay: ReplayServer, session: aiohttp.ClientSession
) -> None:
    replay.switch_snapshot("dense-previous")
    before = {
        r["name"]: r["digest"] for r in await _all_pages(session, _tags_url(replay, "python"))
    }
    replay.switch_snapshot("dense-current")
    after = {r["name"]: r["digest"] for r in await _all_pages(session, _tags_url(replay, "python"))}
    assert set(before) < set(after)
    changed = {name for name in before if before[name] != after[name]}
    assert changed
    corpus = replay.corpus
    seen_after = {v.name: v.seen_in for v in hub_tags_for(corpus, "dense-current", "python")}
    expected = {
        v.name
        for v in hub_tags_for(corpus, "dense-previous", "python")
        if corpus.tag_definitions(v.seen_in, "python")[v.name]
        != corpus.tag_definitions(seen_after[v.name], "python")[v.name]
    }
    # a tag built again gets a new index; one whose parent moved meanwhile keeps its own
    assert changed == expected


def _repositories_url(replay: ReplayServer, namespace: str = "library") -> str:
    return f"{replay.hub_url}/v2/namespaces/{namespace}/repositories"


@pytest.mark.asyncio
async def test_repository_list(replay: ReplayServer, session: aiohttp.ClientSession) -> None:
    entries = await _all_pages(session, _repositories_url(replay))
    corpus = replay.corpus
    served = {
        name for name in corpus.hub_repositories if hub_tags_for(corpus, "dense-current", name)
    }
    assert [entry["name"] for entry in entries if entry["name"] in served] == [
        entry["name"] for entry in entries
    ]
    assert {entry["name"] for entry in entries} == served
    times = [entry["last_updated"] for entry in entries]
    assert times == sorted(times, reverse=True)  # newest first
    for entry in entries:
        assert entry["namespace"] == "library"
        newest_tag = max(
            v.last_updated for v in hub_tags_for(corpus, "dense-current", entry["name"])
        )
        moment = parse_hub_time(entry["last_updated"])
        assert moment >= parse_hub_time(newest_tag)
    by_name = await _get(session, _repositories_url(replay), page_size=100, ordering="name")
    names = [entry["name"] for entry in by_name["results"]]
    assert names == sorted(names)
    assert by_name["count"] == len(served)
    async with session.get(_repositories_url(replay, "someone")) as response:
        assert response.status == 404


@pytest.mark.asyncio
async def test_a_repository_time_moves_exactly_when_its_tags_change(
    replay: ReplayServer, session: aiohttp.ClientSession
) -> None:
    async def times_and_contents() -> tuple[dict[str, str], dict[str, set[tuple[str, str]]]]:
        listed = await _all_pages(session, _repositories_url(replay))
        times = {entry["name"]: entry["last_updated"] for entry in listed}
        contents = {
            name: {
                (tag["name"], tag["digest"])
                for tag in await _all_pages(session, _tags_url(replay, name))
            }
            for name in times
        }
        return times, contents

    replay.switch_snapshot("dense-previous")
    before, before_tags = await times_and_contents()
    assert (await times_and_contents())[0] == before  # the same snapshot: the same times
    replay.switch_snapshot("dense-current")
    after, after_tags = await times_and_contents()
    common = set(before) & set(after)
    moved = {name for name in common if after[name] != before[name]}
    changed = {name for name in common if after_tags[name] != before_tags[name]}
    assert moved == changed
    assert changed  # the corpus has changes between the two
    assert all(after[name] > before[name] for name in moved)
