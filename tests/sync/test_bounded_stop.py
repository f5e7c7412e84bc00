"""The first SIGTERM ends a sync within the bound, whatever the upstream does, as ``interrupted``.

``indexer sync`` runs as a real process against a local server; the test sends the
signal once the run is stuck (a closed rate-limit gate, or requests that never get an
answer) and waits at most the bound the contract promises.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from indexer.replay import ReplayServer
from tests.nightly.processes import kill_all, start_module, wait_until
from tests.sync.helpers import MiniCorpus, query, replay_settings, sync_once
from tests.sync.minis import COMMIT_B, app_library, commits, write_app

#: the first signal must end the process within this many seconds
STOP_BOUND = 10.0


@contextmanager
def served(corpus_root: Path, mode: str) -> Iterator[tuple[dict[str, str], list[float]]]:
    """A replay in a thread of its own whose Hub either refuses (429, wait 60 s) or hangs.

    Yields the environment pointing a sync at it, and the arrival times of Hub requests.
    """
    started = threading.Event()
    holder: dict[str, object] = {}
    hub_arrivals: list[float] = []

    async def hub(request: web.Request) -> web.StreamResponse:
        hub_arrivals.append(time.monotonic())
        if mode == "refuse":
            return web.Response(status=429, headers={"Retry-After": "60"}, text="slow down")
        await asyncio.sleep(3600)  # hang: the request stays in flight
        return web.Response(text="never")

    async def serve() -> None:
        stop = asyncio.Event()
        holder["stop"], holder["loop"] = stop, asyncio.get_running_loop()
        app = web.Application()
        app.router.add_get("/{tail:.*}", hub)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        async with ReplayServer(corpus_root, snapshot="only") as replay:
            env = replay.env()
            env["INDEXER_HUB_URL"] = f"http://127.0.0.1:{runner.addresses[0][1]}/hub"
            holder["env"] = env
            started.set()
            await stop.wait()
        await runner.cleanup()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(10)
    try:
        env = holder["env"]
        assert isinstance(env, dict)
        yield env, hub_arrivals
    finally:
        loop, stop = holder["loop"], holder["stop"]
        assert isinstance(loop, asyncio.AbstractEventLoop) and isinstance(stop, asyncio.Event)
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)


@pytest.mark.parametrize("mode", ["refuse", "hang"])
def test_first_sigterm_ends_the_sync_within_the_bound_as_interrupted(
    tmp_path: Path, database_url: str, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = MiniCorpus(tmp_path / "corpus", "only")
    write_app(corpus, "app")
    with served(tmp_path / "corpus", mode) as (env, hub_arrivals):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("INDEXER_BACKOFF_MAX", "60")
        monkeypatch.setenv("INDEXER_READ_TIMEOUT", "600")
        process = start_module("indexer", "--database-url", database_url, "sync")
        try:
            wait_until(lambda: len(hub_arrivals) >= 1, timeout=30)
            wait_until(lambda: _count(database_url, "v_parents") > 0, timeout=30, interval=0.1)
            time.sleep(0.3)  # refused: the retry now waits at the closed gate; or hanging
            os.kill(process.pid, signal.SIGTERM)
            signalled = time.monotonic()
            _, stderr = process.communicate(timeout=STOP_BOUND)
            took = time.monotonic() - signalled
        finally:
            kill_all([process])
    assert process.returncode == 0, stderr
    assert took < STOP_BOUND
    assert "Traceback" not in stderr
    rows = asyncio.run(query(database_url, "SELECT status, message FROM sync_runs"))
    assert [row[0] for row in rows] == ["interrupted"]
    assert str(rows[0][1]).startswith("stopped")
    assert hub_arrivals  # the Hub was asked, and is stuck


def _count(database_url: str, view: str) -> int:
    return int(asyncio.run(query(database_url, f"SELECT count(*) FROM {view}"))[0][0])


@asynccontextmanager
async def hanging_dockerfiles(raw_url: str, asked: asyncio.Event) -> AsyncIterator[str]:
    """GitHub raw files serving library files from ``raw_url``; Dockerfiles never answer."""

    async def handler(request: web.Request) -> web.StreamResponse:
        if "/library/" not in request.path:
            asked.set()
            await asyncio.sleep(3600)
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{raw_url}{request.path_qs}") as answer,
        ):
            return web.Response(status=answer.status, body=await answer.read())

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@pytest.mark.asyncio
async def test_a_stop_while_dockerfiles_are_pending_keeps_the_stored_library_file(
    tmp_path: Path, database_url: str
) -> None:
    root = tmp_path / "corpus"
    write_app(MiniCorpus(root, "old"), "app")
    MiniCorpus(root, "new").library_file("app", app_library(commit=COMMIT_B))
    commits(root, "old", "new")
    parents = "SELECT tag, architecture, parent_ref FROM v_parents ORDER BY tag, architecture"
    async with ReplayServer(root, snapshot="old") as replay:
        settings = replay_settings(replay, database_url)
        assert (await sync_once(settings)).status == "ok"
        before = await query(database_url, parents)
        replay.switch_snapshot("new")  # a new commit: its Dockerfiles are not cached
        asked = asyncio.Event()
        async with hanging_dockerfiles(replay.github_raw_url, asked) as raw:
            stop = asyncio.Event()
            run = asyncio.create_task(sync_once(settings.replace(github_raw_url=raw), stop=stop))
            await asyncio.wait_for(asked.wait(), 30)
            stop.set()
            summary = await asyncio.wait_for(run, STOP_BOUND)
    assert summary.status == "interrupted"
    assert summary.errors == 0  # requests cut off by the stop are no item errors
    assert all(parent is not None for _, _, parent in before)
    assert await query(database_url, parents) == before  # not replaced by unresolved builds
