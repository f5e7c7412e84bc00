"""``indexer explain REF``: which of these tags should I pick?

For the tag: its aliases, the base distribution and release its chain ends on,
its variant and C library, compressed size per architecture, last update, how
many images build on it; and, side by side, its sibling variants of the same
version (``3.12``, ``3.12-slim``, ``3.12-alpine``) with their sizes and bases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from indexer.lineage.distribution import BaseDistribution, ChainNode
from indexer.lineage.siblings import display_name, has_version_key, sibling_key
from indexer.lineage.variants import classify_c_library, classify_variant
from indexer.store.queries.bases import base_distributions
from indexer.store.queries.builds import registry_builds
from indexer.store.queries.chains import ancestor_chains
from indexer.store.queries.descendants import DescendantCounts, descendant_counts
from indexer.store.queries.lookup import (
    STANZA_COLUMNS,
    BuildRow,
    StanzaRow,
    answering_stanzas,
    builds_by_stanza,
    resolve_tag,
)
from indexer.store.queries.show import PRIMARY_ARCH
from indexer.store.read import Reader
from indexer.store.read.values import iso, time_value

__all__ = ["ExplainView", "PlatformFacts", "SiblingView", "explain_tag"]


@dataclass(frozen=True, slots=True)
class PlatformFacts:
    """One architecture of the tag: what it is built on and how big it is."""

    architecture: str
    stanza: str
    parent: str | None
    base: BaseDistribution | None
    #: compressed size on the Hub, in bytes
    size: int | None
    digest: str | None
    #: the registry's image was built on a base build that is no longer current
    #: (``v_image_builds.stale``); None until the registry has been read
    stale: bool | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "architecture": self.architecture,
            "stanza": self.stanza,
            "parent": self.parent,
            "base": self.base.label if self.base else None,
            "size": self.size,
            "digest": self.digest,
            "stale": self.stale,
        }


@dataclass(frozen=True, slots=True)
class SiblingView:
    """A variant of the same version, shown by its shortest name of that version."""

    tag: str
    canonical_tag: str
    variant: str
    c_library: str | None
    base: BaseDistribution | None
    architectures: list[str]
    #: compressed size per architecture (bashbrew names)
    sizes: dict[str, int | None]
    last_updated: str | None
    #: the stanza the asked tag answers with
    selected: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "canonical_tag": self.canonical_tag,
            "variant": self.variant,
            "c_library": self.c_library,
            "base": self.base.label if self.base else None,
            "architectures": self.architectures,
            "sizes": self.sizes,
            "last_updated": self.last_updated,
            "selected": self.selected,
        }


@dataclass(slots=True)
class ExplainView:
    """Everything ``indexer explain`` prints."""

    repository: str
    tag: str
    canonical_tag: str | None
    aliases: list[str]
    shared_tags: list[str]
    maintained: bool
    base: BaseDistribution | None
    ancestors: list[str]
    variant: str
    c_library: str | None
    digest: str | None
    last_updated: str | None
    platforms: list[PlatformFacts]
    built_on_by: DescendantCounts
    version: str
    siblings: list[SiblingView] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "tag": self.tag,
            "canonical_tag": self.canonical_tag,
            "aliases": self.aliases,
            "shared_tags": self.shared_tags,
            "maintained": self.maintained,
            "base": self.base.as_json() if self.base else None,
            "ancestors": self.ancestors,
            "variant": self.variant,
            "c_library": self.c_library,
            "digest": self.digest,
            "last_updated": self.last_updated,
            "platforms": [platform.as_json() for platform in self.platforms],
            "built_on_by": {
                "direct": self.built_on_by.direct,
                "total": self.built_on_by.total,
            },
            "version": self.version,
            "siblings": [sibling.as_json() for sibling in self.siblings],
        }


@dataclass(frozen=True, slots=True)
class _HubTag:
    tag_id: int
    digest: str | None
    last_updated: str | None
    sizes: dict[str, int | None]
    image_digests: dict[str, str]


def _primary(builds: Sequence[BuildRow]) -> BuildRow | None:
    return next((b for b in builds if b.architecture == PRIMARY_ARCH), None) or (
        builds[0] if builds else None
    )


async def _hub_tags(reader: Reader, repository_id: int, names: Sequence[str]) -> dict[str, _HubTag]:
    """Hub facts of the tags ``names`` of one repository, by name (tags without a digest left out)."""
    tags = await reader.rows(
        "SELECT id, name, digest, last_updated FROM tags"
        " WHERE repository_id = :repository_id AND name = ANY(:names) AND digest IS NOT NULL",
        {"repository_id": repository_id, "names": sorted(set(names))},
    )
    by_id = {tag_id: name for tag_id, name, _, _ in tags}
    sizes: dict[int, dict[str, int | None]] = {tag_id: {} for tag_id in by_id}
    digests: dict[int, dict[str, str]] = {tag_id: {} for tag_id in by_id}
    if by_id:
        images = await reader.rows(
            "SELECT tag_id, bashbrew_arch, size, digest FROM hub_images"
            " WHERE tag_id = ANY(:tag_ids) ORDER BY tag_id, bashbrew_arch, digest",
            {"tag_ids": list(by_id)},
        )
        for tag_id, arch, size, digest in images:
            sizes[tag_id].setdefault(arch, size)
            digests[tag_id].setdefault(arch, digest)
    return {
        name: _HubTag(tag_id, digest, iso(time_value(updated)), sizes[tag_id], digests[tag_id])
        for tag_id, name, digest, updated in tags
    }


def _facts_tag(stanza: StanzaRow, hub: dict[str, _HubTag]) -> _HubTag | None:
    """The Hub facts of a stanza: from its first Tag the Hub knows (Tags are one image)."""
    return next((hub[name] for name in stanza.tags if name in hub), None)


async def _sibling_stanzas(
    reader: Reader, repository_id: int, key: str, own_ids: set[int]
) -> list[tuple[StanzaRow, str]]:
    """Maintained stanzas of the repository with a name of version ``key``, with that name."""
    stanzas = [
        StanzaRow.from_row(row)
        for row in await reader.rows(
            f"SELECT {STANZA_COLUMNS} FROM stanzas s"
            " WHERE s.repository_id = :repository_id AND s.maintained ORDER BY s.position",
            {"repository_id": repository_id},
        )
    ]
    shared = sorted({name for s in stanzas for name in s.shared_tags if has_version_key(name, key)})
    owner = dict(
        await reader.rows(
            "SELECT name, stanza_id FROM tags WHERE repository_id = :repository_id"
            " AND name = ANY(:names)",
            {"repository_id": repository_id, "names": shared},
        )
    )
    result: list[tuple[StanzaRow, str]] = []
    for stanza in stanzas:
        owned = [*stanza.tags, *(n for n in stanza.shared_tags if owner.get(n) == stanza.id)]
        name = display_name(owned, key)
        if name is None and stanza.id in own_ids:
            name = stanza.canonical_tag
        if name is not None:
            result.append((stanza, name))
    return result


async def _siblings(
    reader: Reader,
    repository: str,
    repository_id: int,
    key: str,
    own_ids: set[int],
) -> list[SiblingView]:
    found = await _sibling_stanzas(reader, repository_id, key, own_ids)
    stanzas = [stanza for stanza, _ in found]
    builds = await builds_by_stanza(reader, stanzas)
    primary = {s.id: b for s in stanzas if (b := _primary(builds[s.id])) is not None}
    chains = await ancestor_chains(reader, [b.id for b in primary.values()])
    own_nodes = {
        build.id: ChainNode(f"{repository}:{stanza.canonical_tag}", tuple(stanza.tags))
        for stanza in stanzas
        if (build := primary.get(stanza.id)) is not None
    }
    bases = await base_distributions(reader, own_nodes, chains)
    hub = await _hub_tags(reader, repository_id, [n for s in stanzas for n in s.tags])
    result = []
    for stanza, name in found:
        build = primary.get(stanza.id)
        base = bases.get(build.id) if build is not None else None
        facts = _facts_tag(stanza, hub)
        result.append(
            SiblingView(
                tag=name,
                canonical_tag=stanza.canonical_tag,
                variant=classify_variant(stanza.tags, base),
                c_library=classify_c_library(stanza.tags, base),
                base=base,
                architectures=list(stanza.architectures),
                sizes=dict(facts.sizes) if facts else {},
                last_updated=facts.last_updated if facts else None,
                selected=stanza.id in own_ids,
            )
        )
    return result


async def explain_tag(reader: Reader, ref: str) -> ExplainView:
    """The answer of ``indexer explain REF``."""
    resolved = await resolve_tag(reader, ref)
    stanzas = await answering_stanzas(reader, resolved)
    builds = await builds_by_stanza(reader, stanzas)
    all_builds = [(stanza, build) for stanza in stanzas for build in builds[stanza.id]]
    chains = await ancestor_chains(reader, [build.id for _, build in all_builds])
    own_nodes = {
        build.id: ChainNode(f"{resolved.repository}:{stanza.canonical_tag}", tuple(stanza.tags))
        for stanza, build in all_builds
    }
    bases = await base_distributions(reader, own_nodes, chains)
    hub = await _hub_tags(
        reader,
        resolved.repository_id,
        [resolved.tag, *(name for stanza in stanzas for name in stanza.tags)],
    )
    registry = await registry_builds(reader, resolved.repository, resolved.tag)
    platforms = []
    for stanza, build in all_builds:
        facts = _facts_tag(stanza, hub)
        published = registry.get(build.architecture)
        platforms.append(
            PlatformFacts(
                architecture=build.architecture,
                stanza=stanza.canonical_tag,
                parent=build.parent_ref,
                base=bases.get(build.id),
                size=facts.sizes.get(build.architecture) if facts else None,
                digest=facts.image_digests.get(build.architecture) if facts else None,
                stale=published.stale if published is not None else None,
            )
        )
    if not platforms and resolved.tag in hub:
        asked = hub[resolved.tag]
        platforms = [
            PlatformFacts(arch, "", None, None, size, asked.image_digests.get(arch))
            for arch, size in asked.sizes.items()
        ]
    own = stanzas[0] if stanzas else None
    primary_build = _primary(builds[own.id]) if own else None
    base = bases.get(primary_build.id) if primary_build else None
    names = list(own.tags) if own else [resolved.tag]
    key = sibling_key(resolved.tag, [*names, *(own.shared_tags if own else [])])
    roots = [stanza.id for stanza in stanzas]
    asked_hub = hub.get(resolved.tag)
    return ExplainView(
        repository=resolved.repository,
        tag=resolved.tag,
        canonical_tag=own.canonical_tag if own else None,
        aliases=list(own.tags) if own else [],
        shared_tags=list(own.shared_tags) if own else [],
        maintained=resolved.maintained,
        base=base,
        ancestors=chains[primary_build.id].refs
        if primary_build and primary_build.id in chains
        else [],
        variant=classify_variant(names, base),
        c_library=classify_c_library(names, base),
        digest=asked_hub.digest if asked_hub else None,
        last_updated=asked_hub.last_updated if asked_hub else None,
        platforms=platforms,
        built_on_by=await descendant_counts(
            reader, roots, tag_id=None if roots else resolved.tag_id
        ),
        version=key,
        siblings=await _siblings(
            reader, resolved.repository, resolved.repository_id, key, set(roots)
        )
        if own
        else [],
    )
