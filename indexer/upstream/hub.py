"""Docker Hub: the tags of a repository, one page at a time; the namespace's repositories.

``GET {hub_url}/v2/namespaces/{namespace}/repositories/{repository}/tags?page_size=N``
(plus ``&ordering=last_updated``), then each ``next`` link, but only while ``next``
lies under the configured ``hub_url`` (same scheme, host, port and path prefix).

``GET {hub_url}/v2/namespaces/{namespace}/repositories?page_size=100`` (the Hub's "list
repositories in a namespace", two pages for ``library``) gives each repository's
``last_updated``, the time of its last push: `HubClient.repository_times`. The sync
uses it to skip the tag pages of repositories nobody pushed to since it last read them.

A foreign ``next`` (another host, port, scheme or path, or user information) is not
requested: `HubClient.pages` raises `ForbiddenTargetError`, carrying that link as
``url``, after the pages before it have been yielded. Callers must therefore treat
the listing as incomplete (e.g. skip marking tags as removed) and record the error.

Extra fields of the real answers (``creator``, ``id``, ``full_size``, ``v2``,
``tag_last_pushed``, ``os_version``, ...) are ignored; a missing or wrongly typed
field the contract relies on is a `ShapeError` naming its place
(``$.results[3].images[1].size``), which the transport retries. Pages are decoded
straight into the typed structs by msgspec.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote, urlencode

import msgspec

from indexer.errors import ForbiddenTargetError, UpstreamError
from indexer.settings import Settings
from indexer.upstream.http import Response, ShapeError, UpstreamHttp, url_is_under

__all__ = ["HubClient", "HubImage", "HubPage", "HubTag"]


class HubImage(msgspec.Struct, frozen=True, gc=False):
    """One platform image of a tag."""

    architecture: str
    os: str
    variant: str | None = None
    digest: str | None = None
    size: int | None = None
    status: str | None = None
    #: aware when the Hub says so (it does: "Z"); a naive time means UTC
    last_pushed: datetime | None = None


class HubTag(msgspec.Struct, frozen=True, gc=False):
    """One tag of a repository as the Hub lists it."""

    name: Annotated[str, msgspec.Meta(min_length=1)]
    #: the tag's (index) digest; absent on some very old tags
    digest: str | None = None
    media_type: str | None = None
    #: aware when the Hub says so (it does: "Z"); a naive time means UTC
    last_updated: datetime | None = None
    #: ``active`` or ``inactive``
    tag_status: str | None = None
    images: list[HubImage] = msgspec.field(default_factory=list)


class _PageBody(msgspec.Struct, frozen=True, gc=False):
    """A tags answer as it arrives; `HubPage` adds the URL it came from."""

    count: int
    results: list[HubTag]
    next: str | None = None


class _Repository(msgspec.Struct, frozen=True, gc=False):
    """One entry of a namespace's repository list (the fields used)."""

    name: Annotated[str, msgspec.Meta(min_length=1)]
    last_updated: datetime | None = None


class _RepositoryListBody(msgspec.Struct, frozen=True, gc=False):
    count: int
    results: list[_Repository]
    next: str | None = None


class HubPage(msgspec.Struct, frozen=True, gc=False):
    """One page of a tag listing."""

    url: str
    #: the number of tags of the repository, over all pages
    count: int
    next: str | None
    results: list[HubTag]


#: decodes and checks a whole page in one pass, in C: a sync reads tens of thousands of
#: tags, and doing this in Python (``json`` plus checks) was its largest CPU cost
_PAGE_DECODER = msgspec.json.Decoder(_PageBody)
_REPOSITORY_LIST_DECODER = msgspec.json.Decoder(_RepositoryListBody)


