"""Which tags, digests and times the replayed Docker Hub serves at a given snapshot.

``hub/<name>.json.gz`` holds every tag ever seen in any snapshot, with the values of
the newest snapshot that carries it. The Hub "as seen at snapshot S" is derived from
it with these rules (``hub_tags_for`` computes them; tests elsewhere may call it to know
exactly what the replay serves):

1. **Which tags.** Every tag that occurs, as a Tag or SharedTag, in S or in any
   snapshot older than S (by commit date, ``COMMITS.txt``): the Hub keeps old tags
   after they leave the library. Only tags that have an entry in the Hub file are
   served; a repository with no such tag at S does not exist (404).
2. **Which digests.** Let ``seen`` be the newest snapshot at or before S that carries
   the tag and ``newest`` the newest snapshot overall that carries it. A tag's
   *definition* in a snapshot is the set of ``(architecture, GitCommit, Directory,
   File)`` of every stanza carrying it (:mod:`indexer.replay.library_tags`). When the
   definition in ``seen`` equals the one in ``newest``, the Hub file's index and
   platform digests are served as they are. Otherwise the image was a different one
   back then, and every digest ``d`` (index and each platform) is replaced by
   ``"sha256:" + sha256(f"{d}|{fingerprint}")`` where ``fingerprint`` identifies the
   definition in ``seen`` (:func:`definition_fingerprint`). Keyed by the definition, not
   by the snapshot, a derived digest stays the same across snapshots that define the
   tag the same way. Sizes, platforms and media types are unchanged either way.
3. **Which times.** With the Hub file's digests: each platform's ``last_pushed`` is its
   ``last_modified`` and the tag's ``last_updated`` is the newest of them. With derived
   digests: let ``first`` be the oldest snapshot whose definition of the tag equals the
   one in ``seen``; each platform's ``last_pushed`` is ``first``'s commit date minus 1
   to 48 hours (a hash of the derived digest picks the offset), so before ``seen``'s
   date and stable while the definition is; ``last_updated`` is the newest of them.
4. **Order.** Newest ``last_updated`` first, ties broken by tag name (ascending): what
   ``ordering=last_updated`` asks the Hub for.

These digests are an image's *identity*. What the replayed Hub lists is the digest of
the registry's body for that image (:mod:`indexer.replay.registry_images` replaces
each identity by the sha256 of the generated index or manifest), one to one.

So on ``dense-current`` most tags serve the Hub file's images (those that leave the
library or change after it get derived ones), and switching a server from
``dense-previous`` to ``dense-current`` changes exactly the digests (and times) of the
tags whose definition changed in between; tags that appear are added, none removed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from indexer.replay.corpus import HUB_TIME_FORMAT, Corpus, HubTag, Snapshot
from indexer.replay.library_tags import TagDefinition

__all__ = [
    "HubImageView",
    "HubTagView",
    "definition_fingerprint",
    "derived_digest",
    "hub_tags_for",
    "parse_hub_time",
]

_MIN_AGE = 3600
_AGE_SPAN = 47 * 3600


class HubImageView(NamedTuple):
    """One platform image of a tag as the replayed Hub serves it."""

    os: str
    architecture: str
    variant: str | None
    digest: str
    size: int
    media_type: str
    #: ``YYYY-MM-DDTHH:MM:SSZ``
    last_pushed: str


@dataclass(frozen=True)
class HubTagView:
    """One tag as the replayed Hub serves it at a snapshot."""

    name: str
    #: index digest
    digest: str
    media_type: str
    #: ``YYYY-MM-DDTHH:MM:SSZ``; the newest ``last_pushed`` of the images
    last_updated: str
    images: tuple[HubImageView, ...]
    #: the newest snapshot at or before the served one that carries the tag
    seen_in: str
    #: ``True``: the Hub file's digests; ``False``: digests derived for an older image
    from_corpus: bool


def definition_fingerprint(definition: TagDefinition) -> str:
    """A stable hex id of a tag definition (sorted ``arch commit directory file`` lines)."""
    lines = "\n".join(" ".join(build) for build in sorted(definition))
    return hashlib.sha1(lines.encode(), usedforsecurity=False).hexdigest()


def derived_digest(digest: str, definition: TagDefinition) -> str:
    """The stand-in for ``digest`` when the tag was built from an older ``definition``."""
    fingerprint = definition_fingerprint(definition)
    return "sha256:" + hashlib.sha256(f"{digest}|{fingerprint}".encode()).hexdigest()


def parse_hub_time(value: str) -> datetime:
    """A Hub time string (``...Z``) as an aware datetime; the epoch if it is empty or bad."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return datetime.fromtimestamp(0, UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(HUB_TIME_FORMAT)


