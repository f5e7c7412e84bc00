"""What the web view lists besides single tags: repositories, their stanzas, the most used bases,
and the names a near-miss search is compared with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from indexer.errors import NotIndexedError
from indexer.store.queries.lookup import STANZA_COLUMNS, StanzaRow
from indexer.store.read import Reader
from indexer.store.read.values import flag, json_value

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


async def repository_view(reader: Reader, name: str) -> RepositoryView:
    """The stanzas of repository ``name``; NotIndexedError when the index does not know it."""
    found = await reader.rows(
        "SELECT id, maintained FROM image_repositories WHERE name = :name", {"name": name}
    )
    if not found:
        raise NotIndexedError(f"{name} is not indexed")
    repository_id, maintained = found[0]
    stanzas = [
        StanzaRow.from_row(row)
        for row in await reader.rows(
            f"SELECT {STANZA_COLUMNS} FROM stanzas s WHERE s.repository_id = :repository_id"
            " ORDER BY s.maintained DESC, s.position, s.id",
            {"repository_id": repository_id},
        )
    ]
    has_latest = await reader.rows(
        "SELECT id FROM tags WHERE repository_id = :repository_id AND name = 'latest'",
        {"repository_id": repository_id},
    )
    first = next((s.canonical_tag for s in stanzas if s.maintained), None)
    return RepositoryView(
        repository=name,
        maintained=flag(maintained),
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
        default_tag="latest" if has_latest else first,
    )


#: per stanza, the maintained stanzas of other repositories built directly on it
_MOST_USED_BASES = """
SELECT r.name, s.canonical_tag, s.tags, counts.children
FROM (
    SELECT b.parent_stanza_id AS stanza_id, COUNT(DISTINCT child.id) AS children
    FROM builds b
    JOIN stanzas child ON child.id = b.stanza_id
    JOIN stanzas parent ON parent.id = b.parent_stanza_id
    WHERE child.maintained AND child.repository_id <> parent.repository_id
    GROUP BY b.parent_stanza_id
    ORDER BY children DESC, b.parent_stanza_id
    LIMIT :limit
) counts
JOIN stanzas s ON s.id = counts.stanza_id
JOIN image_repositories r ON r.id = s.repository_id
ORDER BY counts.children DESC, r.name, s.canonical_tag
"""


async def most_used_bases(reader: Reader, limit: int = 12) -> list[BaseUse]:
    """The stanzas with the most maintained stanzas of other repositories built directly on them."""
    rows = await reader.rows(_MOST_USED_BASES, {"limit": limit})
    return [
        BaseUse(repo, canonical, list(json_value(tags)), int(count))
        for repo, canonical, tags, count in rows
    ]


async def repository_names(reader: Reader) -> list[str]:
    """Every repository the index knows, by name."""
    return [
        name for (name,) in await reader.rows("SELECT name FROM image_repositories ORDER BY name")
    ]


async def tag_names(reader: Reader, repository: str) -> list[str]:
    """Every tag of ``repository`` the index knows (maintained first), by name."""
    rows = await reader.rows(
        "SELECT t.name FROM tags t JOIN image_repositories r ON r.id = t.repository_id"
        " WHERE r.name = :repository ORDER BY t.maintained DESC, t.name",
        {"repository": repository},
    )
    return [name for (name,) in rows]
