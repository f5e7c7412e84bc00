"""Read side of the lineage graph: lookups by alias, parents, ancestors, children.

Every function takes an :class:`AsyncSession` and returns plain dataclasses (the
CLI renders them as tables or as the JSON of CONTRACT §2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from indexer.errors import NotIndexedError
from indexer.refs import SCRATCH, parse_ref
from indexer.store.models import (
    Build,
    HubImage,
    ImageRepository,
    Stanza,
    StanzaTag,
    SyncError,
    SyncRun,
    Tag,
)

__all__ = [
    "ChildRow",
    "PlatformInfo",
    "ResolvedTag",
    "TagView",
    "ancestors",
    "children",
    "latest_runs",
    "resolve_tag",
    "run_errors",
    "show_tag",
]

#: the longest ancestor chain followed; a cycle in bad data ends the walk with a note
MAX_DEPTH = 32
#: the architecture whose chain ``ancestors`` follows first
PRIMARY_ARCH = "amd64"


@dataclass(frozen=True, slots=True)
class ResolvedTag:
    """A REF resolved to an indexed tag."""

    repository: str
    repository_id: int
    tag: str
    tag_id: int
    stanza_id: int | None
    maintained: bool


@dataclass(frozen=True, slots=True)
class PlatformInfo:
    architecture: str
    parent: str | None
    froms: list[str] | None
    git_repo: str
    git_commit: str
    directory: str
    file: str
    builder: str | None
    error: str | None
    constraints: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "architecture": self.architecture,
            "parent": self.parent,
            "froms": self.froms,
            "git_repo": self.git_repo,
            "git_commit": self.git_commit,
            "directory": self.directory,
            "file": self.file,
            "builder": self.builder,
            "error": self.error,
        }


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


@dataclass(frozen=True, slots=True)
class ChildRow:
    """A tag built on the queried one (one row per child stanza)."""

    repository: str
    tag: str
    aliases: list[str]
    architectures: list[str]
    parent: str
    depth: int

    def as_json(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "tag": self.tag,
            "aliases": self.aliases,
            "architectures": self.architectures,
            "parent": self.parent,
            "depth": self.depth,
        }


async def resolve_tag(session: AsyncSession, ref: str) -> ResolvedTag:
    """Resolve any REF form Docker accepts to an indexed tag, or raise NotIndexedError."""
    parsed = parse_ref(ref)
    if parsed.tag is None:
        raise NotIndexedError(f"{ref}: a digest reference names no tag; give a tag")
    row = (
        await session.execute(
            select(ImageRepository.id, Tag.id, Tag.stanza_id, Tag.maintained)
            .join(Tag, Tag.repository_id == ImageRepository.id)
            .where(ImageRepository.name == parsed.repository, Tag.name == parsed.tag)
        )
    ).first()
    if row is None:
        raise NotIndexedError(f"{parsed.repository}:{parsed.tag} is not indexed")
    repository_id, tag_id, stanza_id, maintained = row
    return ResolvedTag(
        parsed.repository, repository_id, parsed.tag, tag_id, stanza_id, bool(maintained)
    )


async def _stanzas_listing(session: AsyncSession, resolved: ResolvedTag) -> list[Stanza]:
    """Stanzas to answer with: the tag's own stanza first, then other maintained ones listing it."""
    stanzas = list(
        (
            await session.scalars(
                select(Stanza)
                .join(StanzaTag, StanzaTag.stanza_id == Stanza.id)
                .where(StanzaTag.tag_id == resolved.tag_id)
                .order_by(Stanza.position)
            )
        ).all()
    )
    first = [s for s in stanzas if s.id == resolved.stanza_id]
    others = [s for s in stanzas if s.id != resolved.stanza_id and s.maintained]
    return first + others


async def _platforms(session: AsyncSession, stanzas: Sequence[Stanza]) -> list[PlatformInfo]:
    result: list[PlatformInfo] = []
    for stanza in stanzas:
        builds = (await session.scalars(select(Build).where(Build.stanza_id == stanza.id))).all()
        order = {arch: index for index, arch in enumerate(stanza.architectures)}
        for build in sorted(builds, key=lambda b: order.get(b.architecture, len(order))):
            result.append(
                PlatformInfo(
                    architecture=build.architecture,
                    parent=build.parent_ref,
                    froms=list(build.froms) if build.froms is not None else None,
                    git_repo=build.git_repo,
                    git_commit=build.git_commit,
                    directory=build.directory,
                    file=build.file,
                    builder=build.builder,
                    error=build.error,
                    constraints=list(stanza.constraints),
                )
            )
    return result


async def _build_for(
    session: AsyncSession, repository: str, tag: str, architecture: str
) -> Build | None:
    """The build of ``repository:tag`` for ``architecture`` (the tag's own stanza first)."""
    return (
        await session.execute(
            select(Build)
            .join(Stanza, Stanza.id == Build.stanza_id)
            .join(StanzaTag, StanzaTag.stanza_id == Stanza.id)
            .join(Tag, Tag.id == StanzaTag.tag_id)
            .join(ImageRepository, ImageRepository.id == Tag.repository_id)
            .where(
                ImageRepository.name == repository,
                Tag.name == tag,
                Build.architecture == architecture,
            )
            .order_by((Stanza.id != Tag.stanza_id), Stanza.position)
            .limit(1)
        )
    ).scalar_one_or_none()


