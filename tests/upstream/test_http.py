"""The shared transport: retries, rate limits, size cap, concurrency, conditional GET."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from email.utils import formatdate

import pytest
from aiohttp import web

from indexer.errors import (
    BodyTooLargeError,
    NotFoundError,
    RetryableUpstreamError,
    UpstreamError,
)
from indexer.upstream import (
    USER_AGENT,
    Response,
    UpstreamHttp,
    backoff_delay,
    rate_limit_delay,
    url_is_under,
)
from tests.upstream.servers import Handler, Recorder, raw_answer, rig, serve_raw, settings_for


def script(*answers: tuple[int, str]) -> tuple[list[int], Handler]:
    """A handler that plays ``answers`` (status, body) in turn, then repeats the last."""
    calls: list[int] = []

    async def handler(request: web.Request) -> web.Response:
        status, body = answers[min(len(calls), len(answers) - 1)]
        calls.append(status)
        return web.Response(status=status, text=body)

    return calls, handler


class MaxJitter(random.Random):
    """A random source whose "full jitter" always picks the longest delay."""

    def uniform(self, a: float, b: float) -> float:
        """The upper bound, always."""
        return b


# --- retries ---------------------------------------------------------------------


@pytest.mark.asyncio
async def test_5xx_is_retried_until_success() -> None:
    calls, handler = script((500, "a"), (502, "b"), (503, "c"), (200, "fine"))
    async with rig({"/x": handler}, max_tries=4) as r:
        text = await r.http.get_text(f"{r.base}/x", kind="test")
    assert text == "fine"
    assert calls == [500, 502, 503, 200]
    assert r.http.stats.retries["test"] == 3
    assert r.http.stats.requests["test"] == 4
    assert r.http.stats.failures["status-5xx"] == 3


@pytest.mark.asyncio
async def test_gives_up_after_max_tries_with_a_typed_error() -> None:
    calls, handler = script((503, "down"))
    async with rig({"/x": handler}, max_tries=3) as r:
        with pytest.raises(RetryableUpstreamError) as caught:
            await r.http.get_text(f"{r.base}/x", kind="test")
    assert len(calls) == 3
    assert caught.value.url == f"{r.base}/x"
    assert caught.value.status == 503
    assert "gave up after 3 tries" in str(caught.value)
    assert "server error 503" in str(caught.value)
    assert r.http.stats.gave_up["test"] == 1


@pytest.mark.asyncio
async def test_dead_connection_is_retried() -> None:
    async def action(number: int, writer: asyncio.StreamWriter) -> None:
        # aiohttp itself resends once on a dropped connection, so drop two: our retry
        # policy is what gets through on the third
        if number > 1:
            writer.write(raw_answer(b"alive"))

    async with serve_raw(action) as (base, served), UpstreamHttp(settings_for(base)) as http:
        text = await http.get_text(f"{base}/x", kind="test")
    assert text == "alive"
    assert served == [0, 1, 2]
    assert http.stats.failures["connection"] == 1


@pytest.mark.asyncio
async def test_truncated_body_is_retried() -> None:
    async def action(number: int, writer: asyncio.StreamWriter) -> None:
        if number == 0:
            writer.write(raw_answer(b"only part", length=100))
        else:
            writer.write(raw_answer(b"the whole body"))

    async with serve_raw(action) as (base, served), UpstreamHttp(settings_for(base)) as http:
        text = await http.get_text(f"{base}/x", kind="test")
    assert text == "the whole body"
    assert served == [0, 1]
    assert http.stats.failures["truncated"] == 1


@pytest.mark.asyncio
async def test_malformed_json_is_retried() -> None:
    calls, handler = script((200, '{"sha": "ab'), (200, '{"sha": "abc"}'))
    async with rig({"/x": handler}) as r:
        document = await r.http.request(f"{r.base}/x", kind="test", decode=Response.json)
    assert document == {"sha": "abc"}
    assert len(calls) == 2
    assert r.http.stats.failures["malformed"] == 1


@pytest.mark.asyncio
async def test_read_timeout_is_retried() -> None:
    answered: list[int] = []

    async def slow_once(request: web.Request) -> web.Response:
        answered.append(1)
        if len(answered) == 1:
            await asyncio.sleep(1.0)
        return web.Response(text="late but fine")

    async with rig({"/x": slow_once}, read_timeout=0.2) as r:
        text = await r.http.get_text(f"{r.base}/x", kind="test")
    assert text == "late but fine"
    assert len(answered) == 2
    assert r.http.stats.failures["timeout"] == 1


@pytest.mark.asyncio
async def test_404_is_not_retried() -> None:
    calls, handler = script((404, "no"))
    async with rig({"/x": handler}) as r:
        with pytest.raises(NotFoundError) as caught:
            await r.http.get_text(f"{r.base}/x", kind="test")
    assert len(calls) == 1
    assert caught.value.status == 404
    assert caught.value.url == f"{r.base}/x"


@pytest.mark.parametrize("status", [400, 401, 403, 410])
@pytest.mark.asyncio
async def test_other_4xx_fail_at_once(status: int) -> None:
    calls, handler = script((status, "no"))
    async with rig({"/x": handler}) as r:
        with pytest.raises(UpstreamError) as caught:
            await r.http.get_text(f"{r.base}/x", kind="test")
    assert type(caught.value) is UpstreamError
    assert caught.value.status == status
    assert len(calls) == 1


@pytest.mark.asyncio
async def test_redirects_are_not_followed() -> None:
    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://example.invalid/elsewhere")

    async with rig({"/x": moved}) as r:
        with pytest.raises(UpstreamError, match=r"unexpected status 302 to http://example"):
            await r.http.get_text(f"{r.base}/x", kind="test")
    assert len(r.recorder.seen) == 1


# --- backoff ---------------------------------------------------------------------


def test_backoff_doubles_and_is_capped() -> None:
    settings = settings_for("http://127.0.0.1:1", backoff_base=0.5, backoff_max=3.0)
    assert [backoff_delay(settings, n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    rng = random.Random(7)
    jittered = [backoff_delay(settings, 3, rng) for _ in range(200)]
    assert all(0.0 <= delay <= 2.0 for delay in jittered)
    assert min(jittered) < 0.5 < max(jittered)


@pytest.mark.asyncio
async def test_a_backing_off_request_holds_no_slot() -> None:
    _, failing = script((500, "down"), (200, "up"))
    first_failure = asyncio.Event()

    async def watched(request: web.Request) -> web.StreamResponse:
        answer = await failing(request)
        first_failure.set()
        return answer

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    routes = {"/fail": watched, "/ok": ok}
    async with rig(routes, rng=MaxJitter(), concurrency=1, backoff_base=0.6) as r:
        slow = asyncio.create_task(r.http.get_text(f"{r.base}/fail", kind="test"))
        await first_failure.wait()
        await asyncio.sleep(0.05)  # the failing request now sleeps 0.6 s before its retry
        started = time.monotonic()
        assert await r.http.get_text(f"{r.base}/ok", kind="test") == "ok"
        assert time.monotonic() - started < 0.3
        assert await slow == "up"


# --- rate limits -----------------------------------------------------------------


def test_rate_limit_delay_reads_every_header_form() -> None:
    now = 1_700_000_000.0
    assert rate_limit_delay({"Retry-After": "7"}, now=now) == 7.0
    assert rate_limit_delay({"Retry-After": formatdate(now + 30, usegmt=True)}, now=now) == 30.0
    assert rate_limit_delay({"X-RateLimit-Reset": str(int(now) + 12)}, now=now) == 12.0
    assert rate_limit_delay({"X-Retry-After": str(now + 5)}, now=now) == 5.0
    assert rate_limit_delay({"X-RateLimit-Reset": str(now - 100)}, now=now) == 0.0
    assert rate_limit_delay({"Retry-After": "soon"}, now=now) is None
    assert rate_limit_delay({}, now=now) is None


class RefuseFirst:
    """A handler refusing the very first request with ``status`` and ``refusal`` headers."""

    def __init__(self, refusal: dict[str, str], status: int = 429) -> None:
        self.refusal = refusal
        self.status = status
        self.refused = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        """Refuse once, then answer with the last path segment."""
        if not self.refused.is_set():
            self.refused.set()
            return web.Response(status=self.status, headers=self.refusal, text="slow down")
        return web.Response(text=request.match_info["name"])


async def run_rate_limit_scenario(
    refusal: dict[str, str], *, status: int = 429, wait: float
) -> tuple[Recorder, list[str]]:
    """One request is refused; five more start during the pause. Returns what arrived."""
    handler = RefuseFirst(refusal, status)
    async with rig({"/r/{name}": handler.handle}, concurrency=10, backoff_max=wait + 1) as r:
        first = asyncio.create_task(r.http.get_text(f"{r.base}/r/first", kind="test"))
        await handler.refused.wait()
        await asyncio.sleep(0.05)
        others = [r.http.get_text(f"{r.base}/r/n{n}", kind="test") for n in range(5)]
        results = await asyncio.gather(first, *others)
    assert r.http.stats.rate_limited == 1
    return r.recorder, list(results)


def assert_no_storm(recorder: Recorder, wait: float) -> None:
    """Nothing arrived during the pause, and the requests after it came one by one."""
    refused_at = recorder.seen[0].at
    later = [entry.at - refused_at for entry in recorder.seen[1:]]
    assert len(later) == 6
    assert min(later) >= wait - 0.1, f"a request arrived {min(later):.3f}s into the pause"
    gaps = [b - a for a, b in itertools.pairwise(later)]
    assert gaps[0] >= 0.04, f"released all at once: gaps {gaps}"


@pytest.mark.asyncio
async def test_429_retry_after_pauses_every_request_to_the_host() -> None:
    recorder, results = await run_rate_limit_scenario({"Retry-After": "0.6"}, wait=0.6)
    assert results == ["first", "n0", "n1", "n2", "n3", "n4"]
    assert_no_storm(recorder, 0.6)


@pytest.mark.asyncio
async def test_429_x_ratelimit_reset_pauses_every_request_to_the_host() -> None:
    reset = {"X-RateLimit-Reset": f"{time.time() + 0.6:.3f}"}
    recorder, results = await run_rate_limit_scenario(reset, wait=0.55)
    assert results == ["first", "n0", "n1", "n2", "n3", "n4"]
    assert_no_storm(recorder, 0.55)


@pytest.mark.asyncio
async def test_github_403_rate_limit_is_honoured_like_429() -> None:
    refusal = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": f"{time.time() + 0.5:.3f}"}
    recorder, _ = await run_rate_limit_scenario(refusal, status=403, wait=0.45)
    assert_no_storm(recorder, 0.45)


@pytest.mark.asyncio
async def test_rate_limit_wait_is_capped_by_backoff_max() -> None:
    handler = RefuseFirst({"Retry-After": "3600"})
    async with rig({"/r/{name}": handler.handle}, backoff_max=0.3) as r:
        started = time.monotonic()
        assert await r.http.get_text(f"{r.base}/r/a", kind="test") == "a"
        elapsed = time.monotonic() - started
    assert 0.25 <= elapsed < 1.5


# --- size cap, concurrency, headers ----------------------------------------------


@pytest.mark.asyncio
async def test_streamed_body_over_the_cap_is_cut_off_and_not_retried() -> None:
    async def endless(request: web.Request) -> web.StreamResponse:
        answer = web.StreamResponse()  # chunked: no Content-Length to check up front
        await answer.prepare(request)
        try:
            for _ in range(64):
                await answer.write(b"x" * 16384)
        except ConnectionError:
            pass
        return answer

    async with rig({"/big": endless}, max_body_bytes=100_000) as r:
        with pytest.raises(BodyTooLargeError) as caught:
            await r.http.get_text(f"{r.base}/big", kind="test")
    assert caught.value.url == f"{r.base}/big"
    assert len(r.recorder.seen) == 1
    assert r.http.stats.bytes_received <= 100_000 + 64 * 1024


@pytest.mark.asyncio
async def test_declared_length_over_the_cap_is_refused_before_reading() -> None:
    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"y" * 5000)

    async with rig({"/big": big}, max_body_bytes=1000) as r:
        with pytest.raises(BodyTooLargeError, match="5000 bytes"):
            await r.http.get_text(f"{r.base}/big", kind="test")
    assert len(r.recorder.seen) == 1
    assert r.http.stats.bytes_received == 0


@pytest.mark.asyncio
async def test_requests_in_flight_never_exceed_the_concurrency() -> None:
    in_flight = 0
    most = 0

    async def counted(request: web.Request) -> web.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        return web.Response(text="ok")

    async with rig({"/c/{n}": counted}, concurrency=3) as r:
        urls = [f"{r.base}/c/{n}" for n in range(15)]
        results = await asyncio.gather(*(r.http.get_text(u, kind="test") for u in urls))
    assert results == ["ok"] * 15
    assert most == 3


@pytest.mark.asyncio
async def test_conditional_get_returns_304_distinctly() -> None:
    async def tagged(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers={"ETag": '"v1"'})
        return web.Response(text="body", headers={"ETag": '"v1"'})

    def keep(response: Response) -> Response:
        return response

    async with rig({"/e": tagged}) as r:
        fresh = await r.http.request(f"{r.base}/e", kind="test", decode=keep)
        again = await r.http.request(
            f"{r.base}/e", kind="test", headers={"If-None-Match": '"v1"'}, decode=keep
        )
    assert (fresh.status, fresh.not_modified, fresh.text()) == (200, False, "body")
    assert (again.status, again.not_modified, again.body) == (304, True, b"")
    assert r.recorder.seen[1].headers["If-None-Match"] == '"v1"'
    assert r.http.stats.statuses[304] == 1


@pytest.mark.asyncio
async def test_user_agent_and_statistics() -> None:
    _, handler = script((500, "x"), (200, "12345"))
    async with rig({"/s": handler}) as r:
        await r.http.get_text(f"{r.base}/s", kind="dockerfile")
    assert r.recorder.seen[0].headers["User-Agent"] == USER_AGENT
    summary = r.http.stats.as_dict()
    assert summary["requests"] == {"dockerfile": 2}
    assert summary["requests_total"] == 2
    assert summary["statuses"] == {"200": 1, "500": 1}
    assert summary["retries"] == {"dockerfile": 1}
    assert summary["bytes_received"] == len("x") + len("12345")


def test_url_is_under_compares_scheme_host_port_and_prefix() -> None:
    base = "http://127.0.0.1:8080/hub"
    assert url_is_under("http://127.0.0.1:8080/hub/v2/x?page=2", base)
    assert url_is_under("http://127.0.0.1:8080/hub", base)
    assert not url_is_under("http://127.0.0.1:8081/hub/v2/x", base)
    assert not url_is_under("https://127.0.0.1:8080/hub/v2/x", base)
    assert not url_is_under("http://localhost:8080/hub/v2/x", base)
    assert not url_is_under("http://127.0.0.1:8080/hubx/v2", base)
    assert not url_is_under("http://127.0.0.1:8080/github-api/x", base)
    assert not url_is_under("http://user@127.0.0.1:8080/hub/v2/x", base)
    assert url_is_under("https://hub.docker.com/v2/x", "https://hub.docker.com")
    assert url_is_under("https://HUB.docker.com:443/v2/x", "https://hub.docker.com/")


# --- slots -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_waiting_library_and_hub_requests_go_before_dockerfiles() -> None:
    held = asyncio.Event()
    arrived = asyncio.Event()
    order: list[str] = []

    async def answer(request: web.Request) -> web.Response:
        order.append(request.path)
        if request.path == "/first":
            arrived.set()
            await held.wait()
        return web.Response(text="ok")

    async with rig({"/{tail:.*}": answer}, concurrency=1) as r:
        first = asyncio.create_task(r.http.get_text(f"{r.base}/first", kind="dockerfile"))
        await arrived.wait()
        queued = []
        for path, kind in [
            ("/dockerfile-1", "dockerfile"),
            ("/dockerfile-2", "dockerfile"),
            ("/hub-page", "hub-tags"),
            ("/library-file", "library-file"),
        ]:
            queued.append(asyncio.create_task(r.http.get_text(f"{r.base}{path}", kind=kind)))
            await asyncio.sleep(0.01)
        held.set()
        await asyncio.gather(first, *queued)
    assert order == ["/first", "/library-file", "/hub-page", "/dockerfile-1", "/dockerfile-2"]