def _page(response: Response) -> HubPage:
    """A tags answer, checked: wrong JSON or a field of the wrong type is a `ShapeError`.

    Types are strict (``"1"`` is no count, ``true`` no size); unknown fields are ignored.
    """
    try:
        body = _PAGE_DECODER.decode(response.body)
    except msgspec.ValidationError as exc:
        raise ShapeError(f"unexpected tags answer: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise ShapeError(f"tags answer is not JSON: {exc}") from exc
    return HubPage(url=response.url, count=body.count, next=body.next or None, results=body.results)


def _aware(moment: datetime | None) -> datetime | None:
    """A naive time of the Hub as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _repository_list(response: Response) -> _RepositoryListBody:
    try:
        return _REPOSITORY_LIST_DECODER.decode(response.body)
    except msgspec.ValidationError as exc:
        raise ShapeError(f"unexpected repository list: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise ShapeError(f"repository list is not JSON: {exc}") from exc


class HubClient:
    """Typed, streaming reads of Docker Hub tag listings over a shared `UpstreamHttp`."""

    def __init__(self, http: UpstreamHttp, settings: Settings) -> None:
        self._http = http
        self._settings = settings
        self._base = settings.hub_url.rstrip("/")
        #: CPU seconds spent decoding tag pages
        self.decode_seconds = 0.0

    def _decode_page(self, response: Response) -> HubPage:
        started = time.perf_counter()
        try:
            return _page(response)
        finally:
            self.decode_seconds += time.perf_counter() - started

    def tags_url(self, repository: str, *, ordering: str | None = "last_updated") -> str:
        """The URL of the first page of ``repository``'s tags."""
        if not repository or "/" in repository or repository in (".", ".."):
            raise ForbiddenTargetError(f"unsupported repository name {repository!r}")
        namespace = quote(self._settings.hub_namespace, safe="")
        query: dict[str, str | int] = {"page_size": self._settings.hub_page_size}
        if ordering:
            query["ordering"] = ordering
        path = f"/v2/namespaces/{namespace}/repositories/{quote(repository, safe='')}/tags"
        return f"{self._base}{path}?{urlencode(query)}"

    async def pages(
        self, repository: str, *, ordering: str | None = "last_updated"
    ) -> AsyncGenerator[HubPage, None]:
        """Yield the pages of ``repository``'s tags, following ``next`` on the Hub only.

        Each page is read completely before it is yielded, so a caller that stops
        early leaves no request open (wrap in `contextlib.aclosing` to finish the
        generator at once). Raises `NotFoundError` for an unknown
        repository, `ForbiddenTargetError` for a ``next`` outside ``hub_url`` (after
        the pages before it), `UpstreamError` if ``next`` repeats an earlier page.
        """
        url: str | None = self.tags_url(repository, ordering=ordering)
        seen: set[str] = set()
        while url is not None:
            seen.add(url)
            page = await self._http.request(
                url,
                kind="hub-tags",
                headers={"Accept": "application/json"},
                decode=self._decode_page,
            )
            yield page
            url = self._next_url(page.next, seen)

    def repositories_url(self) -> str:
        """The URL of the first page of the namespace's repository list, by name.

        By name, so a push while the list is read moves no entry to another page (one
        that went missing would only be paged, not skipped).
        """
        namespace = quote(self._settings.hub_namespace, safe="")
        query = urlencode({"page_size": 100, "ordering": "name"})
        return f"{self._base}/v2/namespaces/{namespace}/repositories?{query}"

    async def repository_times(self) -> dict[str, datetime | None]:
        """Every repository of the namespace with its ``last_updated`` (the last push).

        ``GET {hub_url}/v2/namespaces/{namespace}/repositories`` and each ``next``, under
        the same rules as the tag pages. Raises like `pages` (`NotFoundError` where
        the Hub has no such list).
        """
        url: str | None = self.repositories_url()
        seen: set[str] = set()
        times: dict[str, datetime | None] = {}
        while url is not None:
            seen.add(url)
            body = await self._http.request(
                url,
                kind="hub-repositories",
                headers={"Accept": "application/json"},
                decode=_repository_list,
            )
            times.update((entry.name, _aware(entry.last_updated)) for entry in body.results)
            url = self._next_url(body.next or None, seen)
        return times

    def _next_url(self, link: str | None, seen: set[str]) -> str | None:
        """The page after the one that said ``next: link``, or ``None`` at the end;
        refuses foreign or looping links."""
        if link is None:
            return None
        if not url_is_under(link, self._settings.hub_url):
            raise ForbiddenTargetError(
                "next link outside the configured Hub, not followed", url=link
            )
        if link in seen:
            raise UpstreamError("next link repeats an earlier page", url=link)
        return link
