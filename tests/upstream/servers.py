"""Real local servers for the upstream tests: aiohttp.web apps and a raw TCP server.

Nothing here mocks aiohttp's client: every test talks HTTP over a socket on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from indexer.settings import Settings
from indexer.upstream import UpstreamHttp

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Seen:
    """One request a test server received."""

    path: str
    query: str
    headers: dict[str, str]
    at: float

    @property
    def path_qs(self) -> str:
        """Path plus query string, as requested."""
        return f"{self.path}?{self.query}" if self.query else self.path


@dataclass
class Recorder:
    """Every request a server received, in arrival order."""

    seen: list[Seen] = field(default_factory=list)

    def record(self, request: web.Request) -> Seen:
        """Store ``request`` (raw path, query and headers) and return the record."""
        entry = Seen(
            path=request.raw_path.split("?", 1)[0],
            query=request.query_string,
            headers=dict(request.headers),
            at=time.monotonic(),
        )
        self.seen.append(entry)
        return entry

    def paths(self) -> list[str]:
        """The paths received, in order."""
        return [entry.path for entry in self.seen]


@asynccontextmanager
async def serve(routes: Mapping[str, Handler], recorder: Recorder) -> AsyncIterator[str]:
    """Serve ``routes`` (path -> handler; ``/{tail:.*}`` patterns allowed) on a free port.

    Every request is recorded before its handler runs. Yields ``http://127.0.0.1:PORT``.
    """

    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        recorder.record(request)
        return await handler(request)

    app = web.Application(middlewares=[record])
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


RawAction = Callable[[int, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def serve_raw(action: RawAction) -> AsyncIterator[tuple[str, list[int]]]:
    """A bare TCP server: for each connection, read one request head, then ``action``.

    ``action(n, writer)`` gets the 0-based connection number and writes (or does not
    write) whatever it likes; the connection is closed afterwards. Yields the base URL
    and the list of connection numbers served so far.
    """
    served: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        number = len(served)
        served.append(number)
        try:
            await reader.readuntil(b"\r\n\r\n")
            await action(number, writer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", served
    finally:
        server.close()
        await server.wait_closed()


def raw_answer(body: bytes, *, status: str = "200 OK", length: int | None = None) -> bytes:
    """A complete HTTP/1.1 answer (``Connection: close``); ``length`` may lie about the body."""
    declared = len(body) if length is None else length
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {declared}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def settings_for(base: str, **overrides: Any) -> Settings:
    """Settings pointing every upstream at ``base`` (with path prefixes), fast backoff."""
    values: dict[str, Any] = {
        "hub_url": f"{base}/hub",
        "github_api_url": f"{base}/github-api",
        "github_raw_url": f"{base}/github-raw",
        "registry_url": f"{base}/registry",
        "registry_auth_url": f"{base}/registry-auth",
        "backoff_base": 0.01,
        "backoff_max": 2.0,
        "max_tries": 4,
        "connect_timeout": 2.0,
        "read_timeout": 2.0,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Rig:
    """A running test server and a client configured for it."""

    base: str
    http: UpstreamHttp
    recorder: Recorder
    settings: Settings


@asynccontextmanager
async def rig(
    routes: Mapping[str, Handler], *, rng: random.Random | None = None, **overrides: Any
) -> AsyncIterator[Rig]:
    """`serve` ``routes`` and open an `UpstreamHttp` with `settings_for` that server."""
    recorder = Recorder()
    async with serve(routes, recorder) as base:
        settings = settings_for(base, **overrides)
        async with UpstreamHttp(settings, rng=rng) as http:
            yield Rig(base=base, http=http, recorder=recorder, settings=settings)
