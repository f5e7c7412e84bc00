"""Docker Hub tag-list answers, rendered once per (snapshot, repository, ordering) and cached.

The answer of ``GET /v2/namespaces/{ns}/repositories/{repo}/tags`` is
``{count, next, previous, results}``; ``next``/``previous`` depend on the request's
host, so only ``results`` entries are cached, as JSON bytes, one per tag. Each entry has
the real Hub's fields (``creator``, ``id``, ``images[]`` with ``features``,
``os_features``, ``os_version``, ``status``, ``last_pulled``, ``last_pushed``, ...,
``tag_status``, ``tag_last_pulled``, ``tag_last_pushed``, ``content_type``); values the
corpus lacks are deterministic stand-ins (ids from hashes, ``last_pulled`` = the
snapshot's commit date).

The repository list of the namespace (``GET /v2/namespaces/{ns}/repositories``) is
rendered once per snapshot: one entry per repository with a tag served, its
``last_updated`` from :meth:`HubPages.push_time`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import weakref
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from indexer.replay.corpus import HUB_TIME_FORMAT, Corpus
from indexer.replay.hub_view import HubTagView, parse_hub_time
from indexer.replay.registry_images import PublishedImages, published_images
from indexer.replay.synthetic import TagEntries, synthetic_tag

__all__ = ["ORDERINGS", "HubPages", "render_repository", "render_tag"]

#: repository push times per corpus, ``{(snapshot, repository): time}``: shared by every
#: server on the same corpus object (tests start many), as they take some seconds
_PUSH_TIMES: weakref.WeakKeyDictionary[Corpus, dict[tuple[str, str], str | None]] = (
    weakref.WeakKeyDictionary()
)

#: Hub user that pushes the official images
OFFICIAL_UPDATER_ID = 1156886
OFFICIAL_UPDATER_NAME = "doijanky"
#: ``ordering`` values understood; anything else (or none) is ``last_updated``
ORDERINGS = ("last_updated", "-last_updated", "name", "-name")


def _stable_int(text: str, modulus: int) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16) % modulus + 1


def _later(first: str, second: str) -> str:
    return max(first, second)  # both YYYY-MM-DDTHH:MM:SSZ


def render_tag(view: HubTagView, *, repository: str, last_pulled: str) -> dict[str, Any]:
    """One ``results`` entry of the Hub tag list, in the real Hub's shape.

    ``last_pulled`` is the served snapshot's date, or the push time when that is later.
    """
    images = [
        {
            "architecture": image.architecture,
            "features": "",
            "variant": image.variant,
            "digest": image.digest,
            "os": image.os,
            "os_features": "",
            "os_version": None,
            "size": image.size,
            "status": "active",
            "last_pulled": _later(last_pulled, image.last_pushed),
            "last_pushed": image.last_pushed,
        }
        for image in view.images
    ]
    full_size = next(
        (i.size for i in view.images if (i.os, i.architecture) == ("linux", "amd64")),
        view.images[0].size if view.images else 0,
    )
    return {
        "creator": OFFICIAL_UPDATER_ID,
        "id": _stable_int(f"tag|{repository}|{view.name}", 10**9),
        "images": images,
        "last_updated": view.last_updated,
        "last_updater": OFFICIAL_UPDATER_ID,
        "last_updater_username": OFFICIAL_UPDATER_NAME,
        "name": view.name,
        "repository": _stable_int(f"repository|{repository}", 10**6),
        "full_size": full_size,
        "v2": True,
        "tag_status": "active",
        "tag_last_pulled": _later(last_pulled, view.last_updated),
        "tag_last_pushed": view.last_updated,
        "media_type": view.media_type,
        "content_type": "image",
        "digest": view.digest,
    }


def render_repository(
    repository: str, views: Sequence[HubTagView], *, last_updated: str
) -> dict[str, Any]:
    """One ``results`` entry of the Hub's repository list of the ``library`` namespace."""
    return {
        "name": repository,
        "namespace": "library",
        "repository_type": "image",
        "status": 1,
        "status_description": "active",
        "description": "",
        "is_private": False,
        "star_count": 0,
        "pull_count": 0,
        "last_updated": last_updated,
        "date_registered": "2014-06-05T19:00:00Z",
        "affiliation": "",
        "media_types": sorted({view.media_type for view in views}),
        "content_types": ["image"],
        "categories": [],
        "storage_size": sum(image.size for view in views for image in view.images),
    }


def _hub_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(HUB_TIME_FORMAT)


def _content(views: Sequence[HubTagView]) -> frozenset[tuple[str, str]]:
    return frozenset((view.name, view.digest) for view in views)


def _ordered(views: Sequence[HubTagView], ordering: str) -> list[HubTagView]:
    if ordering == "-last_updated":
        return sorted(views, key=lambda v: (v.last_updated, v.name))
    if ordering in ("name", "-name"):
        return sorted(views, key=lambda v: v.name, reverse=ordering == "-name")
    return list(views)  # hub_tags_for already orders by last_updated, newest first


