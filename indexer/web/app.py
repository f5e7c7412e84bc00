"""The aiohttp application of ``indexer serve``: a read-only view of the lineage index.

URLs (stable; each answers HTML, or JSON with ``Accept: application/json``):

- ``/``: search box, the most depended-on bases, every repository;
- ``/search?q=REF``: redirects to the page of any REF form, or lists near misses (404);
- ``/r/{repository}``: its stanzas with aliases, and the variants of its ``latest``
  (``?tag=3.12`` for another version, ``?arch=arm64v8`` to compare one architecture);
- ``/t/{repository}:{tag}``: one tag (other REF forms redirect here);
- ``/runs``: recent syncs and their errors.

Requests get one database session, never committed, read through the store's query
functions by a :class:`~indexer.store.read.session.SessionReader` over it: a long-running
server does not care for the start-up the CLI's light readers save, and keeps the
engine's pool, its reachability check and aiosqlite's thread (SQLite reads stay off the
event loop). Middlewares, outermost first:
security headers (a strict Content-Security-Policy: no script at all), errors as
pages (404 unknown image, 400 malformed reference, 503 database down), caching
headers keyed to the last sync (:mod:`indexer.web.caching`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from indexer.errors import DatabaseUnavailableError, ImageReferenceError, NotIndexedError
from indexer.refs import parse_ref
from indexer.store.db import Database
from indexer.store.queries import resolve_tag
from indexer.store.read import Reader
from indexer.store.read.session import SessionReader
from indexer.web.caching import etag_for, last_sync_mark
from indexer.web.pages import Page, front_page, repository_page, runs_page, tag_page
from indexer.web.search import SearchAnswer, search
from indexer.web.templates import image_url, make_environment, repository_url

__all__ = ["CONTENT_SECURITY_POLICY", "create_app"]

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

DATABASE = web.AppKey("database", Database)
ENVIRONMENT = web.AppKey("environment", jinja2.Environment)
VERSION = web.AppKey("version", str)
#: the reader of the request's database session (set by the ``database_session`` middleware)
READER: ContextVar[Reader] = ContextVar("indexer_web_reader")

STATIC_DIR = Path(__file__).parent / "static"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def wants_json(request: web.Request) -> bool:
    """``Accept`` asks for JSON and not for HTML (a browser's ``*/*`` gets HTML)."""
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def _dumps(data: Any) -> str:
    return json.dumps(data, default=str)


def _html(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    environment = request.app[ENVIRONMENT]
    body = environment.get_template(template).render(
        request_path=request.path, query=request.query, **context
    )
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def respond(request: web.Request, page: Page) -> web.Response:
    if wants_json(request):
        return web.json_response(page.data, dumps=_dumps)
    return _html(request, page.template, data=page.data, **page.context)


def current_reader() -> Reader:
    """The reader of the request's session (see ``database_session``)."""
    return READER.get()


def _redirect(location: str, status: int = 302) -> web.Response:
    return web.Response(status=status, headers={"Location": location})


# --------------------------------------------------------------------------- handlers


async def front(request: web.Request) -> web.StreamResponse:
    return respond(request, await front_page(current_reader()))


async def search_handler(request: web.Request) -> web.StreamResponse:
    query = request.query.get("q", "").strip()
    if not query:
        return _redirect("/")
    answer = await search(current_reader(), query)
    if wants_json(request):
        return web.json_response(
            answer.as_json(), status=200 if answer.target else 404, dumps=_dumps
        )
    if answer.target:
        return _redirect(answer.target)
    return _error_page(request, 404, "No such image", answer.message or "", answer)


async def repository(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    parsed = parse_ref(name, default_tag=None)
    if parsed.tag is not None or parsed.digest is not None:
        return _redirect(image_url(name), 301)
    if parsed.repository != name:
        return _redirect(_with_query(request, repository_url(parsed.repository)), 301)
    page = await repository_page(
        current_reader(),
        name,
        tag=request.query.get("tag") or None,
        architecture=request.query.get("arch") or None,
    )
    return respond(request, page)


def _with_query(request: web.Request, path: str) -> str:
    return f"{path}?{urlencode(list(request.query.items()))}" if request.query else path


async def tag(request: web.Request) -> web.StreamResponse:
    ref = request.match_info["ref"]
    parsed = parse_ref(ref)
    if parsed.tag is None:
        resolved = await resolve_tag(current_reader(), ref)
        canonical = f"{resolved.repository}:{resolved.tag}"
    else:
        canonical = f"{parsed.repository}:{parsed.tag}"
    if canonical != ref:
        return _redirect(_with_query(request, image_url(canonical)), 301)
    page = await tag_page(
        current_reader(), canonical, architecture=request.query.get("arch") or None
    )
    return respond(request, page)


async def runs(request: web.Request) -> web.StreamResponse:
    page = await runs_page(current_reader(), with_items=wants_json(request))
    return respond(request, page)


# --------------------------------------------------------------------------- middlewares


def _error_page(
    request: web.Request,
    status: int,
    title: str,
    message: str,
    answer: SearchAnswer | None = None,
) -> web.Response:
    suggestions = answer.suggestions if answer else []
    if wants_json(request):
        return web.json_response(
            {"error": message, "status": status, "suggestions": suggestions},
            status=status,
            dumps=_dumps,
        )
    return _html(
        request,
        "error.html",
        status,
        title=title,
        message=message,
        suggestions=suggestions,
        search_value=answer.query if answer else "",
    )


async def _near_misses(request: web.Request) -> SearchAnswer | None:
    """Suggestions for an image page that found no image."""
    ref = request.match_info.get("ref") or request.match_info.get("name")
    if not ref or READER.get(None) is None:
        return None
    try:
        return await search(current_reader(), ref)
    except (ImageReferenceError, SQLAlchemyError):
        return None


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.update(SECURITY_HEADERS)
    return response


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except NotIndexedError as exc:
        return _error_page(request, 404, "Not indexed", str(exc), await _near_misses(request))
    except ImageReferenceError as exc:
        return _error_page(request, 400, "Not an image reference", str(exc))
    except web.HTTPNotFound:
        return _error_page(request, 404, "Not found", f"there is no page at {request.path}")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error_page(request, exc.status, exc.reason, exc.text or exc.reason)
    except (DatabaseUnavailableError, SQLAlchemyError) as exc:
        log.warning("database error on %s: %s", request.path, exc)
        return _error_page(
            request,
            503,
            "Database unavailable",
            "the index cannot be read now (is the schema current? run `indexer migrate`)",
        )
    except Exception:
        log.exception("error on %s", request.path)
        return _error_page(request, 500, "Internal error", "this page could not be shown")


@web.middleware
async def database_session(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One session per page request, rolled back at the end: the view never writes."""
    if request.path.startswith("/static/"):
        return await handler(request)
    async with request.app[DATABASE].sessions() as session:
        token = READER.set(SessionReader(session))
        try:
            return await handler(request)
        finally:
            READER.reset(token)
            await session.rollback()


@web.middleware
async def caching(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/static/") or request.method not in ("GET", "HEAD"):
        return await handler(request)
    mark = await last_sync_mark(current_reader())
    representation = "json" if wants_json(request) else "html"
    etag = etag_for(mark, representation, request.app[VERSION])
    headers = {"Cache-Control": "no-cache", "Vary": "Accept"}
    if etag is not None:
        headers["ETag"] = etag
        if mark is not None and mark.last_modified:
            headers["Last-Modified"] = mark.last_modified
        asked = {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")}
        if etag in asked or "*" in asked:
            return web.Response(status=304, headers=headers)
    response = await handler(request)
    if response.status != 200:
        headers = {"Cache-Control": "no-cache", "Vary": "Accept"}
    response.headers.update(headers)
    return response


def _version() -> str:
    try:
        return version("indexer")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "source"


def create_app(database: Database) -> web.Application:
    """The web view on ``database`` (the caller opens and disposes it)."""
    app = web.Application(middlewares=[security_headers, error_pages, database_session, caching])
    app[DATABASE] = database
    app[ENVIRONMENT] = make_environment()
    app[VERSION] = _version()
    app.router.add_get("/", front)
    app.router.add_get("/search", search_handler)
    app.router.add_get("/r/{name:.+}", repository)
    app.router.add_get("/t/{ref:.+}", tag)
    app.router.add_get("/runs", runs)
    app.router.add_static("/static/", STATIC_DIR, append_version=False)
    return app
