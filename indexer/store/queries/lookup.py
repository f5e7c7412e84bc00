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
from typing import Any

from indexer.errors import NotIndexedError
from indexer.refs import ImageRef, parse_ref
from indexer.store.read import Reader
from indexer.store.read.values import flag, json_value

__all__ = [
    "BUILD_COLUMNS",
    "STANZA_COLUMNS",
    "BuildRow",
    "ResolvedTag",
    "StanzaRow",
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


#: the columns of a :class:`StanzaRow`, of ``stanzas s``
STANZA_COLUMNS = (
    "s.id, s.canonical_tag, s.position, s.tags, s.shared_tags, s.architectures,"
    " s.constraints, s.maintained"
)


@dataclass(frozen=True, slots=True)
class StanzaRow:
    """One stanza of a library file, as the queries read it."""

    id: int
    canonical_tag: str
    position: int
    tags: tuple[str, ...]
    shared_tags: tuple[str, ...]
    architectures: tuple[str, ...]
    constraints: tuple[str, ...]
    maintained: bool

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> StanzaRow:
        return cls(
            row[0],
            row[1],
            row[2],
            tuple(json_value(row[3])),
            tuple(json_value(row[4])),
            tuple(json_value(row[5])),
            tuple(json_value(row[6])),
            flag(row[7]),
        )


#: the columns of a :class:`BuildRow`, of ``builds b``
BUILD_COLUMNS = (
    "b.id, b.stanza_id, b.architecture, b.git_repo, b.git_commit, b.directory, b.file,"
    " b.builder, b.parent_ref, b.froms, b.error, b.warnings"
)


@dataclass(frozen=True, slots=True)
class BuildRow:
    """One architecture of one stanza: where it is built from and what it is built on."""

    id: int
    stanza_id: int
    architecture: str
    git_repo: str
    git_commit: str
    directory: str
    file: str
    builder: str | None
    parent_ref: str | None
    froms: list[str] | None
    error: str | None
    warnings: list[dict[str, Any]]

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> BuildRow:
        build_id, stanza_id, architecture, git_repo, git_commit, directory, file = row[:7]
        builder, parent_ref, froms, error, warnings = row[7:12]
        return cls(
            build_id,
            stanza_id,
            architecture,
            git_repo,
            git_commit,
            directory,
            file,
            builder,
            parent_ref,
            json_value(froms),
            error,
            json_value(warnings) or [],
        )


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


_TAG_BY_DIGEST = """
SELECT t.name FROM tags t
JOIN image_repositories r ON r.id = t.repository_id
WHERE r.name = :repository AND t.digest = :digest
ORDER BY t.maintained DESC,
         CASE WHEN t.name = (SELECT s.canonical_tag FROM stanzas s WHERE s.id = t.stanza_id)
              THEN 0 ELSE 1 END,
         length(t.name), t.name
LIMIT 1
"""

_RESOLVE = """
SELECT r.id, t.id, t.stanza_id, t.maintained FROM image_repositories r
JOIN tags t ON t.repository_id = r.id
WHERE r.name = :repository AND t.name = :tag
"""


async def _tag_by_digest(reader: Reader, ref: ImageRef) -> str:
    """The tag of ``ref.repository`` whose index digest is ``ref.digest`` (maintained first)."""
    rows = await reader.rows(_TAG_BY_DIGEST, {"repository": ref.repository, "digest": ref.digest})
    if not rows:
        raise NotIndexedError(f"no indexed tag of {ref.repository} points at {ref.digest}")
    name: str = rows[0][0]
    return name


async def resolve_tag(reader: Reader, ref: str) -> ResolvedTag:
    """Resolve any REF form Docker accepts to an indexed tag, or raise NotIndexedError."""
    parsed = parse_ref(ref)
    tag = parsed.tag if parsed.tag is not None else await _tag_by_digest(reader, parsed)
    rows = await reader.rows(_RESOLVE, {"repository": parsed.repository, "tag": tag})
    if not rows:
        raise NotIndexedError(f"{parsed.repository}:{tag} is not indexed")
    repository_id, tag_id, stanza_id, maintained = rows[0]
    return ResolvedTag(parsed.repository, repository_id, tag, tag_id, stanza_id, flag(maintained))


def _answering_order(stanzas: Sequence[StanzaRow], resolved: ResolvedTag) -> list[StanzaRow]:
    own = [stanza for stanza in stanzas if stanza.id == resolved.stanza_id]
    others = [s for s in stanzas if s.id != resolved.stanza_id and s.maintained]
    return own + others


async def answering_stanzas(reader: Reader, resolved: ResolvedTag) -> list[StanzaRow]:
    """The stanzas a tag answers with: its own first, then every other maintained one listing it.

    A SharedTag such as ``python:3.12`` lists the Linux stanza and each Windows
    stanza; a plain Tag lists one.
    """
    rows = await reader.rows(
        f"SELECT {STANZA_COLUMNS} FROM stanzas s"
        " JOIN stanza_tags st ON st.stanza_id = s.id"
        " WHERE st.tag_id = :tag_id ORDER BY s.position, s.id",
        {"tag_id": resolved.tag_id},
    )
    return _answering_order([StanzaRow.from_row(row) for row in rows], resolved)


def _arch_sorted(stanza: StanzaRow, builds: list[BuildRow]) -> list[BuildRow]:
    order = {arch: index for index, arch in enumerate(stanza.architectures)}
    return sorted(builds, key=lambda b: (order.get(b.architecture, len(order)), b.architecture))


async def answering_stanzas_with_builds(
    reader: Reader, resolved: ResolvedTag
) -> tuple[list[StanzaRow], dict[int, list[BuildRow]]]:
    """:func:`answering_stanzas` and their builds (as :func:`builds_by_stanza`), in one query."""
    rows = await reader.rows(
        f"SELECT {STANZA_COLUMNS}, {BUILD_COLUMNS} FROM stanzas s"
        " JOIN stanza_tags st ON st.stanza_id = s.id"
        " LEFT JOIN builds b ON b.stanza_id = s.id"
        " WHERE st.tag_id = :tag_id ORDER BY s.position, s.id",
        {"tag_id": resolved.tag_id},
    )
    width = STANZA_COLUMNS.count(",") + 1
    stanzas: dict[int, StanzaRow] = {}
    builds: dict[int, list[BuildRow]] = {}
    for row in rows:
        stanza_id = row[0]
        if stanza_id not in stanzas:
            stanzas[stanza_id] = StanzaRow.from_row(row[:width])
            builds[stanza_id] = []
        if row[width] is not None:
            builds[stanza_id].append(BuildRow.from_row(row[width:]))
    ordered = _answering_order(list(stanzas.values()), resolved)
    return ordered, {s.id: _arch_sorted(s, builds[s.id]) for s in ordered}


async def builds_by_stanza(
    reader: Reader, stanzas: Sequence[StanzaRow]
) -> dict[int, list[BuildRow]]:
    """The builds of each stanza, in the order of its ``Architectures``."""
    result: dict[int, list[BuildRow]] = {stanza.id: [] for stanza in stanzas}
    if not stanzas:
        return result
    rows = await reader.rows(
        f"SELECT {BUILD_COLUMNS} FROM builds b WHERE b.stanza_id = ANY(:stanza_ids)",
        {"stanza_ids": list(result)},
    )
    for row in rows:
        build = BuildRow.from_row(row)
        result[build.stanza_id].append(build)
    return {stanza.id: _arch_sorted(stanza, result[stanza.id]) for stanza in stanzas}


#: stanza ids per list parameter (SQLite allows 32,766 bound parameters)
SUMMARY_CHUNK = 5000

_SUMMARIES = """
SELECT s.id, r.name, s.canonical_tag, s.tags, s.position, s.architectures
FROM stanzas s
JOIN image_repositories r ON r.id = s.repository_id
WHERE s.id = ANY(:stanza_ids)
"""


async def stanza_summaries(reader: Reader, stanza_ids: Sequence[int]) -> dict[int, StanzaSummary]:
    """Names of the stanzas ``stanza_ids`` (any that do not exist are left out)."""
    wanted = sorted(set(stanza_ids))
    result: dict[int, StanzaSummary] = {}
    for start in range(0, len(wanted), SUMMARY_CHUNK):
        rows = await reader.rows(_SUMMARIES, {"stanza_ids": wanted[start : start + SUMMARY_CHUNK]})
        for stanza_id, repository, canonical_tag, tags, position, arches in rows:
            result[stanza_id] = StanzaSummary(
                stanza_id,
                repository,
                canonical_tag,
                tuple(json_value(tags)),
                position,
                tuple(json_value(arches)),
            )
    return result