class HubPages:
    """Cache of rendered tag entries per (snapshot, repository, ordering).

    The first request for a repository loads its Hub file and renders every entry
    (up to a few hundred milliseconds for the largest); :meth:`entries_async` does that
    in a worker thread, once per key however many requests wait for it, so the event
    loop keeps answering other requests meanwhile.
    """

    def __init__(
        self, corpus: Corpus, published: PublishedImages | None = None, *, synthetic_tags: int = 0
    ) -> None:
        self._corpus = corpus
        self._published = published or published_images(corpus)
        #: synthetic tags appended to every repository (:mod:`indexer.replay.synthetic`)
        self.synthetic_tags = synthetic_tags
        self._views: dict[tuple[str, str], list[HubTagView]] = {}
        self._rendered: dict[tuple[str, str, str], Sequence[bytes]] = {}
        self._pending: dict[tuple[str, str, str], asyncio.Future[Sequence[bytes]]] = {}
        self._repositories: dict[str, list[dict[str, Any]]] = {}

    def views(self, snapshot: str, repository: str) -> list[HubTagView]:
        """``hub_tags_for(corpus, snapshot, repository)`` with the registry's published
        digests (:mod:`indexer.replay.registry_images`), cached."""
        key = (snapshot, repository)
        views = self._views.get(key)
        if views is None:
            views = self._published.views(snapshot, repository)
            self._views[key] = views
        return views

    def warm(self, snapshot: str) -> None:
        """Render every repository's entries of ``snapshot`` in the default ordering,
        synthetic ones included (kept from then on, instead of rendered per request),
        and the repository list."""
        for repository in sorted(self._corpus.hub_repositories):
            entries = self.entries(snapshot, repository, "last_updated")
            if isinstance(entries, TagEntries):
                self._rendered[(snapshot, repository, "last_updated")] = list(entries)
        self.repositories(snapshot)

    async def entries_async(self, snapshot: str, repository: str, ordering: str) -> Sequence[bytes]:
        """:meth:`entries`, computed in a worker thread the first time."""
        key = (snapshot, repository, ordering if ordering in ORDERINGS else "last_updated")
        entries = self._rendered.get(key)
        if entries is not None or repository not in self._corpus.hub_repositories:
            return entries or []
        pending = self._pending.get(key)
        if pending is None:
            pending = asyncio.ensure_future(asyncio.to_thread(self.entries, *key))
            self._pending[key] = pending
            pending.add_done_callback(lambda _: self._pending.pop(key, None))
        return await asyncio.shield(pending)

    def entries(self, snapshot: str, repository: str, ordering: str) -> Sequence[bytes]:
        """The JSON bytes of every ``results`` entry, in ``ordering``; empty: no repository.

        Synthetic tags, being older than every real one, follow them in the default
        ordering and are rendered only when a page asks for them.
        """
        if ordering not in ORDERINGS:
            ordering = "last_updated"
        if repository not in self._corpus.hub_repositories:
            return []
        key = (snapshot, repository, ordering)
        entries = self._rendered.get(key)
        if entries is None:
            date = self._corpus.snapshot(snapshot).date.astimezone(UTC)
            last_pulled = date.strftime("%Y-%m-%dT%H:%M:%SZ")

            def render(view: HubTagView) -> bytes:
                entry = render_tag(view, repository=repository, last_pulled=last_pulled)
                return json.dumps(entry, separators=(",", ":")).encode()

            views = self.views(snapshot, repository)
            count = self.synthetic_tags if views else 0
            if ordering == "last_updated":
                entries = TagEntries(
                    [render(view) for view in views],
                    count,
                    lambda index: render(synthetic_tag(repository, index)),
                )
            else:
                synthetic = [synthetic_tag(repository, index) for index in range(count)]
                entries = [render(view) for view in _ordered([*views, *synthetic], ordering)]
            self._rendered[key] = entries
        return entries

    def repositories(self, snapshot: str) -> list[dict[str, Any]]:
        """The repository list entries of ``snapshot`` (those with a tag served), by name."""
        entries = self._repositories.get(snapshot)
        if entries is None:
            entries = []
            for repository in sorted(self._corpus.hub_repositories):
                views = self.views(snapshot, repository)
                pushed = self.push_time(snapshot, repository)
                if views and pushed is not None:
                    entries.append(render_repository(repository, views, last_updated=pushed))
            self._repositories[snapshot] = entries
        return entries

    def push_time(self, snapshot: str, repository: str) -> str | None:
        """The repository's ``last_updated`` as the Hub of ``snapshot`` lists it.

        The replayed Hub's tag times are synthesized (many lie after the snapshot's own
        date), so the newest of them need not move when tags change. The repository's
        time therefore follows its content: walking the snapshots oldest first up to
        ``snapshot``, wherever the served tags (names and digests) differ from the
        snapshot before, the time becomes the newest of the tags' times, the snapshot's
        date and one second past the time before. Serving the same snapshot again
        gives the same time; switching to a snapshot with other tags or digests gives a
        later one, as a real push would.
        """
        memo = _PUSH_TIMES.setdefault(self._corpus, {})
        key = (snapshot, repository)
        if key in memo:
            return memo[key]
        pushed: str | None = None
        previous: frozenset[tuple[str, str]] | None = None
        for seen in self._corpus.snapshots:
            views = self.views(seen.name, repository)
            content = _content(views)
            if views and content != previous:
                newest = max([view.last_updated for view in views] + [_hub_time(seen.date)])
                if pushed is not None and newest <= pushed:
                    newest = _hub_time(parse_hub_time(pushed) + timedelta(seconds=1))
                pushed = newest
            previous = content
            if seen.name == snapshot:
                break
        memo[key] = pushed
        return pushed

    async def repositories_async(self, snapshot: str) -> list[dict[str, Any]]:
        """:meth:`repositories`, computed in a worker thread the first time."""
        entries = self._repositories.get(snapshot)
        if entries is not None:
            return entries
        return await asyncio.to_thread(self.repositories, snapshot)
