"""The replay server: one aiohttp app on one port, three upstreams under three prefixes.

- ``{url}/hub``: Docker Hub (:mod:`indexer.replay.hub_routes`);
- ``{url}/github-api``: the GitHub REST API (:mod:`indexer.replay.github_routes`);
- ``{url}/github-raw``: raw.githubusercontent.com (same module);
- ``{url}/registry`` and ``{url}/registry-auth``: the registry and its token service
  (:mod:`indexer.replay.registry_routes`, bodies from
  :mod:`indexer.replay.registry_images`);
- ``{url}/_replay/...``: control endpoints (:mod:`indexer.replay.control_routes`).

Every non-control request goes through one middleware, in this order: latency sleep,
rate limit (429 with ``Retry-After``; every answer, refused or not, carries
``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset``), injected failure (500/502/503), the real handler, then an
injected truncation of a 200 body (the full ``Content-Length`` is sent, half the body,
then the connection is closed: aiohttp clients raise ``ClientPayloadError``). Each
request is counted under its endpoint kind (:mod:`indexer.replay.counters`).
"""

from __future__ import annotations

import asyncio
import enum
import math
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from aiohttp import web
from aiohttp.typedefs import Handler

from indexer.replay.control_routes import CONTROL_PREFIX, add_control_routes
from indexer.replay.corpus import Corpus, Snapshot
from indexer.replay.counters import ReplayCounters, classify
from indexer.replay.faults import FaultSettings, RateDecision
from indexer.replay.github_routes import add_github_routes
from indexer.replay.hub_routes import add_hub_routes
from indexer.replay.registry_images import PublishedImages, RegistryAccess, RegistryOptions
from indexer.replay.registry_routes import (
    REGISTRY_AUTH_PREFIX,
    REGISTRY_PREFIX,
    add_registry_routes,
)
from indexer.replay.responses import json_response, text_response
from indexer.replay.state import STATE_KEY, ReplayState

__all__ = ["UNSET", "ReplayServer", "build_app"]


class _Unset(enum.Enum):
    UNSET = enum.auto()


#: "leave this setting as it is" in :meth:`ReplayServer.set_faults`
UNSET: Final = _Unset.UNSET


def _rate_headers(decision: RateDecision) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(decision.remaining),
        "X-RateLimit-Reset": f"{decision.reset_at:.3f}",
    }


