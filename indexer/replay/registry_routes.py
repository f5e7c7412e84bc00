"""The registry (``registry-1.docker.io``) and its token service (``auth.docker.io``).

- ``GET /registry-auth/token?service=registry.docker.io&scope=repository:{ns}/{repo}:pull``:
  ``{token, access_token, expires_in, issued_at}``; the token is good for that scope only.
- ``GET``/``HEAD /registry/v2/{ns}/{repo}/manifests/{tag or digest}``: the body
  :class:`indexer.replay.registry_images.PublishedImages` generated (its sha256 is the
  digest), with ``Content-Type`` and ``Docker-Content-Digest``; ``404``
  ``MANIFEST_UNKNOWN`` for anything else.

Knobs (:class:`indexer.replay.registry_images.RegistryAccess`, changeable while serving): ``require_token`` answers
``401`` with ``WWW-Authenticate: Bearer realm=...,service=...,scope=...`` to a request
without a valid token (the realm is this server's token endpoint, or ``token_realm``);
``pull_limit`` counts every ``GET`` of a manifest as a pull (``HEAD`` is free), sends
``ratelimit-limit``/``ratelimit-remaining`` (``N;w=21600``) on every answer and
``429`` ``TOOMANYREQUESTS`` once the pulls are spent. Served pulls are counted by
reference in ``ReplayCounters.pulls``.
"""

from __future__ import annotations

import hashlib
import time

from aiohttp import web

from indexer.replay.responses import base_url, json_response
from indexer.replay.state import STATE_KEY, ReplayState

__all__ = [
    "PULL_WINDOW_SECONDS",
    "REGISTRY_AUTH_PREFIX",
    "REGISTRY_PREFIX",
    "add_registry_routes",
]

REGISTRY_PREFIX = "/registry"
REGISTRY_AUTH_PREFIX = "/registry-auth"
SERVICE = "registry.docker.io"
PULL_WINDOW_SECONDS = 21600
_TOKEN_SECONDS = 300
_NAMESPACE = "library"


def _token(scope: str) -> str:
    return "replay-" + hashlib.sha256(f"token|{scope}".encode()).hexdigest()[:32]


def _scope(repository: str) -> str:
    return f"repository:{_NAMESPACE}/{repository}:pull"


def _error(status: int, code: str, message: str, headers: dict[str, str]) -> web.Response:
    return json_response(
        {"errors": [{"code": code, "message": message, "detail": None}]},
        status=status,
        headers=headers,
    )


async def token(request: web.Request) -> web.Response:
    """A bearer token for the requested scope (anonymous or Basic: both accepted)."""
    scope = request.query.get("scope", "")
    value = _token(scope)
    return json_response(
        {
            "token": value,
            "access_token": value,
            "expires_in": _TOKEN_SECONDS,
            "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
    )


def _limit_headers(state: ReplayState) -> dict[str, str]:
    limit = state.registry_access.pull_limit
    if limit is None:
        return {}
    remaining = max(0, limit - state.pulls_taken)
    return {
        "ratelimit-limit": f"{limit};w={PULL_WINDOW_SECONDS}",
        "ratelimit-remaining": f"{remaining};w={PULL_WINDOW_SECONDS}",
    }


async def manifest(request: web.Request) -> web.StreamResponse:
    """A manifest or index by tag or digest (GET counts as a pull, HEAD does not)."""
    state = request.app[STATE_KEY]
    namespace = request.match_info["namespace"]
    repository = request.match_info["repository"]
    reference = request.match_info["reference"]
    access = state.registry_access
    if access.require_token:
        expected = f"Bearer {_token(_scope(repository))}"
        if request.headers.get("Authorization") != expected:
            realm = access.token_realm or base_url(request, f"{REGISTRY_AUTH_PREFIX}/token")
            challenge = f'Bearer realm="{realm}",service="{SERVICE}",scope="{_scope(repository)}"'
            return _error(
                401,
                "UNAUTHORIZED",
                "authentication required",
                {"WWW-Authenticate": challenge},
            )
    is_get = request.method == "GET"
    limit = access.pull_limit
    if is_get and limit is not None and state.pulls_taken >= limit:
        return _error(
            429,
            "TOOMANYREQUESTS",
            "You have reached your pull rate limit.",
            {**_limit_headers(state), "Retry-After": "3600"},
        )
    found = None
    if namespace == _NAMESPACE:
        found = await state.registry_body(repository, reference)
    if found is None:
        return _error(404, "MANIFEST_UNKNOWN", "manifest unknown", _limit_headers(state))
    media_type, body, digest = found
    if is_get:
        state.pulls_taken += 1
        state.counters.pulls[reference] += 1
    headers = {
        **_limit_headers(state),
        "Docker-Content-Digest": digest,
        "Content-Type": media_type,
    }
    return web.Response(body=body, status=200, headers=headers)  # HEAD: aiohttp sends no body


async def ping(request: web.Request) -> web.Response:
    """``/v2/``: the API version check."""
    return json_response({})


def add_registry_routes(app: web.Application) -> None:
    """Register the registry and token routes on ``app``."""
    app.router.add_get(f"{REGISTRY_AUTH_PREFIX}/token", token)
    app.router.add_get(f"{REGISTRY_PREFIX}/v2/", ping)
    path = f"{REGISTRY_PREFIX}/v2/{{namespace}}/{{repository}}/manifests/{{reference}}"
    app.router.add_route("GET", path, manifest)
    app.router.add_route("HEAD", path, manifest)
