"""The GitHub API and raw endpoints of the replay server, through a real aiohttp client."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from indexer.replay import Corpus, ReplayServer, git_blob_sha
from tests.replay.conftest import LIBRARY

ROOT_HEAD = "clearlinux/docker-brew-clearlinux/68e01605e9214b1884687b702416befa1cfe74cb"
LISTING_KEYS = {
    "name", "path", "sha", "size", "url", "html_url", "git_url", "download_url", "type", "_links",
}  # fmt: skip


async def _raw_request(port: int, target: str) -> tuple[int, bytes]:
    """Send ``target`` byte for byte (no client-side normalisation of ``..``)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.mark.asyncio
async def test_branch_head_etag_and_304(
    replay: ReplayServer, session: aiohttp.ClientSession
) -> None:
    url = f"{replay.github_api_url}{LIBRARY}/commits/master"
    async with session.get(url) as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        commit = await response.json()
        etag = response.headers["ETag"]
    assert commit["sha"] == "4d0d17bacb98500a1c0157f9c9000df63bfa1704"
    assert commit["commit"]["committer"]["date"] == "2026-03-20T00:00:53Z"
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 10
    async with session.get(url, headers={"If-None-Match": etag}) as response:
        assert response.status == 304
        assert await response.read() == b""
        assert response.headers["ETag"] == etag
    async with session.get(url, headers={"If-None-Match": '"other"'}) as response:
        assert response.status == 200
    replay.switch_snapshot("current")
    async with session.get(url, headers={"If-None-Match": etag}) as response:
        assert response.status == 200
        assert (await response.json())["sha"] == "37079fb336f572a88700cf32e5e1f6be54a04e8f"
        assert response.headers["ETag"] != etag


@pytest.mark.asyncio
async def test_branch_head_errors(replay: ReplayServer, session: aiohttp.ClientSession) -> None:
    async with session.get(f"{replay.github_api_url}{LIBRARY}/commits/no-such-branch") as response:
        assert response.status == 422
        body = await response.json()
        assert body["message"] == "No commit found for SHA: no-such-branch"
        assert "documentation_url" in body
    async with session.get(f"{replay.github_api_url}/repos/a/b/commits/master") as response:
        assert response.status == 404
        assert (await response.json())["message"] == "Not Found"


