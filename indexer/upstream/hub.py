"""Docker Hub: the tags of a repository, one page at a time.

``GET {hub_url}/v2/namespaces/{namespace}/repositories/{repository}/tags?page_size=N``
(plus ``&ordering=last_updated``), then each ``next`` link, but only while ``next``
lies under the configured ``hub_url`` (same scheme, host, port and path prefix).

A foreign ``next`` (another host, port, scheme or path, or user information) is not
requested: `HubClient.pages` raises `ForbiddenTargetError`, carrying that link as
``url``, after the pages before it have been yielded. Callers must therefore treat
the listing as incomplete (e.g. skip marking tags as removed) and record the error.

Extra fields of the real answers (``creator``, ``id``, ``full_size``, ``v2``,
``tag_last_pushed``, ``os_version``, ...) are ignored; a missing or wrongly typed
field the contract relies on is a `ShapeError`, which the transport retries.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeGuard
from urllib.parse import quote, urlencode

from indexer.errors import ForbiddenTargetError, UpstreamError
from indexer.settings import Settings
from indexer.upstream.http import Response, ShapeError, UpstreamHttp, url_is_under

__all__ = ["HubClient", "HubImage", "HubPage", "HubTag", "parse_hub_time"]

_FRACTION = re.compile(r"(\.\d{6})\d+")


@dataclass(frozen=True)
class HubImage:
    """One platform image of a tag."""

    architecture: str
    os: str
    variant: str | None
    digest: str | None
    size: int | None
    status: str | None
    last_pushed: datetime | None


@dataclass(frozen=True)
class HubTag:
    """One tag of a repository as the Hub lists it."""

    name: str
    #: the tag's (index) digest; absent on some very old tags
    digest: str | None
    media_type: str | None
    last_updated: datetime | None
    #: ``active`` or ``inactive``
    tag_status: str | None
    images: list[HubImage]


@dataclass(frozen=True)
class HubPage:
    """One page of a tag listing."""

    url: str
    #: the number of tags of the repository, over all pages
    count: int
    next: str | None
    results: list[HubTag]


def parse_hub_time(value: object, what: str) -> datetime | None:
    """An ISO 8601 time of the Hub (``2024-06-19T16:40:09.123456Z``) as an aware datetime.

    ``None`` stays ``None``; a naive time is taken as UTC; anything else is a `ShapeError`.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise ShapeError(f"{what} is not a string")
    moment = _iso_time(value)
    if moment is None:
        raise ShapeError(f"{what} is not an ISO time: {value!r}")
    return moment


def _iso_time(value: str) -> datetime | None:
    """``value`` as an aware datetime (naive means UTC), or ``None`` when it is no ISO time."""
    try:
        # Python 3.11 reads the Hub's form ("Z", digits past the microsecond) as it
        # is; the fraction is cut to microseconds first only for what it rejects
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            moment = datetime.fromisoformat(_FRACTION.sub(r"\1", value))
        except ValueError:
            return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _page(response: Response) -> HubPage:
    document = response.json()
    if not isinstance(document, dict):
        raise ShapeError("tags answer is not a JSON object")
    count = document.get("count")
    if not _is_int(count):
        raise ShapeError("'count' is not an integer")
    next_url = _optional_str(document, "next", "page")
    results = document.get("results")
    if not isinstance(results, list):
        raise ShapeError("'results' is not an array")
    tags = [_tag(item, index) for index, item in enumerate(results)]
    return HubPage(url=response.url, count=count, next=next_url or None, results=tags)


# `_tag` and `_image` run for every tag and platform image of a sync (tens of
# thousands): they check the usual answer in few steps and describe the place of a
# fault ("results[3].images[1]") only once there is one, in `_tag_fault`/`_image_fault`.


