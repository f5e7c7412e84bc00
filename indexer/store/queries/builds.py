"""What the registry says each published image was built on: ``v_image_builds`` read back.

- :func:`registry_builds`: per architecture, the ``registry`` object of ``show --json``;
- :func:`stale_images`: ``indexer stale [--base REF]``, oldest first;
- :func:`stale_marks`: which (repository, tag, architecture) are stale, for the marks
  of ``explain`` and ``children``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from indexer.errors import NotIndexedError
from indexer.refs import normalize_ref
from indexer.store.queries.lookup import resolve_tag
from indexer.store.read import Reader
from indexer.store.read.values import iso, maybe_flag, time_value

__all__ = ["RegistryBuild", "StaleImage", "registry_builds", "stale_images", "stale_marks"]

_COLUMNS = (
    "repository, tag, architecture, index_digest, manifest_digest, base_name, base_digest,"
    " base_current_digest, agrees, stale, stale_since, stale_since_exact, revision,"
    " library_commit, pending, created"
)


@dataclass(frozen=True, slots=True)
class RegistryBuild:
    """One row of ``v_image_builds``."""

    repository: str
    tag: str
    architecture: str
    index_digest: str
    manifest_digest: str
    base_name: str | None
    base_digest: str | None
    base_current_digest: str | None
    agrees: bool | None
    stale: bool | None
    stale_since: str | None
    stale_since_exact: bool | None
    revision: str | None
    library_commit: str | None
    pending: bool | None
    created: str | None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> RegistryBuild:
        return cls(
            repository=row[0],
            tag=row[1],
            architecture=row[2],
            index_digest=row[3],
            manifest_digest=row[4],
            base_name=row[5],
            base_digest=row[6],
            base_current_digest=row[7],
            agrees=maybe_flag(row[8]),
            stale=maybe_flag(row[9]),
            stale_since=iso(time_value(row[10])),
            stale_since_exact=maybe_flag(row[11]),
            revision=row[12],
            library_commit=row[13],
            pending=maybe_flag(row[14]),
            created=iso(time_value(row[15])),
        )

    def as_json(self) -> dict[str, Any]:
        """The ``registry`` object of a platform in ``show --json`` (CONTRACT §2)."""
        return {
            "index_digest": self.index_digest,
            "manifest_digest": self.manifest_digest,
            "base": self.base_name,
            "base_digest": self.base_digest,
            "agrees": self.agrees,
            "stale": self.stale,
            "stale_since": self.stale_since,
            "stale_since_exact": self.stale_since_exact,
            "pending": self.pending,
            "revision": self.revision,
            "created": self.created,
        }


@dataclass(frozen=True, slots=True)
class StaleImage:
    """An image (its canonical tag) published on a base build that is no longer current."""

    build: RegistryBuild
    aliases: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "repository": self.build.repository,
            "tag": self.build.tag,
            "architecture": self.build.architecture,
            "aliases": self.aliases,
            "base": self.build.base_name,
            "base_digest": self.build.base_digest,
            "base_current_digest": self.build.base_current_digest,
            "stale_since": self.build.stale_since,
            "stale_since_exact": self.build.stale_since_exact,
            "pending": self.build.pending,
            "index_digest": self.build.index_digest,
        }


async def registry_builds(reader: Reader, repository: str, tag: str) -> dict[str, RegistryBuild]:
    """``{architecture: build}`` of one tag (empty until its index has been read)."""
    rows = await reader.rows(
        f"SELECT {_COLUMNS} FROM v_image_builds"
        " WHERE repository = :repository AND tag = :tag ORDER BY architecture",
        {"repository": repository, "tag": tag},
    )
    found: dict[str, RegistryBuild] = {}
    for row in rows:
        build = RegistryBuild.from_row(row)
        found.setdefault(build.architecture, build)
    return found


async def _base_names(reader: Reader, base: str) -> list[str]:
    """Every name of the base ``base``: itself and, when indexed, each alias of its stanza."""
    names = [normalize_ref(base)]
    try:
        resolved = await resolve_tag(reader, base)
    except NotIndexedError:
        return names
    rows = await reader.rows(
        "SELECT tag FROM v_tags WHERE repository = :repository AND canonical_tag ="
        " (SELECT canonical_tag FROM v_tags WHERE repository = :repository AND tag = :tag)",
        {"repository": resolved.repository, "tag": resolved.tag},
    )
    names.extend(f"{resolved.repository}:{tag}" for (tag,) in rows)
    return sorted(set(names))


async def stale_images(reader: Reader, base: str | None = None) -> list[StaleImage]:
    """Maintained images on an outdated base build, oldest ``stale_since`` first.

    One row per image (canonical tag) and architecture; ``base`` (any alias of it)
    keeps those on that base.
    """
    sql = (
        f"SELECT {', '.join('b.' + c.strip() for c in _COLUMNS.split(','))}"
        " FROM v_image_builds b JOIN v_tags t ON t.repository = b.repository AND t.tag = b.tag"
        " WHERE b.stale AND t.maintained AND t.tag = t.canonical_tag"
    )
    params: dict[str, Any] = {}
    if base is not None:
        params["names"] = await _base_names(reader, base)
        sql += " AND b.base_name = ANY(:names)"
    sql += " ORDER BY b.stale_since, b.repository, b.tag, b.architecture"
    rows = [RegistryBuild.from_row(row) for row in await reader.rows(sql, params)]
    aliases = await _aliases(reader, {(b.repository, b.tag) for b in rows})
    return [StaleImage(build=b, aliases=aliases.get((b.repository, b.tag), [])) for b in rows]


async def _aliases(
    reader: Reader, images: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[str]]:
    wanted = set(images)
    if not wanted:
        return {}
    rows = await reader.rows(
        "SELECT repository, canonical_tag, tag FROM v_tags"
        " WHERE maintained AND canonical_tag IS NOT NULL ORDER BY repository, tag"
    )
    found: dict[tuple[str, str], list[str]] = {}
    for repository, canonical, tag in rows:
        if (repository, canonical) in wanted:
            found.setdefault((repository, canonical), []).append(tag)
    return found


async def stale_marks(
    reader: Reader, images: Iterable[tuple[str, str]]
) -> set[tuple[str, str, str]]:
    """The (repository, tag, architecture) of ``images`` whose published build is stale."""
    wanted = sorted(set(images))
    marks: set[tuple[str, str, str]] = set()
    repositories = sorted({repository for repository, _ in wanted})
    if not repositories:
        return marks
    keep = set(wanted)
    for repository, tag, architecture in await reader.rows(
        "SELECT repository, tag, architecture FROM v_image_builds"
        " WHERE stale AND repository = ANY(:repositories)",
        {"repositories": repositories},
    ):
        if (repository, tag) in keep:
            marks.add((repository, tag, architecture))
    return marks
