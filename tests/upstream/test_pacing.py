"""Pacing by rate-limit headers, and one event per 429 wait (`indexer.upstream.pacing`)."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from aiohttp import web

from indexer.upstream import Budget, HostPacer, read_budget
from tests.upstream.servers import rig

# --- headers -----------------------------------------------------------------------


def test_read_budget_understands_hub_github_registry_and_draft_headers() -> None:
    now = 1_700_000_000.0
    hub = {
        "X-RateLimit-Limit": "180",
        "X-RateLimit-Remaining": "17",
        "X-RateLimit-Reset": "1700000030",
    }
    assert read_budget(hub, now=now) == Budget(remaining=17, reset_in=30.0, limit=180)
    github = {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": "4990",
        "x-ratelimit-reset": "1700003600",
    }
    assert read_budget(github, now=now) == Budget(remaining=4990, reset_in=3600.0, limit=5000)
    registry = {"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "76;w=21600"}
    assert read_budget(registry, now=now) == Budget(remaining=76, reset_in=21600.0, limit=100)
    draft = {"RateLimit-Limit": "10", "RateLimit-Remaining": "3", "RateLimit-Reset": "2"}
    assert read_budget(draft, now=now) == Budget(remaining=3, reset_in=2.0, limit=10)
    fractional = {"X-RateLimit-Remaining": "4", "X-RateLimit-Reset": f"{now + 0.25:.3f}"}
    budget = read_budget(fractional, now=now)
    assert budget is not None and budget.remaining == 4
    assert budget.reset_in == pytest.approx(0.25, abs=0.002)
    past = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(now) - 5)}
    assert read_budget(past, now=now) == Budget(remaining=0, reset_in=0.0, limit=None)
    assert read_budget({"Content-Type": "text/plain"}, now=now) is None
    assert read_budget({"X-RateLimit-Remaining": "lots"}, now=now) is None


# --- the pacer on its own ----------------------------------------------------------


@pytest.mark.asyncio
async def test_pacer_halves_its_rate_once_per_event_then_grows_back() -> None:
    pacer = HostPacer(max_wait=5.0)
    epochs = [await pacer.wait() for _ in range(20)]
    assert set(epochs) == {0}
    sending = pacer.sending_rate()
    for _ in range(20):
        pacer.failed()
    assert pacer.rate_limited(0, 0.05) is True
    # the other 429s of requests sent before the wait belong to the same event
    assert [pacer.rate_limited(0, 0.05) for _ in range(19)] == [False] * 19
    assert (pacer.epoch, pacer.events) == (1, 1)
    cap = pacer.cap
    assert cap is not None and cap == pytest.approx(sending / 2, rel=0.05)
    assert not pacer.is_open()
    await asyncio.sleep(0.3)
    assert pacer.is_open()
    grown = pacer.cap
    assert grown is not None and grown > cap  # additive increase after the wait
    # a request sent after the wait that is refused again is a new event
    epoch = await pacer.wait()
    assert epoch == 1
    assert pacer.rate_limited(epoch, 0.01) is True
    assert pacer.events == 2


@pytest.mark.asyncio
async def test_pacer_spaces_requests_so_the_budget_lasts_until_the_reset() -> None:
    pacer = HostPacer(max_wait=5.0)
    await pacer.wait()
    reset = time.time() + 1.0
    pacer.answered({"X-RateLimit-Remaining": "4", "X-RateLimit-Reset": f"{reset:.3f}"})
    assert pacer.interval() == pytest.approx(1.0 / 4, abs=0.02)
    await pacer.wait()  # a quarter second later, one more in flight: 3 left for the rest
    assert pacer.interval() == pytest.approx((reset - time.time()) / 3, abs=0.02)
    pacer.answered({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": f"{reset:.3f}"})
    await pacer.wait()
    assert time.time() >= reset - 0.02  # held until the reset, not before


# --- against servers -----------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_burst_of_concurrent_429s_closes_the_gate_once() -> None:
    burst = 8
    arrived: list[float] = []
    all_in = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        if len(arrived) < burst:
            arrived.append(time.monotonic())
            if len(arrived) == burst:
                all_in.set()
            await all_in.wait()  # every one of them is in flight when the first is refused
            return web.Response(status=429, headers={"Retry-After": "0.5"}, text="slow down")
        return web.Response(text=request.match_info["name"])

    async with rig({"/r/{name}": handler}, concurrency=burst, backoff_max=5.0) as r:
        names = [f"n{n}" for n in range(burst)]
        results = await asyncio.gather(
            *(r.http.get_text(f"{r.base}/r/{name}", kind="test") for name in names)
        )
    assert results == names
    stats = r.http.stats
    assert stats.statuses[429] == burst
    assert stats.rate_limited == 1  # one event, not eight
    refused_at = max(arrived)
    retries = [entry.at for entry in r.recorder.seen[burst:]]
    assert len(retries) == burst
    assert min(retries) - refused_at >= 0.45, "a retry arrived during the wait"
    gaps = [b - a for a, b in itertools.pairwise(retries)]
    assert min(gaps) >= 0.02, f"retries came in a storm: gaps {gaps}"


@pytest.mark.asyncio
async def test_pacing_follows_remaining_and_reset_and_meets_no_429() -> None:
    """A fixed window of 4 requests per 0.6 s that refuses the fifth; 13 requests, 6 at once."""
    limit, window = 4, 0.6
    state = {"left": limit, "ends": 0.0}
    refused = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal refused
        now = time.time()
        if now >= state["ends"]:
            state["left"], state["ends"] = limit, now + window
        headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Reset": f"{state['ends']:.3f}"}
        if state["left"] <= 0:
            refused += 1
            headers["Retry-After"] = "1"
            return web.Response(status=429, headers={**headers, "X-RateLimit-Remaining": "0"})
        state["left"] -= 1
        headers["X-RateLimit-Remaining"] = str(state["left"])
        return web.Response(text="ok", headers=headers)

    async with rig({"/w/{n}": handler}, concurrency=6, backoff_max=5.0) as r:
        assert await r.http.get_text(f"{r.base}/w/first", kind="test") == "ok"
        results = await asyncio.gather(
            *(r.http.get_text(f"{r.base}/w/{n}", kind="test") for n in range(12))
        )
    assert results == ["ok"] * 12
    assert refused == 0
    assert r.http.stats.rate_limited == 0
    arrivals = [entry.at for entry in r.recorder.seen]
    # the three requests left in the first window were spread over it, not sent at once
    first_window = [at for at in arrivals if at < arrivals[0] + window - 0.05]
    assert len(first_window) <= limit
    gaps = [b - a for a, b in itertools.pairwise(first_window)]
    assert gaps and min(gaps) >= 0.08, f"the budget was not spread: gaps {gaps}"
