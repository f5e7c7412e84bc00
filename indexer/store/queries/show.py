"""``indexer show REF``: one tag with its aliases, per-architecture parents, ancestors and Hub facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from indexer.store.queries.builds import RegistryBuild, registry_builds
from indexer.store.queries.chains import Chain, ancestor_chains
from indexer.store.queries.lookup import (
    BuildRow,
    StanzaRow,
    answering_stanzas_with_builds,
    resolve_tag,
)
from indexer.store.read import Reader
from indexer.store.read.values import iso, time_value

__all__ = ["PRIMARY_ARCH", "PlatformInfo", "TagView", "hub_facts", "show_tag"]

#: the architecture whose chain is "the" ancestors of a tag (else its first architecture)
PRIMARY_ARCH = "amd64"


@dataclass(frozen=True, slots=True)
class PlatformInfo:
    """One architecture of one stanza the tag answers with."""

    architecture: str
    parent: str | None
    froms: list[str] | None
    git_repo: str
    git_commit: str
    directory: str
    file: str
    builder: str | None
    error: str | None
    #: the stanza (its canonical tag) this platform comes from: tells SharedTag stanzas apart
    stanza: str = ""
    constraints: list[str] = field(default_factory=list)
    #: this architecture's chain, nearest first
    ancestors: list[str] = field(default_factory=list)
    ancestors_note: str | None = None
    #: the checks BuildKit would report for this build: [{"rule", "line", "message"}]
    warnings: list[dict[str, Any]] = field(default_factory=list)
    #: what the registry says this platform's published image was built on; None until read
    registry: RegistryBuild | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "architecture": self.architecture,
            "parent": self.parent,
            "froms": self.froms,
            "git_repo": self.git_repo,
            "git_commit": self.git_commit,
            "directory": self.directory,
            "file": self.file,
            "builder": self.builder,
            "error": self.error,
            "warnings": self.warnings,
            "stanza": self.stanza,
            "constraints": self.constraints,
            "ancestors": self.ancestors,
            "registry": self.registry.as_json() if self.registry is not None else None,
        }
        if self.ancestors_note:
            data["ancestors_note"] = self.ancestors_note
        return data


@dataclass(slots=True)
class TagView:
    """Everything ``indexer show`` prints."""

    repository: str
    tag: str
    canonical_tag: str | None
    aliases: list[str]
    shared_tags: list[str]
    maintained: bool
    platforms: list[PlatformInfo]
    ancestors: list[str]
    ancestors_note: str | None
    hub: dict[str, Any] | None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "repository": self.repository,
            "tag": self.tag,
            "canonical_tag": self.canonical_tag,
            "aliases": self.aliases,
            "shared_tags": self.shared_tags,
            "maintained": self.maintained,
            "platforms": [platform.as_json() for platform in self.platforms],
            "ancestors": self.ancestors,
            "hub": self.hub,
        }
        if self.ancestors_note:
            data["ancestors_note"] = self.ancestors_note
        return data


def _platform(
    stanza: StanzaRow, build: BuildRow, chain: Chain | None, registry: RegistryBuild | None
) -> PlatformInfo:
    return PlatformInfo(
        architecture=build.architecture,
        parent=build.parent_ref,
        froms=list(build.froms) if build.froms is not None else None,
        git_repo=build.git_repo,
        git_commit=build.git_commit,
        directory=build.directory,
        file=build.file,
        builder=build.builder,
        error=build.error,
        stanza=stanza.canonical_tag,
        constraints=list(stanza.constraints),
        ancestors=chain.refs if chain else [],
        ancestors_note=chain.note if chain else None,
        warnings=list(build.warnings or ()),
        registry=registry,
    )


_HUB_FACTS = """
SELECT t.digest, t.media_type, t.last_updated, t.tag_status, t.removed_at,
       i.tag_id, i.architecture, i.os, i.variant, i.bashbrew_arch, i.digest, i.size, i.last_pushed
FROM tags t
LEFT JOIN hub_images i ON i.tag_id = t.id
WHERE t.id = :tag_id
ORDER BY i.os, i.architecture, i.variant, i.digest
"""


async def hub_facts(reader: Reader, tag_id: int) -> dict[str, Any] | None:
    """The Hub's answer for one tag: index digest, last update, platform images with sizes."""
    rows = await reader.rows(_HUB_FACTS, {"tag_id": tag_id})
    if not rows or rows[0][0] is None:
        return None
    digest, media_type, last_updated, status, removed_at = rows[0][:5]
    return {
        "digest": digest,
        "media_type": media_type,
        "last_updated": iso(time_value(last_updated)),
        "status": status,
        "removed": removed_at is not None,
        "images": [
            {
                "architecture": architecture,
                "os": os,
                "variant": variant,
                "bashbrew_arch": bashbrew_arch,
                "digest": image_digest,
                "size": size,
                "last_pushed": iso(time_value(last_pushed)),
            }
            for (
                *_,
                image_tag_id,
                architecture,
                os,
                variant,
                bashbrew_arch,
                image_digest,
                size,
                last_pushed,
            ) in rows
            if image_tag_id is not None
        ],
    }


async def show_tag(reader: Reader, ref: str) -> TagView:
    """The answer of ``indexer show REF``.

    A SharedTag answers with its own (first) stanza's names and lists the
    platforms of every stanza carrying it. ``ancestors`` is the amd64 chain, or
    the first architecture's when there is no amd64.
    """
    resolved = await resolve_tag(reader, ref)
    stanzas, builds = await answering_stanzas_with_builds(reader, resolved)
    chains = await ancestor_chains(
        reader, [build.id for stanza_builds in builds.values() for build in stanza_builds]
    )
    registry = await registry_builds(reader, resolved.repository, resolved.tag)
    platforms = [
        _platform(stanza, build, chains.get(build.id), registry.get(build.architecture))
        for stanza in stanzas
        for build in builds[stanza.id]
    ]
    primary = next((p for p in platforms if p.architecture == PRIMARY_ARCH), None)
    primary = primary or (platforms[0] if platforms else None)
    own = stanzas[0] if stanzas else None
    return TagView(
        repository=resolved.repository,
        tag=resolved.tag,
        canonical_tag=own.canonical_tag if own else None,
        aliases=list(own.tags) if own else [],
        shared_tags=list(own.shared_tags) if own else [],
        maintained=resolved.maintained,
        platforms=platforms,
        ancestors=primary.ancestors if primary else [],
        ancestors_note=primary.ancestors_note if primary else None,
        hub=await hub_facts(reader, resolved.tag_id),
    )
