"""What the crawler must never request, and answers it must not swallow whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp import web

from indexer.replay import ReplayServer
from tests.sync.helpers import MiniCorpus, fresh_sqlite, query, replay_settings, sync_once
from tests.sync.minis import COMMIT_A, PLATFORMS, write_app
from tests.sync.servers import trap
from tests.upstream.servers import Recorder, serve


def foreign_library(trap_url: str) -> str:
    """Stanzas whose GitRepo is anything but an allowed https://github.com/owner/repo."""
    port = trap_url.rsplit(":", 1)[1]
    repos = {
        "gitlab": "https://gitlab.example.com/evil/app.git",
        "loopback": f"https://127.0.0.1:{port}/evil/app.git",
        "loopback-http": f"{trap_url}/evil/app",
        "localhost": f"http://localhost:{port}/evil/app",
        "file": "file:///etc/passwd",
        "ssh": "git@github.com:evil/app.git",
        "userinfo": "https://user@github.com/evil/app.git",
        "port": "https://github.com:8443/evil/app.git",
    }
    stanzas = [
        f"Tags: {tag}\nGitRepo: {repo}\nGitCommit: {COMMIT_A}\n" for tag, repo in repos.items()
    ]
    stanzas.append(f"Tags: good\nGitRepo: https://github.com/evil/app.git\nGitCommit: {COMMIT_A}\n")
    return "Maintainers: Evil (@evil)\n\n" + "\n".join(stanzas)


@pytest.mark.asyncio
async def test_gitrepo_hosts_outside_the_allow_list_are_never_requested(tmp_path: Path) -> None:
    corpus = MiniCorpus(tmp_path / "corpus", "only")
    database_url = await fresh_sqlite(tmp_path)
    async with trap() as (trap_url, trapped):
        corpus.library_file("evil", foreign_library(trap_url))
        corpus.dockerfile("evil/app", COMMIT_A, "Dockerfile", "FROM alpine:3.20\n")
        corpus.hub("evil", {"good": PLATFORMS})
        async with ReplayServer(tmp_path / "corpus", snapshot="only") as replay:
            summary = await sync_once(replay_settings(replay, database_url))
    assert trapped.seen == []
    assert replay.counters.paths["dockerfile"] == [f"/github-raw/evil/app/{COMMIT_A}/Dockerfile"]
    assert summary.tally.unsupported_builds == 8
    builds = dict(
        await query(
            database_url,
            "SELECT s.canonical_tag, coalesce(b.error, b.parent_ref) FROM builds b "
            "JOIN stanzas s ON s.id = b.stanza_id",
        )
    )
    assert builds.pop("good") == "alpine:3.20"
    assert builds["gitlab"] == "unsupported GitRepo host 'gitlab.example.com'"
    assert all(error.startswith("unsupported GitRepo") for error in builds.values()), builds
    # recorded on the builds and counted, not flooded into the run's errors
    assert summary.status == "ok"
    assert await query(database_url, "SELECT count(*) FROM sync_errors") == [(0,)]


@pytest.mark.asyncio
async def test_a_next_link_to_another_host_is_not_followed(tmp_path: Path) -> None:
    corpus = MiniCorpus(tmp_path / "corpus", "only")
    write_app(corpus, "app")
    database_url = await fresh_sqlite(tmp_path)
    async with trap() as (trap_url, trapped):
        foreign_next = f"{trap_url}/hub/v2/namespaces/library/repositories/app/tags?page=2"

        async def first_page(request: web.Request) -> web.Response:
            tag = {
                "name": "latest",
                "digest": "sha256:" + "1" * 64,
                "media_type": "application/vnd.oci.image.index.v1+json",
                "last_updated": "2026-01-01T00:00:00Z",
                "tag_status": "active",
                "images": [
                    {
                        "architecture": "amd64",
                        "os": "linux",
                        "variant": None,
                        "digest": "sha256:" + "2" * 64,
                        "size": 1234,
                        "status": "active",
                        "last_pushed": "2026-01-01T00:00:00Z",
                    }
                ],
            }
            body = {"count": 2, "next": foreign_next, "previous": None, "results": [tag]}
            return web.json_response(body)

        hub_recorder = Recorder()
        routes = {"/hub/v2/namespaces/library/repositories/{name}/tags": first_page}
        async with (
            serve(routes, hub_recorder) as hub_base,
            ReplayServer(tmp_path / "corpus", snapshot="only") as replay,
        ):
            settings = replay_settings(replay, database_url, hub_url=f"{hub_base}/hub")
            summary = await sync_once(settings)
    assert trapped.seen == []
    # the repository list (404 here: every repository is paged) and one tag page
    assert [seen.path for seen in hub_recorder.seen] == [
        "/hub/v2/namespaces/library/repositories",
        "/hub/v2/namespaces/library/repositories/app/tags",
    ]
    assert summary.status == "partial"
    # (the made-up index digest is then asked of the registry, which does not have it)
    errors = await query(
        database_url,
        "SELECT item_kind, item, error_kind FROM sync_errors"
        " WHERE item_kind <> 'registry-manifest'",
    )
    assert errors == [("hub-page", foreign_next, "forbidden-target")]
    # the page before the foreign link is kept; the repository is not reconciled
    assert await query(database_url, "SELECT tag, digest FROM v_tags WHERE digest IS NOT NULL") == [
        ("latest", "sha256:" + "1" * 64)
    ]
    assert await query(database_url, "SELECT hub_reconciled_at FROM image_repositories") == [
        (None,)
    ]
    unfinished = await query(
        database_url, "SELECT value FROM sync_state WHERE key = 'hub.unfinished'"
    )
    assert json.loads(unfinished[0][0]) == ["app"]


@pytest.mark.asyncio
async def test_an_oversized_body_is_cut_off_and_recorded(tmp_path: Path) -> None:
    corpus = MiniCorpus(tmp_path / "corpus", "only")
    write_app(corpus, "app")
    padding = "".join(
        f"ARG PADDING_{n}=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n" for n in range(400)
    )
    corpus.dockerfile("example/app", COMMIT_A, "1/Dockerfile", padding + "FROM debian:bookworm\n")
    database_url = await fresh_sqlite(tmp_path)
    async with ReplayServer(tmp_path / "corpus", snapshot="only") as replay:
        settings = replay_settings(replay, database_url, max_body_bytes=8000)
        summary = await sync_once(settings)
        assert summary.status == "partial"
        errors = await query(database_url, "SELECT item_kind, error_kind FROM sync_errors")
        assert errors == [("dockerfile", "body-too-large")]
        parents = dict(
            await query(
                database_url,
                "SELECT s.canonical_tag || '/' || b.architecture, coalesce(b.error, b.parent_ref) "
                "FROM builds b JOIN stanzas s ON s.id = b.stanza_id",
            )
        )
        assert parents["1.0/amd64"].startswith("Dockerfile larger than 8000 bytes")
        assert parents["1.0-slim/amd64"] == "debian:bookworm-slim"

        # the same cap: not asked again; a larger cap: read again and resolved
        replay.counters.reset()
        await sync_once(settings)
        assert replay.counters.requests["dockerfile"] == 0
        again = await sync_once(replay_settings(replay, database_url))
        assert again.status == "ok"
        assert replay.counters.requests["dockerfile"] == 1
    resolved = await query(
        database_url,
        "SELECT parent_ref FROM v_parents WHERE tag = '1.0' AND architecture = 'amd64'",
    )
    assert resolved == [("debian:bookworm",)]
