"""Unreachable upstreams are named and fail fast; a stop ends waits and cuts requests off."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web

from indexer.errors import RequestStoppedError, RetryableUpstreamError, UpstreamUnreachableError
from indexer.upstream import UpstreamHttp
from tests.upstream.servers import Recorder, rig, serve, serve_raw, settings_for


@pytest.mark.asyncio
async def test_tls_failure_makes_the_upstream_unreachable_without_retrying() -> None:
    async def plain(request: web.Request) -> web.Response:
        return web.Response(text="plain http")

    recorder = Recorder()
    async with serve({"/{tail:.*}": plain}, recorder) as base:
        https = base.replace("http://", "https://")
        settings = settings_for(https, max_tries=4)
        async with UpstreamHttp(settings) as http:
            with pytest.raises(UpstreamUnreachableError) as caught:
                await http.get_text(f"{https}/hub/v2/x", kind="hub-tags")
            assert http.stats.failures["tls"] == 1
            assert http.stats.retries == {}
            assert [error.upstream for error in http.unreachable()] == ["Docker Hub"]
    assert caught.value.upstream == "Docker Hub"
    assert str(caught.value).startswith("Docker Hub unreachable: TLS failed: ")


@pytest.mark.asyncio
async def test_an_upstream_that_never_answered_fails_later_requests_at_once() -> None:
    async def hang_up(number: int, writer: asyncio.StreamWriter) -> None:
        return  # close without answering

    async with serve_raw(hang_up) as (base, served):
        http = UpstreamHttp(settings_for(base, max_tries=2))
        async with http:
            with pytest.raises(UpstreamUnreachableError, match="GitHub API unreachable: gave up"):
                await http.get_text(f"{base}/github-api/a", kind="github-commit")
            connections = len(served)
            with pytest.raises(UpstreamUnreachableError):
                await http.get_text(f"{base}/github-api/b", kind="github-listing")
            assert len(served) == connections  # failed at once, nothing sent
            # the raw files are another upstream: still asked
            with pytest.raises(UpstreamUnreachableError, match="GitHub raw files unreachable"):
                await http.get_text(f"{base}/github-raw/c", kind="dockerfile")
            names = [error.upstream for error in http.unreachable()]
    assert len(served) > connections  # only the raw file's tries connected again
    assert names == ["GitHub API", "GitHub raw files"]


@pytest.mark.asyncio
async def test_an_upstream_that_answered_once_is_not_unreachable() -> None:
    answers = iter([200])

    async def flaky(request: web.Request) -> web.Response:
        return web.Response(status=next(answers, 503), text="x")

    async with rig({"/hub/{tail:.*}": flaky}, max_tries=2) as r:
        assert await r.http.get_text(f"{r.base}/hub/first", kind="hub-tags") == "x"
        with pytest.raises(RetryableUpstreamError) as caught:
            await r.http.get_text(f"{r.base}/hub/second", kind="hub-tags")
        assert not isinstance(caught.value, UpstreamUnreachableError)
        assert r.http.unreachable() == []


@pytest.mark.asyncio
async def test_a_stop_ends_the_wait_at_a_closed_gate_at_once() -> None:
    refused = asyncio.Event()

    async def refuse(request: web.Request) -> web.Response:
        refused.set()
        return web.Response(status=429, headers={"Retry-After": "30"}, text="no")

    stop = asyncio.Event()
    recorder = Recorder()
    async with serve({"/{tail:.*}": refuse}, recorder) as base:
        http = UpstreamHttp(settings_for(base, backoff_max=30.0), stop=stop)
        async with http:
            request = asyncio.create_task(http.get_text(f"{base}/hub/x", kind="hub-tags"))
            await refused.wait()
            await asyncio.sleep(0.1)  # the retry now waits out the 30 s
            stop.set()
            started = time.monotonic()
            with pytest.raises(RequestStoppedError, match="the run is stopping"):
                await request
            assert time.monotonic() - started < 1.0
            with pytest.raises(RequestStoppedError):  # nothing leaves any more
                await http.get_text(f"{base}/github-raw/y", kind="dockerfile")
    assert len(recorder.seen) == 1


@pytest.mark.asyncio
async def test_a_stop_gives_requests_in_flight_their_grace_then_cuts_them_off() -> None:
    finish = asyncio.Event()
    both_in = asyncio.Event()
    arrived: list[str] = []

    async def slow(request: web.Request) -> web.Response:
        arrived.append(request.path)
        if len(arrived) == 2:
            both_in.set()
        if request.path.endswith("/quick"):
            await asyncio.sleep(0.2)
            return web.Response(text="in time")
        await finish.wait()
        return web.Response(text="too late")

    stop = asyncio.Event()
    recorder = Recorder()
    async with serve({"/{tail:.*}": slow}, recorder) as base:
        settings = settings_for(base, read_timeout=60.0)
        async with UpstreamHttp(settings, stop=stop, stop_grace=0.5) as http:
            quick = asyncio.create_task(http.get_text(f"{base}/hub/quick", kind="hub-tags"))
            hung = asyncio.create_task(http.get_text(f"{base}/hub/hung", kind="hub-tags"))
            await both_in.wait()
            stop.set()
            assert await quick == "in time"  # finished within the grace
            with pytest.raises(RequestStoppedError, match="cut off"):
                await hung
            finish.set()
    assert len(recorder.seen) == 2  # the cut-off request was not tried again
