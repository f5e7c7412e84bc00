"""What the web view lists besides single tags: repositories, their stanzas, the most used bases,
and the names a near-miss search is compared with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from indexer.errors import NotIndexedError
from indexer.store.models import Build, ImageRepository, Stanza, Tag

__all__ = [
    "BaseUse",
    "RepositoryView",
    "StanzaEntry",
    "most_used_bases",
    "repository_names",
    "repository_view",
    "tag_names",
]


@dataclass(frozen=True, slots=True)
class StanzaEntry:
    """One stanza of a repository's library file: its names and architectures."""

    canonical_tag: str
    tags: list[str]
    shared_tags: list[str]
    architectures: list[str]
    constraints: list[str]
    maintained: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "canonical_tag": self.canonical_tag,
            "tags": self.tags,
            "shared_tags": self.shared_tags,
            "architectures": self.architectures,
            "constraints": self.constraints,
            "maintained": self.maintained,
        }


@dataclass(slots=True)
class RepositoryView:
    """A repository with its stanzas in library-file order (maintained ones first)."""

    repository: str
    maintained: bool
    stanzas: list[StanzaEntry] = field(default_factory=list)
    #: the tag whose variants stand for the repository: ``latest``, else the first stanza's
    default_tag: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "maintained": self.maintained,
            "default_tag": self.default_tag,
            "stanzas": [stanza.as_json() for stanza in self.stanzas],
        }


@dataclass(frozen=True, slots=True)
class BaseUse:
    """A stanza and how many maintained stanzas of other images are built on it directly."""

    repository: str
    canonical_tag: str
    tags: list[str]
    children: int

    def as_json(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "canonical_tag": self.canonical_tag,
            "tags": self.tags,
            "children": self.children,
        }


async def repository_view(session: AsyncSession, name: str) -> RepositoryView:
    """The stanzas of repository ``name``; NotIndexedError when the index does not know it."""
    repository = (
        await session.execute(
            select(ImageRepository.id, ImageRepository.maintained).where(
                ImageRepository.name == name
            )
        )
    ).first()
    if repository is None:
        raise NotIndexedError(f"{name} is not indexed")
    repository_id, maintained = repository
    stanzas = (
        await session.scalars(
            select(Stanza)
            .where(Stanza.repository_id == repository_id)
            .order_by(Stanza.maintained.desc(), Stanza.position, Stanza.id)
        )
    ).all()
    has_latest = await session.scalar(
        select(Tag.id).where(Tag.repository_id == repository_id, Tag.name == "latest")
    )
    first = next((s.canonical_tag for s in stanzas if s.maintained), None)
    return RepositoryView(
        repository=name,
        maintained=bool(maintained),
        stanzas=[
            StanzaEntry(
                canonical_tag=s.canonical_tag,
                tags=list(s.tags),
                shared_tags=list(s.shared_tags),
                architectures=list(s.architectures),
                constraints=list(s.constraints),
                maintained=s.maintained,
            )
            for s in stanzas
        ],
        default_tag="latest" if has_latest is not None else first,
    )


async def most_used_bases(session: AsyncSession, limit: int = 12) -> list[BaseUse]:
    """The stanzas with the most maintained stanzas of other repositories built directly on them."""
    child = Stanza.__table__.alias("child")
    parent_repository = Stanza.__table__.alias("parent")
    children = func.count(func.distinct(child.c.id)).label("children")
    counts = (
        select(Build.parent_stanza_id.label("stanza_id"), children)
        .join(child, child.c.id == Build.stanza_id)
        .join(parent_repository, parent_repository.c.id == Build.parent_stanza_id)
        .where(
            child.c.maintained.is_(True),
            child.c.repository_id != parent_repository.c.repository_id,
        )
        .group_by(Build.parent_stanza_id)
        .order_by(children.desc(), Build.parent_stanza_id)
        .limit(limit)
        .subquery()
    )
    rows = (
        await session.execute(
            select(ImageRepository.name, Stanza.canonical_tag, Stanza.tags, counts.c.children)
            .join(Stanza, Stanza.id == counts.c.stanza_id)
            .join(ImageRepository, ImageRepository.id == Stanza.repository_id)
            .order_by(counts.c.children.desc(), ImageRepository.name, Stanza.canonical_tag)
        )
    ).all()
    return [
        BaseUse(repo, canonical, list(tags), int(count)) for repo, canonical, tags, count in rows
    ]


async def repository_names(session: AsyncSession) -> list[str]:
    """Every repository the index knows, by name."""
    return list(
        (await session.scalars(select(ImageRepository.name).order_by(ImageRepository.name))).all()
    )


async def tag_names(session: AsyncSession, repository: str) -> list[str]:
    """Every tag of ``repository`` the index knows (maintained first), by name."""
    return list(
        (
            await session.scalars(
                select(Tag.name)
                .join(ImageRepository, ImageRepository.id == Tag.repository_id)
                .where(ImageRepository.name == repository)
                .order_by(Tag.maintained.desc(), Tag.name)
            )
        ).all()
    )
