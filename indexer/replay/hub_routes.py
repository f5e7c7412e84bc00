"""Docker Hub's tag list, ``GET /hub/v2/namespaces/{namespace}/repositories/{repository}/tags``,
and its repository list, ``GET /hub/v2/namespaces/{namespace}/repositories``.

Query: ``page_size`` (default 10, at most 100 like the real Hub, larger values are
capped), ``page`` (from 1), ``ordering`` (``last_updated``, the default, newest first;
also ``-last_updated``, ``name``, ``-name``). The answer is
``{count, next, previous, results}`` with absolute ``next``/``previous`` URLs on this
server (built from the request's Host) or ``null``.

Errors, in the Hub's shape ``{"message": "httperror 404: object not found", "errinfo"}``:
a repository unknown at the served snapshot, a namespace other than ``library``, and a
page past the end are 404; a ``page``/``page_size`` that is not a positive integer is 400.

The repository list pages the same way (``ordering``: ``last_updated``, the default,
newest first, or ``name``); each entry has the real Hub's fields, ``last_updated``
as :func:`indexer.replay.hub_render.render_repository` sets it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from indexer.replay.responses import hub_error, json_response
from indexer.replay.state import STATE_KEY

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "add_hub_routes"]

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
NAMESPACE = "library"


def _positive_int(value: str | None, default: int) -> int | None:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        return None
    return number if number >= 1 else None


def _page_url(request: web.Request, page: int, page_size: int, ordering: str | None) -> bytes:
    params: dict[str, str | int] = {"page": page, "page_size": page_size}
    if ordering is not None:
        params["ordering"] = ordering
    query = urlencode(sorted(params.items()))
    return json.dumps(
        f"{request.scheme}://{request.host}{request.rel_url.raw_path}?{query}"
    ).encode()


def _paged(request: web.Request, entries: Sequence[bytes], ordering: str | None) -> web.Response:
    """One page of ``entries`` (JSON bytes each) per the request's ``page``/``page_size``."""
    page = _positive_int(request.query.get("page"), 1)
    page_size = _positive_int(request.query.get("page_size"), DEFAULT_PAGE_SIZE)
    if page is None or page_size is None:
        return hub_error(400)
    page_size = min(page_size, MAX_PAGE_SIZE)
    count = len(entries)
    last_page = max(1, -(-count // page_size))
    if page > last_page:
        return hub_error(404)
    start = (page - 1) * page_size
    next_url = _page_url(request, page + 1, page_size, ordering) if page < last_page else b"null"
    previous_url = _page_url(request, page - 1, page_size, ordering) if page > 1 else b"null"
    body = b"".join(
        (
            b'{"count":%d,"next":%s,"previous":%s,"results":[' % (count, next_url, previous_url),
            b",".join(entries[start : start + page_size]),
            b"]}",
        )
    )
    return json_response(body)


def _repository_order(entries: list[dict[str, Any]], ordering: str | None) -> list[bytes]:
    if ordering == "name":
        ordered = entries  # kept by name
    else:
        ordered = sorted(entries, key=lambda entry: (entry["last_updated"], entry["name"]))
        ordered.reverse()
    return [json.dumps(entry, separators=(",", ":")).encode() for entry in ordered]


async def hub_repositories(request: web.Request) -> web.Response:
    """One page of the namespace's repositories at the served snapshot."""
    state = request.app[STATE_KEY]
    namespace = request.match_info["namespace"]
    if namespace != NAMESPACE:
        return hub_error(404, {"namespace": namespace})
    ordering = request.query.get("ordering")
    entries = await state.hub_pages.repositories_async(state.snapshot.name)
    return _paged(request, _repository_order(entries, ordering), ordering)


async def hub_tags(request: web.Request) -> web.Response:
    """One page of a repository's tags at the served snapshot."""
    state = request.app[STATE_KEY]
    namespace = request.match_info["namespace"]
    repository = request.match_info["repository"]
    ordering = request.query.get("ordering")
    entries = (
        await state.hub_pages.entries_async(
            state.snapshot.name, repository, ordering or "last_updated"
        )
        if namespace == NAMESPACE
        else []
    )
    if not entries:
        return hub_error(404, {"namespace": namespace, "repository": repository})
    return _paged(request, entries, ordering)


def add_hub_routes(app: web.Application) -> None:
    """Register the Hub routes on ``app`` (with and without the trailing slash)."""
    app.router.add_get("/hub/v2/namespaces/{namespace}/repositories/{repository}/tags", hub_tags)
    app.router.add_get("/hub/v2/namespaces/{namespace}/repositories/{repository}/tags/", hub_tags)
    app.router.add_get("/hub/v2/namespaces/{namespace}/repositories", hub_repositories)
    app.router.add_get("/hub/v2/namespaces/{namespace}/repositories/", hub_repositories)
