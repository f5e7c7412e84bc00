"""Untrusted upstream text is escaped everywhere, and caching follows the last sync.

Hostile strings stand where library files, Dockerfiles and sync errors put text:
tags, Dockerfile paths, parents, ``FROM`` errors, error messages. The database is
written through the store's own writers. Both backends.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.store.db import Database
from indexer.store.records import BuildRecord, LibraryFileRecord, StanzaRecord
from indexer.store.runs import ItemError, RunCounts, finish_run, record_item_error, start_run
from tests.store.handmade import COMMIT, write_graph
from tests.web.conftest import JSON, served

pytestmark = pytest.mark.asyncio

SCRIPT = '<script>alert("x")</script>'
ATTRIBUTE = '"><img src=x onerror=alert(1)>'


def hostile_library() -> list[LibraryFileRecord]:
    build = BuildRecord(
        architecture="amd64",
        git_repo=f"https://github.com/evil/{SCRIPT}.git",
        git_commit=COMMIT,
        directory=ATTRIBUTE,
        builder="buildkit",
        parent_ref=None,
        froms=None,
        error=f"FROM cannot be resolved: {SCRIPT}",
    )
    child = BuildRecord(
        architecture="amd64",
        git_repo="https://github.com/evil/child.git",
        git_commit=COMMIT,
        parent_ref="evil:1",
        froms=("evil:1",),
    )
    return [
        LibraryFileRecord(
            name="evil",
            blob_sha="e" * 40,
            commit_sha=COMMIT,
            stanzas=(StanzaRecord(tags=("1", f"1{ATTRIBUTE}"), builds=(build,)),),
        ),
        LibraryFileRecord(
            name="child",
            blob_sha="c" * 40,
            commit_sha=COMMIT,
            stanzas=(StanzaRecord(tags=("2",), builds=(child,)),),
        ),
    ]


async def run_with_error(database_url: str, message: str) -> int:
    database = Database(database_url)
    try:
        run_id = await start_run(database)
        await record_item_error(
            database, run_id, ItemError("dockerfile", message, "parse", message)
        )
        await finish_run(database, run_id, status="partial", counts=RunCounts(errors=1))
    finally:
        await database.dispose()
    return run_id


async def test_upstream_text_is_escaped_on_every_page(database_url: str) -> None:
    await write_graph(database_url, hostile_library(), {})
    await run_with_error(database_url, SCRIPT + ATTRIBUTE)
    pages = ["/", "/r/evil", "/t/evil:1", "/t/child:2", "/runs", "/search?q=evil:2"]
    async with served(database_url) as client:
        for path in pages:
            response = await client.get(path)
            assert response.status in (200, 404), path
            html = await response.text()
            assert "<script" not in html, path
            assert "<img" not in html, path
        tag_page = await (await client.get("/t/evil:1")).text()
        runs_page = await (await client.get("/runs")).text()
        child_page = await (await client.get("/t/child:2")).text()
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in tag_page
    assert "&lt;script&gt;" in runs_page
    assert 'href="/t/evil:1"' in child_page
    # an alias that is no valid reference is shown, escaped, but not linked
    assert "1&#34;&gt;&lt;img src=x onerror=alert(1)&gt;</span>" in tag_page
    assert "%3Cimg" not in tag_page


async def test_caching_headers_follow_the_last_sync(database_url: str) -> None:
    database = Database(database_url)
    try:
        async with served(database_url) as client:
            first = await client.get("/runs")
            etag = first.headers["ETag"]
            assert first.headers["Cache-Control"] == "no-cache"
            assert "Accept" in first.headers["Vary"]
            again = await client.get("/runs", headers={"If-None-Match": etag})
            assert again.status == 304
            assert await again.read() == b""
            as_json = await client.get("/runs", headers=JSON)
            assert as_json.headers["ETag"] != etag
            run_id = await start_run(database)
            running = await client.get("/runs", headers={"If-None-Match": etag})
            assert running.status == 200
            assert "ETag" not in running.headers
            await finish_run(database, run_id, status="ok", counts=RunCounts())
            settled = await client.get("/runs", headers={"If-None-Match": etag})
            assert settled.status == 200
            assert settled.headers["ETag"] != etag
            assert "Last-Modified" in settled.headers
            cached = await client.get(
                "/", headers={"If-None-Match": settled.headers["ETag"]}, allow_redirects=False
            )
            assert cached.status == 304
            missing = await client.get("/t/nope:1")
            assert missing.status == 404
            assert "ETag" not in missing.headers
    finally:
        await database.dispose()


async def test_empty_index_pages(database_url: str) -> None:
    async with served(database_url) as client:
        front = await client.get("/")
        assert front.status == 200
        assert "Nothing indexed yet" in await front.text()
        runs = await client.get("/runs")
        assert "No sync has run yet" in await runs.text()
        assert (await client.get("/r/python")).status == 404


async def test_an_unmigrated_database_answers_503(tmp_path: Path) -> None:
    async with served(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}") as client:
        response = await client.get("/t/python:3-slim")
        assert response.status == 503
        assert "indexer migrate" in await response.text()
        assert "Content-Security-Policy" in response.headers
        as_json = await client.get("/", headers=JSON)
        assert as_json.status == 503
        assert (await as_json.json())["status"] == 503
