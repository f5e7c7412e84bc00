"""Real local servers the sync tests put between the crawler and the replay upstream."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web

from tests.upstream.servers import Recorder, serve

#: answer headers passed through the proxy
_PASSED_HEADERS = ("Content-Type", "ETag", "Retry-After", "X-RateLimit-Reset")


@asynccontextmanager
async def flaky_proxy(target: str, fails: Callable[[str], bool]) -> AsyncIterator[str]:
    """A proxy to ``target`` that answers 503 to every path ``fails`` picks.

    Yields the proxy's base URL; ``{proxy}/x`` forwards to ``{target}/x``.
    """
    async with aiohttp.ClientSession() as client:

        async def forward(request: web.Request) -> web.StreamResponse:
            if fails(request.path):
                return web.Response(status=503, text="503: injected by the test proxy")
            async with client.get(
                target + request.raw_path, headers=dict(request.headers), allow_redirects=False
            ) as answer:
                body = await answer.read()
                headers = {k: answer.headers[k] for k in _PASSED_HEADERS if k in answer.headers}
                return web.Response(status=answer.status, body=body, headers=headers)

        async with serve({"/{tail:.*}": forward}, Recorder()) as base:
            yield base


@asynccontextmanager
async def trap() -> AsyncIterator[tuple[str, Recorder]]:
    """A server that must never be asked anything: yields its URL and what it received."""
    recorder = Recorder()

    async def answer(request: web.Request) -> web.StreamResponse:
        return web.Response(status=418, text="the crawler must not come here")

    async with serve({"/{tail:.*}": answer}, recorder) as base:
        yield base, recorder