def _tag(item: object, index: int) -> HubTag:
    if not isinstance(item, dict):
        raise ShapeError(f"results[{index}] is not an object")
    get = item.get
    name, images = get("name"), get("images", [])
    digest, media_type, tag_status = get("digest"), get("media_type"), get("tag_status")
    last_updated = get("last_updated")
    moment = _iso_time(last_updated) if isinstance(last_updated, str) else None
    if (
        not isinstance(name, str)
        or not name
        or not isinstance(images, list)
        or not (digest is None or isinstance(digest, str))
        or not (media_type is None or isinstance(media_type, str))
        or not (tag_status is None or isinstance(tag_status, str))
        or (moment is None and last_updated is not None)
    ):
        raise _tag_fault(item, f"results[{index}]")
    return HubTag(
        name=name,
        digest=digest,
        media_type=media_type,
        last_updated=moment,
        tag_status=tag_status,
        images=[_image(image, index, position) for position, image in enumerate(images)],
    )


def _tag_fault(item: Mapping[str, object], what: str) -> ShapeError:
    """The first thing wrong with tag ``item`` (which `_tag` found faulty)."""
    name = item.get("name")
    if not isinstance(name, str) or not name:
        return ShapeError(f"{what}: 'name' is not a non-empty string")
    if not isinstance(item.get("images", []), list):
        return ShapeError(f"{what}: 'images' is not an array")
    try:
        _optional_str(item, "digest", what)
        _optional_str(item, "media_type", what)
        parse_hub_time(item.get("last_updated"), f"{what}.last_updated")
        _optional_str(item, "tag_status", what)
    except ShapeError as exc:
        return exc
    raise AssertionError(f"{what}: no fault found")  # pragma: no cover


def _image(item: object, index: int, position: int) -> HubImage:
    if not isinstance(item, dict):
        raise ShapeError(f"results[{index}].images[{position}] is not an object")
    get = item.get
    architecture, os_name, size = get("architecture"), get("os"), get("size")
    variant, digest, status = get("variant"), get("digest"), get("status")
    last_pushed = get("last_pushed")
    moment = _iso_time(last_pushed) if isinstance(last_pushed, str) else None
    if (
        not isinstance(architecture, str)
        or not isinstance(os_name, str)
        or not (size is None or _is_int(size))
        or not (variant is None or isinstance(variant, str))
        or not (digest is None or isinstance(digest, str))
        or not (status is None or isinstance(status, str))
        or (moment is None and last_pushed is not None)
    ):
        raise _image_fault(item, f"results[{index}].images[{position}]")
    return HubImage(
        architecture=architecture,
        os=os_name,
        variant=variant,
        digest=digest,
        size=size,
        status=status,
        last_pushed=moment,
    )


def _image_fault(item: Mapping[str, object], what: str) -> ShapeError:
    """The first thing wrong with platform image ``item`` (which `_image` found faulty)."""
    if not isinstance(item.get("architecture"), str) or not isinstance(item.get("os"), str):
        return ShapeError(f"{what}: 'architecture' and 'os' must be strings")
    size = item.get("size")
    if size is not None and not _is_int(size):
        return ShapeError(f"{what}: 'size' is not an integer")
    try:
        for key in ("variant", "digest", "status"):
            _optional_str(item, key, what)
        parse_hub_time(item.get("last_pushed"), f"{what}.last_pushed")
    except ShapeError as exc:
        return exc
    raise AssertionError(f"{what}: no fault found")  # pragma: no cover


def _optional_str(item: Mapping[str, object], key: str, what: str) -> str | None:
    value = item.get(key)
    if value is not None and not isinstance(value, str):
        raise ShapeError(f"{what}: {key!r} is not a string")
    return value


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


class HubClient:
    """Typed, streaming reads of Docker Hub tag listings over a shared `UpstreamHttp`."""

    def __init__(self, http: UpstreamHttp, settings: Settings) -> None:
        self._http = http
        self._settings = settings
        self._base = settings.hub_url.rstrip("/")

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
                url, kind="hub-tags", headers={"Accept": "application/json"}, decode=_page
            )
            yield page
            url = self._next_url(page, seen)

    def _next_url(self, page: HubPage, seen: set[str]) -> str | None:
        """The page after ``page``, or ``None`` at the end; refuses foreign or looping links."""
        if page.next is None:
            return None
        if not url_is_under(page.next, self._settings.hub_url):
            raise ForbiddenTargetError(
                "next link outside the configured Hub, not followed", url=page.next
            )
        if page.next in seen:
            raise UpstreamError("next link repeats an earlier page", url=page.next)
        return page.next
