"""``indexer show REF``: one tag with its aliases, per-architecture parents, ancestors and Hub facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from indexer.store.models import Build, HubImage, Stanza, Tag
from indexer.store.queries.builds import RegistryBuild, registry_builds
from indexer.store.queries.chains import Chain, ancestor_chains
from indexer.store.queries.lookup import answering_stanzas_with_builds, resolve_tag

__all__ = ["PRIMARY_ARCH", "PlatformInfo", "TagView", "hub_facts", "iso", "show_tag"]

#: the architecture whose chain is "the" ancestors of a tag (else its first architecture)
PRIMARY_ARCH = "amd64"


def iso(value: datetime | None) -> str | None:
    """``2026-11-01T03:00:00Z`` (None stays None)."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


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
    stanza: Stanza, build: Build, chain: Chain | None, registry: RegistryBuild | None
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


async def hub_facts(session: AsyncSession, tag_id: int) -> dict[str, Any] | None:
    """The Hub's answer for one tag: index digest, last update, platform images with sizes."""
    rows = (
        await session.execute(
            select(Tag, HubImage)
            .outerjoin(HubImage, HubImage.tag_id == Tag.id)
            .where(Tag.id == tag_id)
            .order_by(HubImage.os, HubImage.architecture, HubImage.variant, HubImage.digest)
        )
    ).all()
    if not rows or rows[0][0].digest is None:
        return None
    tag = rows[0][0]
    images = [image for _, image in rows if image is not None]
    return {
        "digest": tag.digest,
        "media_type": tag.media_type,
        "last_updated": iso(tag.last_updated),
        "status": tag.tag_status,
        "removed": tag.removed_at is not None,
        "images": [
            {
                "architecture": image.architecture,
                "os": image.os,
                "variant": image.variant,
                "bashbrew_arch": image.bashbrew_arch,
                "digest": image.digest,
                "size": image.size,
                "last_pushed": iso(image.last_pushed),
            }
            for image in images
        ],
    }


async def show_tag(session: AsyncSession, ref: str) -> TagView:
    """The answer of ``indexer show REF``.

    A SharedTag answers with its own (first) stanza's names and lists the
    platforms of every stanza carrying it. ``ancestors`` is the amd64 chain, or
    the first architecture's when there is no amd64.
    """
    resolved = await resolve_tag(session, ref)
    stanzas, builds = await answering_stanzas_with_builds(session, resolved)
    chains = await ancestor_chains(
        session, [build.id for stanza_builds in builds.values() for build in stanza_builds]
    )
    registry = await registry_builds(session, resolved.repository, resolved.tag)
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
        hub=await hub_facts(session, resolved.tag_id),
    )