def _derived_time(digest: str, first: Snapshot) -> str:
    offset = int(hashlib.sha256(f"time|{digest}".encode()).hexdigest()[:8], 16) % _AGE_SPAN
    return _format_time(first.date - timedelta(seconds=_MIN_AGE + offset))


def _corpus_view(tag: HubTag, seen: Snapshot) -> HubTagView:
    images = tuple(
        HubImageView(
            os=p.os,
            architecture=p.architecture,
            variant=p.variant,
            digest=p.digest,
            size=p.size,
            media_type=p.media_type,
            last_pushed=p.last_modified,
        )
        for p in tag.platforms
    )
    last_updated = max((i.last_pushed for i in images), default="")
    return HubTagView(
        name=tag.name,
        digest=tag.digest,
        media_type=tag.media_type,
        last_updated=last_updated or _format_time(seen.date - timedelta(seconds=_MIN_AGE)),
        images=images,
        seen_in=seen.name,
        from_corpus=True,
    )


def _derived_view(
    tag: HubTag, seen: Snapshot, definition: TagDefinition, first: Snapshot
) -> HubTagView:
    images = []
    for platform in tag.platforms:
        digest = derived_digest(platform.digest, definition)
        images.append(
            HubImageView(
                os=platform.os,
                architecture=platform.architecture,
                variant=platform.variant,
                digest=digest,
                size=platform.size,
                media_type=platform.media_type,
                last_pushed=_derived_time(digest, first),
            )
        )
    digest = derived_digest(tag.digest, definition)
    last_updated = max((i.last_pushed for i in images), default=_derived_time(digest, first))
    return HubTagView(
        name=tag.name,
        digest=digest,
        media_type=tag.media_type,
        last_updated=last_updated,
        images=tuple(images),
        seen_in=seen.name,
        from_corpus=False,
    )


def hub_tags_for(corpus: Corpus, snapshot: str, repository: str) -> list[HubTagView]:
    """Every tag of ``repository`` the replayed Hub serves at ``snapshot``, in Hub order.

    Pure given the corpus (see the module docstring for the rules). An empty list means
    the repository does not exist on the Hub at that snapshot.
    """
    target = corpus.snapshot(snapshot)
    hub = corpus.hub_tags(repository)
    if not hub:
        return []
    history = corpus.snapshots
    definitions = {s.name: corpus.tag_definitions(s.name, repository) for s in history}
    visible = [s for s in history if (s.date, s.name) <= (target.date, target.name)]
    views: list[HubTagView] = []
    for name, tag in hub.items():
        seen = next((s for s in reversed(visible) if name in definitions[s.name]), None)
        if seen is None:
            continue
        newest = next(s for s in reversed(history) if name in definitions[s.name])
        definition = definitions[seen.name][name]
        if definition == definitions[newest.name][name]:
            views.append(_corpus_view(tag, seen))
            continue
        first = next(s for s in history if definitions[s.name].get(name) == definition)
        views.append(_derived_view(tag, seen, definition, first))
    # times all have the form YYYY-MM-DDTHH:MM:SSZ: as strings they sort as times;
    # the second, stable sort keeps names ascending among equal times
    views.sort(key=lambda v: v.name)
    views.sort(key=lambda v: v.last_updated, reverse=True)
    return views