async def ancestors(
    session: AsyncSession, parent_ref: str | None, architecture: str
) -> tuple[list[str], str | None]:
    """The chain above a build whose parent is ``parent_ref``, nearest first, and a note.

    The walk follows each official parent's build for the same architecture; it
    ends at ``scratch``, at an external image (a leaf), at a parent the index
    does not know, or (with a note) at a cycle.
    """
    chain: list[str] = []
    seen: set[str] = set()
    current = parent_ref
    while current is not None:
        if current in seen:
            return chain, f"cycle: {current} appears twice in the chain; walk stopped"
        if len(chain) >= MAX_DEPTH:
            return chain, f"chain longer than {MAX_DEPTH}; walk stopped"
        seen.add(current)
        chain.append(current)
        if current == SCRATCH:
            break
        ref = parse_ref(current)
        if not ref.is_official or ref.tag is None:
            break
        build = await _build_for(session, ref.repository, ref.tag, architecture)
        current = build.parent_ref if build is not None else None
    return chain, None


async def _hub_facts(session: AsyncSession, tag_id: int) -> dict[str, Any] | None:
    tag = await session.get(Tag, tag_id)
    if tag is None or tag.digest is None:
        return None
    images = (
        await session.scalars(
            select(HubImage)
            .where(HubImage.tag_id == tag_id)
            .order_by(HubImage.os, HubImage.architecture, HubImage.variant, HubImage.digest)
        )
    ).all()
    return {
        "digest": tag.digest,
        "media_type": tag.media_type,
        "last_updated": _iso(tag.last_updated),
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
                "last_pushed": _iso(image.last_pushed),
            }
            for image in images
        ],
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


async def show_tag(session: AsyncSession, ref: str) -> TagView:
    """The answer of ``indexer show REF``."""
    resolved = await resolve_tag(session, ref)
    stanzas = await _stanzas_listing(session, resolved)
    own = stanzas[0] if stanzas else None
    platforms = await _platforms(session, stanzas)
    chain: list[str] = []
    note: str | None = None
    if platforms:
        primary = next((p for p in platforms if p.architecture == PRIMARY_ARCH), platforms[0])
        chain, note = await ancestors(session, primary.parent, primary.architecture)
    return TagView(
        repository=resolved.repository,
        tag=resolved.tag,
        canonical_tag=own.canonical_tag if own else None,
        aliases=list(own.tags) if own else [],
        shared_tags=list(own.shared_tags) if own else [],
        maintained=resolved.maintained,
        platforms=platforms,
        ancestors=chain,
        ancestors_note=note,
        hub=await _hub_facts(session, resolved.tag_id),
    )


async def _direct_children(
    session: AsyncSession, stanza_ids: Sequence[int]
) -> list[tuple[Stanza, str, str]]:
    """(child stanza, repository, parent_ref) for maintained stanzas built on any of ``stanza_ids``."""
    parent_tag = aliased(Tag)
    rows = (
        await session.execute(
            select(Stanza, ImageRepository.name, Build.parent_ref, Build.architecture)
            .join(Build, Build.stanza_id == Stanza.id)
            .join(parent_tag, parent_tag.id == Build.parent_tag_id)
            .join(ImageRepository, ImageRepository.id == Stanza.repository_id)
            .where(parent_tag.stanza_id.in_(stanza_ids), Stanza.maintained.is_(True))
            .order_by(ImageRepository.name, Stanza.position)
        )
    ).all()
    merged: dict[int, tuple[Stanza, str, str]] = {}
    for stanza, repository, parent_ref, _arch in rows:
        merged.setdefault(stanza.id, (stanza, repository, parent_ref or ""))
    return list(merged.values())


async def _child_architectures(
    session: AsyncSession, stanza_id: int, parents: Sequence[int]
) -> list[str]:
    parent_tag = aliased(Tag)
    return sorted(
        (
            await session.scalars(
                select(Build.architecture)
                .join(parent_tag, parent_tag.id == Build.parent_tag_id)
                .where(Build.stanza_id == stanza_id, parent_tag.stanza_id.in_(parents))
            )
        ).all()
    )


async def children(session: AsyncSession, ref: str, *, recursive: bool = False) -> list[ChildRow]:
    """Tags built directly (or, with ``recursive``, transitively) on REF, by stanza."""
    resolved = await resolve_tag(session, ref)
    if resolved.stanza_id is None:
        return []
    result: list[ChildRow] = []
    seen = {resolved.stanza_id}
    frontier = [resolved.stanza_id]
    depth = 1
    while frontier and depth <= MAX_DEPTH:
        found = await _direct_children(session, frontier)
        next_frontier: list[int] = []
        for stanza, repository, parent_ref in found:
            if stanza.id in seen:
                continue
            seen.add(stanza.id)
            next_frontier.append(stanza.id)
            result.append(
                ChildRow(
                    repository=repository,
                    tag=stanza.canonical_tag,
                    aliases=list(stanza.tags),
                    architectures=await _child_architectures(session, stanza.id, frontier),
                    parent=parent_ref,
                    depth=depth,
                )
            )
        if not recursive:
            break
        frontier = next_frontier
        depth += 1
    return result


async def latest_runs(session: AsyncSession, limit: int = 20) -> list[SyncRun]:
    return list(
        (await session.scalars(select(SyncRun).order_by(SyncRun.id.desc()).limit(limit))).all()
    )


async def run_errors(session: AsyncSession, run_id: int, limit: int = 50) -> list[SyncError]:
    return list(
        (
            await session.scalars(
                select(SyncError)
                .where(SyncError.run_id == run_id)
                .order_by(SyncError.id)
                .limit(limit)
            )
        ).all()
    )
