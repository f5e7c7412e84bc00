"""The replayed registry: bodies that hash to the Hub's digests, annotations, token, pull limit."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import aiohttp
import pytest

from indexer.replay import Corpus, ReplayServer
from indexer.replay.registry_images import RegistryAccess, RegistryOptions, published_images

ANNOTATION = "org.opencontainers.image."


async def _hub_tags(session: aiohttp.ClientSession, replay: ReplayServer, repository: str) -> Any:
    url = f"{replay.hub_url}/v2/namespaces/library/repositories/{repository}/tags?page_size=100"
    results = []
    while url:
        async with session.get(url) as response:
            page = await response.json()
        results.extend(page["results"])
        url = page["next"]
    return results


async def _get(
    session: aiohttp.ClientSession, url: str, **headers: str
) -> tuple[int, dict[str, str], bytes]:
    async with session.get(url, headers=headers) as response:
        return response.status, dict(response.headers), await response.read()


def _sha256(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


@pytest.mark.asyncio
async def test_every_body_hashes_to_the_digest_the_hub_lists(
    replay: ReplayServer, session: aiohttp.ClientSession
) -> None:
    tags = await _hub_tags(session, replay, "python")
    by_digest: dict[str, list[str]] = {}
    for tag in tags:
        by_digest.setdefault(tag["digest"], []).append(tag["name"])
    assert any(len(names) > 1 for names in by_digest.values())  # aliases share one index
    checked = 0
    for tag in tags[:40]:
        manifests = f"{replay.registry_url}/v2/library/python/manifests"
        status, headers, body = await _get(session, f"{manifests}/{tag['digest']}")
        assert status == 200
        assert _sha256(body) == tag["digest"] == headers["Docker-Content-Digest"]
        assert headers["Content-Type"] == "application/vnd.oci.image.index.v1+json"
        index = json.loads(body)
        platforms = [m for m in index["manifests"] if m["platform"]["os"] != "unknown"]
        assert [m["digest"] for m in platforms] == [i["digest"] for i in tag["images"]]
        for entry in platforms:
            annotations = entry["annotations"]
            assert annotations[ANNOTATION + "created"]
            assert annotations["com.docker.official-images.bashbrew.arch"]
            status, _, body = await _get(session, f"{manifests}/{entry['digest']}")
            assert status == 200
            assert _sha256(body) == entry["digest"]
            assert json.loads(body)["layers"]
            checked += 1
        status, _, by_tag = await _get(session, f"{manifests}/{tag['name']}")
        assert status == 200 and _sha256(by_tag) == tag["digest"]
    assert checked > 40
    status, _, body = await _get(
        session, f"{replay.registry_url}/v2/library/python/manifests/sha256:{'0' * 64}"
    )
    assert status == 404 and b"MANIFEST_UNKNOWN" in body


@pytest.mark.asyncio
async def test_annotations_name_the_parent_and_its_current_index(
    replay: ReplayServer, session: aiohttp.ClientSession
) -> None:
    debian = {t["name"]: t["digest"] for t in await _hub_tags(session, replay, "debian")}
    python = {t["name"]: t for t in await _hub_tags(session, replay, "python")}
    definitions = replay.corpus.tag_definitions("dense-current", "python")
    tag = python["3.12-slim-bookworm"]
    url = f"{replay.registry_url}/v2/library/python/manifests/{tag['digest']}"
    _, _, body = await _get(session, url)
    entries = [m for m in json.loads(body)["manifests"] if m["platform"]["os"] == "linux"]
    commits = {arch: commit for arch, commit, _, _ in definitions["3.12-slim-bookworm"]}
    for entry in entries:
        annotations = entry["annotations"]
        arch = annotations["com.docker.official-images.bashbrew.arch"]
        assert annotations[ANNOTATION + "base.name"] == "debian:bookworm-slim"
        assert annotations[ANNOTATION + "base.digest"] == debian["bookworm-slim"]
        assert annotations[ANNOTATION + "revision"] == commits[arch]
        assert annotations[ANNOTATION + "source"].endswith(f"#{commits[arch]}:3.12/slim-bookworm")


@pytest.mark.asyncio
async def test_shares_make_images_stale_and_pending(corpus: Corpus) -> None:
    options = RegistryOptions(stale_share=0.3, pending_share=0.2)
    natural = [
        build
        for tag in published_images(corpus).tags("dense-current", "python").values()
        for build in tag.builds
        if build.stale
    ]
    async with ReplayServer(corpus, registry=options) as replay:
        builds = [
            build
            for tag in replay.published.tags("dense-current", "python").values()
            for build in tag.builds
        ]
        debian = replay.published.tags("dense-current", "debian")
    stale = [b for b in builds if b.stale]
    pending = [b for b in builds if b.pending]
    # images whose base moved since they were built are stale already; the share adds more
    assert 0.2 < (len(stale) - len(natural)) / len(builds) < 0.4
    assert 0.1 < len(pending) / len(builds) < 0.3
    current = {tag.view.digest for tag in debian.values()}
    assert all(b.base_digest not in current for b in stale)


@pytest.mark.asyncio
async def test_token_required_and_pull_limit(
    corpus: Corpus, session: aiohttp.ClientSession
) -> None:
    access = RegistryAccess(require_token=True, pull_limit=2)
    async with ReplayServer(corpus, registry_access=access) as replay:
        tag = (await _hub_tags(session, replay, "hello-world"))[0]
        url = f"{replay.registry_url}/v2/library/hello-world/manifests/{tag['digest']}"
        status, headers, _ = await _get(session, url)
        assert status == 401
        challenge = headers["WWW-Authenticate"]
        assert challenge.startswith(f'Bearer realm="{replay.registry_auth_url}/token"')
        assert 'scope="repository:library/hello-world:pull"' in challenge
        token_url = (
            f"{replay.registry_auth_url}/token?service=registry.docker.io"
            "&scope=repository:library/hello-world:pull"
        )
        _, _, body = await _get(session, token_url)
        token = json.loads(body)["token"]
        auth = {"Authorization": f"Bearer {token}"}
        async with session.head(url, headers=auth) as response:
            assert response.status == 200
            assert response.headers["ratelimit-remaining"] == "2;w=21600"
        status, headers, _ = await _get(session, url, **auth)
        assert status == 200 and headers["ratelimit-remaining"] == "1;w=21600"
        status, headers, _ = await _get(session, url, **auth)
        assert status == 200 and headers["ratelimit-remaining"] == "0;w=21600"
        status, headers, body = await _get(session, url, **auth)
        assert status == 429 and b"TOOMANYREQUESTS" in body
        assert replay.counters.pulls[tag["digest"]] == 2
