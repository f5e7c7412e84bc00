"""Injected faults, each observed with a real aiohttp client."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from indexer.replay import Corpus, FaultSettings, ReplayServer
from tests.replay.conftest import LIBRARY


def _hub_page(server: ReplayServer) -> str:
    return f"{server.hub_url}/v2/namespaces/library/repositories/python/tags?page_size=100"


async def _statuses(server: ReplayServer, session: aiohttp.ClientSession, n: int) -> list[int]:
    statuses = []
    for i in range(n):
        url = f"{server.github_api_url}{LIBRARY}/contents/library?ref=master&n={i % 5}"
        async with session.get(url) as response:
            await response.read()
            statuses.append(response.status)
    return statuses


@pytest.mark.asyncio
async def test_fail_rate_answers_5xx_control_untouched(
    corpus: Corpus, session: aiohttp.ClientSession
) -> None:
    async with ReplayServer(corpus, fail_rate=1.0) as server:
        statuses = await _statuses(server, session, 12)
        assert set(statuses) <= {500, 502, 503}
        assert len(set(statuses)) > 1
        async with session.get(f"{server.url}/_replay/counters") as response:
            assert response.status == 200
            counters = await response.json()
        assert counters["faults"] == {"fail": 12}
        assert sum(counters["statuses"]["library_listing"].values()) == 12


@pytest.mark.asyncio
async def test_fault_draws_are_deterministic_per_seed(
    corpus: Corpus, session: aiohttp.ClientSession
) -> None:
    runs = []
    for seed in (7, 7, 8):
        async with ReplayServer(corpus, fail_rate=0.5, seed=seed) as server:
            runs.append(await _statuses(server, session, 30))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert 200 in runs[0]
    assert any(s >= 500 for s in runs[0])


@pytest.mark.asyncio
async def test_truncated_body_raises_payload_error(
    corpus: Corpus, session: aiohttp.ClientSession
) -> None:
    async with ReplayServer(corpus, truncate_rate=1.0) as server:
        async with session.get(_hub_page(server)) as response:
            assert response.status == 200
            declared = int(response.headers["Content-Length"])
            with pytest.raises(aiohttp.ClientPayloadError):
                await response.read()
        assert declared > 1000
        async with session.get(f"{server.github_raw_url}/no/such/commit/Dockerfile") as response:
            assert response.status == 404  # only 200 answers are cut
            assert await response.text() == "404: Not Found"
        assert server.counters.faults["truncate"] == 1
        assert server.counters.statuses["hub_tags"][200] == 1
        assert server.counters.served["hub_tags"] == []
        server.set_faults(truncate_rate=0)
        async with session.get(_hub_page(server)) as response:
            assert len(await response.read()) == int(response.headers["Content-Length"])


@pytest.mark.asyncio
async def test_rate_limit_answers_429_with_headers(
    corpus: Corpus, session: aiohttp.ClientSession
) -> None:
    async with ReplayServer(corpus, rate_limit=5) as server:
        url = f"{server.github_api_url}{LIBRARY}/commits/master"
        answers = []
        for _ in range(10):
            async with session.get(url) as response:
                await response.read()
                answers.append((response.status, dict(response.headers)))
        statuses = [status for status, _ in answers]
        assert statuses[:5] == [200] * 5
        assert 429 in statuses
        limited = next(headers for status, headers in answers if status == 429)
        assert int(limited["Retry-After"]) >= 1
        assert float(limited["X-RateLimit-Reset"]) >= time.time() - 0.01
        assert limited["X-RateLimit-Limit"] == "5"
        assert limited["X-RateLimit-Remaining"] == "0"
        assert "X-RateLimit-Remaining" in answers[0][1]
        async with session.get(f"{server.url}/_replay/counters") as response:
            assert response.status == 200  # control endpoints are never limited
        await asyncio.sleep(0.3)
        async with session.get(url) as response:
            assert response.status == 200
        assert server.counters.faults["rate_limit"] == statuses.count(429)


@pytest.mark.asyncio
async def test_rate_limit_burst_and_headers_on_every_answer(
    corpus: Corpus, session: aiohttp.ClientSession
) -> None:
    async with ReplayServer(corpus, rate_limit=2, rate_burst=3, fail_rate=0.5, seed=3) as server:
        url = f"{server.github_api_url}{LIBRARY}/commits/master"
        missing = f"{server.github_raw_url}/nobody/nothing/{'a' * 40}/Dockerfile"
        answers = []
        for target in (url, missing, url, url, url):
            async with session.get(target) as response:
                await response.read()
                answers.append((response.status, response.headers.copy()))
    statuses = [status for status, _ in answers]
    # a burst of 3, then refused: 2 tokens a second do not refill in these few ms
    assert statuses[3:] == [429, 429]
    assert 429 not in statuses[:3]
    assert {404, 500, 502, 503} & set(statuses[:3])  # a failure and a 404 among them
    remaining = [int(headers["X-RateLimit-Remaining"]) for _, headers in answers]
    assert remaining == [2, 1, 0, 0, 0]
    for status, headers in answers:
        assert headers["X-RateLimit-Limit"] == "3", status
        reset = float(headers["X-RateLimit-Reset"])
        assert time.time() - 1 < reset < time.time() + 3, status


@pytest.mark.asyncio
async def test_latency_and_faults_settable_while_running(
    replay: ReplayServer, session: aiohttp.ClientSession
) -> None:
    url = f"{replay.github_api_url}{LIBRARY}/commits/master"
    control = f"{replay.url}/_replay/faults"
    async with session.post(control, json={"latency_ms": 150, "fail_rate": 1}) as response:
        assert response.status == 200
        assert (await response.json())["latency_ms"] == 150
    started = time.perf_counter()
    async with session.get(url) as response:
        assert response.status >= 500
    assert time.perf_counter() - started >= 0.14
    async with session.post(control, json={"fail_rate": 0, "latency_ms": 0}) as response:
        assert await response.json() == {
            "latency_ms": 0,
            "fail_rate": 0,
            "truncate_rate": 0,
            "rate_limit": None,
            "rate_burst": None,
        }
    async with session.get(url) as response:
        assert response.status == 200
    for bad in ({"nope": 1}, {"fail_rate": 2}, {"rate_limit": -1}, [1]):
        async with session.post(control, json=bad) as response:
            assert response.status == 400, bad
    assert replay.set_faults(rate_limit=100) == FaultSettings(rate_limit=100)
    assert replay.set_faults(fail_rate=0.25).rate_limit == 100
    assert replay.set_faults(rate_limit=None) == FaultSettings(fail_rate=0.25)