@pytest.mark.asyncio
async def test_listing_shape_and_blob_ids_of_served_bytes(
    replay: ReplayServer, session: aiohttp.ClientSession
) -> None:
    commit = replay.snapshot.commit
    url = f"{replay.github_api_url}{LIBRARY}/contents/library"
    async with session.get(url, params={"ref": commit}) as response:
        assert response.status == 200
        listing = await response.json()
    assert len(listing) == 115
    assert [e["name"] for e in listing] == sorted(e["name"] for e in listing)
    for entry in listing:
        assert set(entry) == LISTING_KEYS
        assert entry["type"] == "file"
        assert entry["path"] == f"library/{entry['name']}"
        assert entry["download_url"] == (
            f"{replay.github_raw_url}/docker-library/official-images/{commit}/library/{entry['name']}"
        )
        assert set(entry["_links"]) == {"self", "git", "html"}
    for entry in listing[:: len(listing) // 12]:
        async with session.get(entry["download_url"]) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
            data = await response.read()
        assert (git_blob_sha(data), len(data)) == (entry["sha"], entry["size"])


@pytest.mark.asyncio
async def test_listing_refs(replay: ReplayServer, session: aiohttp.ClientSession) -> None:
    url = f"{replay.github_api_url}{LIBRARY}/contents/library"
    async with session.get(url) as response:  # no ref: the default branch
        assert {e["name"] for e in await response.json()} == replay.corpus.library_names(
            "dense-current"
        )
    async with session.get(url, params={"ref": "0" * 40}) as response:
        assert response.status == 404
        body = await response.json()
        assert body["message"] == f"No commit found for the ref {'0' * 40}"
        assert body["documentation_url"].startswith("https://docs.github.com/")
    async with session.get(f"{replay.github_api_url}{LIBRARY}/contents/README.md") as response:
        assert response.status == 404


@pytest.mark.asyncio
async def test_switch_changes_listing_old_commits_stay_readable(
    replay: ReplayServer, corpus: Corpus, session: aiohttp.ClientSession
) -> None:
    api = f"{replay.github_api_url}{LIBRARY}"
    old = replay.snapshot.commit
    async with session.get(f"{api}/contents/library", params={"ref": old}) as response:
        before = {e["name"]: e["sha"] for e in await response.json()}
    async with session.post(f"{replay.url}/_replay/snapshot/current") as response:
        assert response.status == 200
        assert (await response.json())["snapshot"] == "current"
    async with session.get(f"{api}/commits/master") as response:
        new = (await response.json())["sha"]
    async with session.get(f"{api}/contents/library", params={"ref": new}) as response:
        after = {e["name"]: e["sha"] for e in await response.json()}
    assert "espocrm" in set(after) - set(before)
    assert before != after
    assert {n for n in before if n in after and before[n] != after[n]}
    raw = f"{replay.github_raw_url}/docker-library/official-images"
    async with session.get(f"{raw}/{old}/library/python") as response:
        assert await response.read() == corpus.library_file("dense-current", "python")
    async with session.get(f"{raw}/{old}/library/espocrm") as response:
        assert response.status == 404
    async with session.post(f"{replay.url}/_replay/snapshot/nope") as response:
        assert response.status == 404
    assert replay.snapshot.name == "current"


@pytest.mark.asyncio
async def test_dockerfile_heads_and_root_directory(
    replay: ReplayServer, session: aiohttp.ClientSession
) -> None:
    expected = (replay.corpus.root / "dockerfiles" / ROOT_HEAD / "Dockerfile").read_bytes()
    for path in (f"{ROOT_HEAD}/Dockerfile", f"{ROOT_HEAD}/./Dockerfile"):
        async with session.get(f"{replay.github_raw_url}/{path}") as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
            assert await response.read() == expected
    status, body = await _raw_request(replay.port, f"/github-raw/{ROOT_HEAD}/%2e/Dockerfile")
    assert (status, body) == (200, expected)
    nested = (
        "docker-library/python/50e3f493467278f72b4d79e0d54a69711b1d7bcf/3.15-rc/trixie/Dockerfile"
    )
    async with session.get(f"{replay.github_raw_url}/{nested}") as response:
        assert response.status == 200
        assert (await response.text()).count("FROM") >= 1
    async with session.get(f"{replay.github_raw_url}/a/b/c/Dockerfile") as response:
        assert response.status == 404
        assert await response.text() == "404: Not Found"


@pytest.mark.asyncio
async def test_path_traversal_is_refused(replay: ReplayServer) -> None:
    secret = (replay.corpus.root / "library" / "COMMITS.txt").read_bytes()
    for target in (
        "/github-raw/../library/COMMITS.txt",
        "/github-raw/%2e%2e/library/COMMITS.txt",
        "/github-raw/a/b/c/%2e%2e/%2e%2e/%2e%2e/%2e%2e/library/COMMITS.txt",
        "/github-raw/a/b/c/../../../../library/COMMITS.txt",
        "/github-raw/a/b/c/..%2f..%2f..%2f..%2flibrary%2fCOMMITS.txt",
        f"/github-raw/{ROOT_HEAD}/%2e%2e/%2e%2e/%2e%2e/MISSING.tsv",
        "/github-raw/docker-library/official-images/4d0d17bacb98500a1c0157f9c9000df63bfa1704"
        "/library/..%2fCOMMITS.txt",
        "/github-raw/docker-library/official-images/4d0d17bacb98500a1c0157f9c9000df63bfa1704"
        "/library/%2e%2e",
    ):
        status, body = await _raw_request(replay.port, target)
        assert status == 404, target
        assert secret not in body