async def _send_truncated(request: web.Request, response: web.Response) -> web.StreamResponse:
    """Send ``response``'s headers with its full length, half its body, then hang up."""
    body = response.body if isinstance(response.body, bytes) else b""
    stream = web.StreamResponse(status=response.status, headers=response.headers)
    stream.content_length = len(body)
    await stream.prepare(request)
    await stream.write(body[: len(body) // 2])
    if request.transport is not None:
        request.transport.close()
    return stream


@web.middleware
async def replay_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Faults and counters around every non-control request."""
    if request.path.startswith(CONTROL_PREFIX):
        return await handler(request)
    state = request.app[STATE_KEY]
    kind = classify(request.path)
    path = request.raw_path
    faults = state.faults
    if faults.latency_ms > 0:
        await asyncio.sleep(faults.latency_ms / 1000)
    rate_headers: dict[str, str] = {}
    if state.bucket is not None:
        decision = state.bucket.take()
        rate_headers = _rate_headers(decision)
        if not decision.allowed:
            state.counters.faults["rate_limit"] += 1
            state.counters.record(kind, path, 429, complete=False)
            retry_after = str(max(1, math.ceil(decision.retry_after)))
            return json_response(
                {"message": "API rate limit exceeded (replay)"},
                status=429,
                headers={**rate_headers, "Retry-After": retry_after},
            )
    fault = state.plan.decide(f"{request.method} {path}", faults)
    if fault.fail_status is not None:
        state.counters.faults["fail"] += 1
        state.counters.record(kind, path, fault.fail_status, complete=False)
        reason = HTTPStatus(fault.fail_status).phrase
        body = f"{fault.fail_status}: {reason} (injected by the replay server)".encode()
        return text_response(body, status=fault.fail_status, headers=rate_headers)
    try:
        response = await handler(request)
    except web.HTTPException as error:
        error.headers.update(rate_headers)
        state.counters.record(kind, path, error.status, complete=False)
        raise
    response.headers.update(rate_headers)
    truncate = (
        fault.truncate
        and response.status == 200
        and isinstance(response, web.Response)
        and isinstance(response.body, bytes)
        and len(response.body) > 0
    )
    state.counters.record(kind, path, response.status, complete=not truncate)
    if truncate and isinstance(response, web.Response):
        state.counters.faults["truncate"] += 1
        return await _send_truncated(request, response)
    return response


async def _not_found(request: web.Request) -> web.Response:
    if request.path.startswith("/github-api/"):
        return json_response(
            {
                "message": "Not Found",
                "documentation_url": "https://docs.github.com/rest",
                "status": "404",
            },
            status=404,
        )
    if request.path.startswith("/hub/"):
        return json_response(
            {"message": "httperror 404: page not found", "errinfo": {}}, status=404
        )
    return text_response(b"404: Not Found", status=404)


def build_app(state: ReplayState) -> web.Application:
    """The aiohttp application answering from ``state``."""
    app = web.Application(middlewares=[replay_middleware])
    app[STATE_KEY] = state
    add_hub_routes(app)
    add_github_routes(app)
    add_registry_routes(app)
    add_control_routes(app)
    app.router.add_route("*", "/{tail:.*}", _not_found)
    return app


class ReplayServer:
    """A running replay of a corpus folder; an async context manager.

    ``port=0`` picks a free port; :attr:`url` names the one in use once started.
    """

    def __init__(
        self,
        corpus_dir: Path | Corpus,
        *,
        snapshot: str = "dense-current",
        host: str = "127.0.0.1",
        port: int = 0,
        latency_ms: float = 0,
        fail_rate: float = 0,
        truncate_rate: float = 0,
        rate_limit: float | None = None,
        rate_burst: float | None = None,
        seed: int = 0,
        registry: RegistryOptions | None = None,
        registry_access: RegistryAccess | None = None,
        synthetic_tags: int = 0,
    ) -> None:
        faults = FaultSettings(
            latency_ms=latency_ms,
            fail_rate=fail_rate,
            truncate_rate=truncate_rate,
            rate_limit=rate_limit,
            rate_burst=rate_burst,
        )
        self.state = ReplayState(
            corpus_dir,
            snapshot=snapshot,
            faults=faults,
            seed=seed,
            registry=registry,
            registry_access=registry_access,
            synthetic_tags=synthetic_tags,
        )
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    # --- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and serve; ``self.port`` becomes the bound port."""
        if self._runner is not None:
            return
        runner = web.AppRunner(
            build_app(self.state), access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self.port = int(runner.addresses[0][1])
        self._runner = runner

    async def stop(self) -> None:
        """Stop serving (in-flight requests get a second to finish)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> ReplayServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def warm(self, snapshot: str | None = None) -> None:
        """Load and render every Hub answer of ``snapshot`` (default: the served one) now.

        Optional: everything is loaded on first use anyway. Benchmarks call this so that
        the requests of a run do not pay for reading ``hub/*.json.gz`` nor for rendering
        synthetic tags: the server's work then is sending bytes, as close as this machine
        gets to an upstream that runs elsewhere.
        """
        name = self.state.corpus.snapshot(snapshot or self.state.snapshot.name).name
        await asyncio.to_thread(self.state.hub_pages.warm, name)

    # --- addresses -------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` of the server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def hub_url(self) -> str:
        """Base URL to use as ``INDEXER_HUB_URL``."""
        return f"{self.url}/hub"

    @property
    def github_api_url(self) -> str:
        """Base URL to use as ``INDEXER_GITHUB_API_URL``."""
        return f"{self.url}/github-api"

    @property
    def github_raw_url(self) -> str:
        """Base URL to use as ``INDEXER_GITHUB_RAW_URL``."""
        return f"{self.url}/github-raw"

    @property
    def registry_url(self) -> str:
        """Base URL to use as ``INDEXER_REGISTRY_URL``."""
        return f"{self.url}{REGISTRY_PREFIX}"

    @property
    def registry_auth_url(self) -> str:
        """Base URL to use as ``INDEXER_REGISTRY_AUTH_URL``."""
        return f"{self.url}{REGISTRY_AUTH_PREFIX}"

    def upstreams(self) -> dict[str, str]:
        """The settings that point a sync at this server: ``settings.replace(**upstreams())``."""
        return {
            "hub_url": self.hub_url,
            "github_api_url": self.github_api_url,
            "github_raw_url": self.github_raw_url,
            "registry_url": self.registry_url,
            "registry_auth_url": self.registry_auth_url,
        }

    def env(self) -> dict[str, str]:
        """The ``INDEXER_*`` variables that point a sync at this server."""
        return {f"INDEXER_{key.upper()}": url for key, url in self.upstreams().items()}

    # --- control ---------------------------------------------------------------------

    @property
    def corpus(self) -> Corpus:
        """The corpus served."""
        return self.state.corpus

    @property
    def snapshot(self) -> Snapshot:
        """The snapshot served now."""
        return self.state.snapshot

    @property
    def counters(self) -> ReplayCounters:
        """Requests counted so far (``.reset()`` to start over)."""
        return self.state.counters

    @property
    def faults(self) -> FaultSettings:
        """The fault settings in force."""
        return self.state.faults

    @property
    def published(self) -> PublishedImages:
        """The indexes and manifests the registry serves (and the Hub's digests)."""
        return self.state.published

    def set_registry_access(
        self,
        *,
        require_token: bool | _Unset = UNSET,
        pull_limit: int | _Unset | None = UNSET,
        token_realm: str | _Unset | None = UNSET,
    ) -> RegistryAccess:
        """Change the registry's knobs (a new ``pull_limit`` starts a fresh window)."""
        given: dict[str, Any] = {
            "require_token": require_token,
            "pull_limit": pull_limit,
            "token_realm": token_realm,
        }
        return self.state.set_registry_access(**{k: v for k, v in given.items() if v is not UNSET})

    def switch_snapshot(self, name: str) -> None:
        """Serve snapshot ``name`` from now on (``UnknownSnapshotError`` if unknown)."""
        self.state.switch_snapshot(name)

    def set_faults(
        self,
        *,
        latency_ms: float | _Unset = UNSET,
        fail_rate: float | _Unset = UNSET,
        truncate_rate: float | _Unset = UNSET,
        rate_limit: float | _Unset | None = UNSET,
        rate_burst: float | _Unset | None = UNSET,
    ) -> FaultSettings:
        """Change the given fault settings (``rate_limit=None`` turns the limit off)."""
        given: dict[str, Any] = {
            "latency_ms": latency_ms,
            "fail_rate": fail_rate,
            "truncate_rate": truncate_rate,
            "rate_limit": rate_limit,
            "rate_burst": rate_burst,
        }
        return self.state.set_faults(**{k: v for k, v in given.items() if v is not UNSET})
