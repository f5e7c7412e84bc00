"""Loud failure: an upstream that cannot be reached, or too many items lost, fails the run.

Every test runs on both backends; what could be fetched is written all the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web

from indexer.cli.main import main
from indexer.errors import SyncFailedError, UpstreamUnreachableError
from indexer.replay import ReplayServer
from tests.sync.helpers import MiniCorpus, query, replay_settings, sync_once
from tests.sync.minis import write_app
from tests.sync.servers import flaky_proxy

#: the discard port: nothing listens, every connection is refused
DEAD = "http://127.0.0.1:9"


@pytest.fixture
def corpus_root(tmp_path: Path) -> Path:
    corpus = MiniCorpus(tmp_path / "corpus", "only")
    write_app(corpus, "app")
    write_app(corpus, "other", owner_repo="example/other")
    return tmp_path / "corpus"


async def run_row(database_url: str) -> tuple[str, str]:
    rows = await query(database_url, "SELECT status, message FROM sync_runs ORDER BY id")
    assert len(rows) == 1
    status, message = rows[0]
    return str(status), str(message)


@pytest.mark.asyncio
async def test_hub_down_fails_the_run_naming_docker_hub(
    database_url: str, corpus_root: Path
) -> None:
    async with ReplayServer(corpus_root, snapshot="only") as replay:
        settings = replay_settings(replay, database_url, hub_url=f"{DEAD}/hub", max_tries=2)
        with pytest.raises(UpstreamUnreachableError) as caught:
            await sync_once(settings)
        hub_requests = sum(
            count for kind, count in replay.counters.requests.items() if kind.startswith("hub")
        )
    assert caught.value.upstream == "Docker Hub"
    status, message = await run_row(database_url)
    assert status == "failed"
    assert message.startswith("Docker Hub unreachable: gave up after 2 tries: connection failed")
    assert "\n" not in message
    assert hub_requests == 0
    # the GitHub part was fetched and written all the same
    assert (await query(database_url, "SELECT count(*) FROM v_parents"))[0][0] > 0


@pytest.mark.asyncio
async def test_github_down_fails_the_run_naming_the_github_api(
    database_url: str, corpus_root: Path
) -> None:
    async with ReplayServer(corpus_root, snapshot="only") as replay:
        settings = replay_settings(
            replay, database_url, github_api_url=f"{DEAD}/github-api", max_tries=2
        )
        with pytest.raises(UpstreamUnreachableError) as caught:
            await sync_once(settings)
    assert caught.value.upstream == "GitHub API"
    status, message = await run_row(database_url)
    assert status == "failed"
    assert message.startswith("GitHub API unreachable: ")


@pytest.mark.asyncio
async def test_github_raw_answering_only_5xx_fails_the_run_and_keeps_the_hub_part(
    database_url: str, corpus_root: Path
) -> None:
    async with (
        ReplayServer(corpus_root, snapshot="only") as replay,
        answering(503) as broken,
    ):
        settings = replay_settings(replay, database_url, github_raw_url=broken, max_tries=2)
        with pytest.raises(UpstreamUnreachableError) as caught:
            await sync_once(settings)
    assert caught.value.upstream == "GitHub raw files"
    status, message = await run_row(database_url)
    assert status == "failed"
    assert message.startswith("GitHub raw files unreachable: gave up after 2 tries: server error")
    assert (await query(database_url, "SELECT count(*) FROM v_tags"))[0][0] > 0


@asynccontextmanager
async def answering(status: int) -> AsyncIterator[str]:
    """A server answering ``status`` to everything; yields its base URL."""

    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, text="down for maintenance")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(("share", "expected"), [(0.2, "failed"), (0.6, "partial")])
@pytest.mark.asyncio
async def test_losing_more_than_the_allowed_share_of_items_fails_the_run(
    database_url: str, corpus_root: Path, share: float, expected: str
) -> None:
    """Two library files, two Hub repositories, four Dockerfiles: losing these is half."""
    async with (
        ReplayServer(corpus_root, snapshot="only") as replay,
        # GitHub raw files that serve the library files but answer 503 for Dockerfiles
        flaky_proxy(replay.github_raw_url, lambda path: "/library/" not in path) as raw,
    ):
        settings = replay_settings(
            replay, database_url, github_raw_url=raw, max_tries=2, max_item_error_share=share
        )
        if expected == "failed":
            with pytest.raises(SyncFailedError, match=r"lost 4 of 8 items \(50%"):
                await sync_once(settings)
        else:
            summary = await sync_once(settings)
            assert summary.tally.items_lost == 4
    status, message = await run_row(database_url)
    assert status == expected
    if expected == "failed":
        assert "max_item_error_share 20%" in message
    # the library file and the Hub tags were written either way
    assert (await query(database_url, "SELECT count(*) FROM v_tags"))[0][0] > 0
    assert (await query(database_url, "SELECT count(*) FROM v_parents"))[0][0] > 0


def test_sync_exits_2_with_one_line_naming_the_unreachable_upstream(
    tmp_path: Path,
    corpus_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.databases import migrated_sqlite_url
    from tests.sync.test_cli import replay_thread

    database_url = migrated_sqlite_url(tmp_path)
    with replay_thread(corpus_root, "only") as replay:
        for name, value in replay.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("INDEXER_HUB_URL", f"{DEAD}/hub")
        monkeypatch.setenv("INDEXER_MAX_TRIES", "2")
        monkeypatch.setenv("INDEXER_BACKOFF_BASE", "0.01")
        status = main(["--database-url", database_url, "sync"])
    err_lines = [
        line for line in capsys.readouterr().err.splitlines() if line.startswith("indexer:")
    ]
    assert status == 2
    assert len(err_lines) == 1
    assert err_lines[0].startswith("indexer: Docker Hub unreachable: gave up after 2 tries")
