"""From a REF to indexed rows: the tag, the stanzas it answers with, their builds.

Every command resolves its REF here, so every form of CONTRACT §2 works
everywhere: ``python:3.12-slim``, ``library/python:3.12-slim``,
``docker.io/library/python:3.12-slim``, a bare name (``latest``), a SharedTag,
``python:3.12@sha256:…`` (the tag wins) and ``python@sha256:…`` (the tag of that
repository whose index digest it is).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from indexer.errors import NotIndexedError
from indexer.refs import ImageRef, parse_ref
from indexer.store.models import Build, ImageRepository, Stanza, StanzaTag, Tag

__all__ = [
    "ResolvedTag",
    "StanzaSummary",
    "answering_stanzas",
    "answering_stanzas_with_builds",
    "builds_by_stanza",
    "resolve_tag",
    "stanza_summaries",
]


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
class StanzaSummary:
    """The names of one stanza, enough to draw or list it."""

    id: int
    repository: str
    canonical_tag: str
    tags: tuple[str, ...]
    position: int
    architectures: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.repository}:{self.canonical_tag}"


async def _tag_by_digest(session: AsyncSession, ref: ImageRef) -> str:
    """The tag of ``ref.repository`` whose index digest is ``ref.digest`` (maintained first)."""
    own_stanza_tag = select(Stanza.canonical_tag).where(Stanza.id == Tag.stanza_id)
    name = await session.scalar(
        select(Tag.name)
        .join(ImageRepository, ImageRepository.id == Tag.repository_id)
        .where(ImageRepository.name == ref.repository, Tag.digest == ref.digest)
        .order_by(
            Tag.maintained.desc(),
            case((Tag.name == own_stanza_tag.scalar_subquery(), 0), else_=1),
            func.length(Tag.name),
            Tag.name,
        )
        .limit(1)
    )
    if name is None:
        raise NotIndexedError(f"no indexed tag of {ref.repository} points at {ref.digest}")
    return name


async def resolve_tag(session: AsyncSession, ref: str) -> ResolvedTag:
    """Resolve any REF form Docker accepts to an indexed tag, or raise NotIndexedError."""
    parsed = parse_ref(ref)
    tag = parsed.tag if parsed.tag is not None else await _tag_by_digest(session, parsed)
    row = (
        await session.execute(
            select(ImageRepository.id, Tag.id, Tag.stanza_id, Tag.maintained)
            .join(Tag, Tag.repository_id == ImageRepository.id)
            .where(ImageRepository.name == parsed.repository, Tag.name == tag)
        )
    ).first()
    if row is None:
        raise NotIndexedError(f"{parsed.repository}:{tag} is not indexed")
    repository_id, tag_id, stanza_id, maintained = row
    return ResolvedTag(parsed.repository, repository_id, tag, tag_id, stanza_id, bool(maintained))


def _answering_order(stanzas: Sequence[Stanza], resolved: ResolvedTag) -> list[Stanza]:
    own = [stanza for stanza in stanzas if stanza.id == resolved.stanza_id]
    others = [s for s in stanzas if s.id != resolved.stanza_id and s.maintained]
    return own + others


async def answering_stanzas(session: AsyncSession, resolved: ResolvedTag) -> list[Stanza]:
    """The stanzas a tag answers with: its own first, then every other maintained one listing it.

    A SharedTag such as ``python:3.12`` lists the Linux stanza and each Windows
    stanza; a plain Tag lists one.
    """
    stanzas = (
        await session.scalars(
            select(Stanza)
            .join(StanzaTag, StanzaTag.stanza_id == Stanza.id)
            .where(StanzaTag.tag_id == resolved.tag_id)
            .order_by(Stanza.position, Stanza.id)
        )
    ).all()
    return _answering_order(stanzas, resolved)


def _arch_sorted(stanza: Stanza, builds: list[Build]) -> list[Build]:
    order = {arch: index for index, arch in enumerate(stanza.architectures)}
    return sorted(builds, key=lambda b: (order.get(b.architecture, len(order)), b.architecture))


async def answering_stanzas_with_builds(
    session: AsyncSession, resolved: ResolvedTag
) -> tuple[list[Stanza], dict[int, list[Build]]]:
    """:func:`answering_stanzas` and their builds (as :func:`builds_by_stanza`), in one query."""
    rows = (
        await session.execute(
            select(Stanza, Build)
            .join(StanzaTag, StanzaTag.stanza_id == Stanza.id)
            .outerjoin(Build, Build.stanza_id == Stanza.id)
            .where(StanzaTag.tag_id == resolved.tag_id)
            .order_by(Stanza.position, Stanza.id)
        )
    ).all()
    stanzas: dict[int, Stanza] = {}
    builds: dict[int, list[Build]] = {}
    for stanza, build in rows:
        stanzas.setdefault(stanza.id, stanza)
        builds.setdefault(stanza.id, [])
        if build is not None:
            builds[stanza.id].append(build)
    ordered = _answering_order(list(stanzas.values()), resolved)
    return ordered, {s.id: _arch_sorted(s, builds[s.id]) for s in ordered}


async def builds_by_stanza(
    session: AsyncSession, stanzas: Sequence[Stanza]
) -> dict[int, list[Build]]:
    """The builds of each stanza, in the order of its ``Architectures``."""
    result: dict[int, list[Build]] = {stanza.id: [] for stanza in stanzas}
    if not stanzas:
        return result
    builds = (await session.scalars(select(Build).where(Build.stanza_id.in_(list(result))))).all()
    for build in builds:
        result[build.stanza_id].append(build)
    return {stanza.id: _arch_sorted(stanza, result[stanza.id]) for stanza in stanzas}


#: stanza ids per ``IN`` list (both backends allow over 32,000 bound parameters)
SUMMARY_CHUNK = 5000


async def stanza_summaries(
    session: AsyncSession, stanza_ids: Sequence[int]
) -> dict[int, StanzaSummary]:
    """Names of the stanzas ``stanza_ids`` (any that do not exist are left out)."""
    wanted = sorted(set(stanza_ids))
    result: dict[int, StanzaSummary] = {}
    for start in range(0, len(wanted), SUMMARY_CHUNK):
        rows = await session.execute(
            select(
                Stanza.id,
                ImageRepository.name,
                Stanza.canonical_tag,
                Stanza.tags,
                Stanza.position,
                Stanza.architectures,
            )
            .join(ImageRepository, ImageRepository.id == Stanza.repository_id)
            .where(Stanza.id.in_(wanted[start : start + SUMMARY_CHUNK]))
        )
        for stanza_id, repository, canonical_tag, tags, position, arches in rows:
            result[stanza_id] = StanzaSummary(
                stanza_id, repository, canonical_tag, tuple(tags), position, tuple(arches)
            )
    return result
