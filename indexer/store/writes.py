"""Idempotent writes of the lineage graph.

Every function here takes an open :class:`AsyncSession` inside a transaction and
leaves committing to the caller, so one repository's writes commit together.
Upserts use ``INSERT … ON CONFLICT`` on both backends; rows are written in
natural-key order so concurrent writers cannot deadlock. Writing the same input
twice changes no row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from indexer.platforms import bashbrew_arch
from indexer.refs import split_ref
from indexer.store.closure import refresh_build_chains
from indexer.store.models import (
    Build,
    HubImage,
    ImageRepository,
    LibraryFile,
    Stanza,
    StanzaTag,
    Tag,
    TagHistory,
    utcnow,
)
from indexer.store.parent_refs import refresh_parent_refs
from indexer.store.records import BuildRecord, HubTagFacts, LibraryFileRecord, StanzaRecord

__all__ = [
    "HubWriteResult",
    "LibraryWriteResult",
    "ensure_repository",
    "insert_statement",
    "link_parents",
    "mark_hub_tags_removed",
    "mark_repositories_unmaintained",
    "refresh_tag_stanzas",
    "write_hub_tags",
    "write_library_file",
]

#: rows per multi-row INSERT (SQLite allows 32766 bound parameters)
BATCH = 500


@dataclass(frozen=True, slots=True)
class LibraryWriteResult:
    repository_id: int
    stanzas_written: int
    stanzas_retired: int
    builds_written: int


@dataclass(frozen=True, slots=True)
class HubWriteResult:
    added: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]


def insert_statement(session: AsyncSession, table: Any) -> Any:
    """A dialect-specific INSERT that supports ``on_conflict_do_*``."""
    name = session.get_bind().dialect.name
    module = postgresql if name == "postgresql" else sqlite
    return module.insert(table)


def _chunks(rows: Sequence[Any], size: int = BATCH) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def ensure_repository(
    session: AsyncSession, name: str, *, maintained: bool | None = None
) -> int:
    """The id of repository ``name``, creating it when new."""
    stmt = insert_statement(session, ImageRepository).values(
        name=name, maintained=True if maintained is None else maintained
    )
    if maintained is None:
        stmt = stmt.on_conflict_do_nothing(index_elements=["name"])
    else:
        stmt = stmt.on_conflict_do_update(
            index_elements=["name"],
            set_={"maintained": maintained},
            where=ImageRepository.maintained.is_distinct_from(maintained),
        )
    await session.execute(stmt)
    repo_id = await session.scalar(select(ImageRepository.id).where(ImageRepository.name == name))
    assert repo_id is not None
    return repo_id


async def _ensure_tags(
    session: AsyncSession, repository_id: int, names: Iterable[str]
) -> dict[str, int]:
    wanted = sorted(set(names))
    existing = dict(
        (
            await session.execute(
                select(Tag.name, Tag.id).where(Tag.repository_id == repository_id)
            )
        ).all()
    )
    missing = [name for name in wanted if name not in existing]
    for chunk in _chunks(missing):
        stmt = insert_statement(session, Tag).values(
            [{"repository_id": repository_id, "name": name, "maintained": False} for name in chunk]
        )
        await session.execute(stmt.on_conflict_do_nothing(index_elements=["repository_id", "name"]))
    if missing:
        existing = dict(
            (
                await session.execute(
                    select(Tag.name, Tag.id).where(Tag.repository_id == repository_id)
                )
            ).all()
        )
    return existing


def _build_row(stanza_id: int, build: BuildRecord) -> dict[str, Any]:
    parent_repository: str | None = None
    parent_tag: str | None = None
    if build.parent_ref is not None:
        parent_repository, parent_tag = split_ref(build.parent_ref)
    return {
        "stanza_id": stanza_id,
        "architecture": build.architecture,
        "git_repo": build.git_repo,
        "git_fetch": build.git_fetch,
        "git_commit": build.git_commit,
        "directory": build.directory,
        "file": build.file,
        "builder": build.builder,
        "parent_ref": build.parent_ref,
        "parent_repository": parent_repository,
        "parent_tag": parent_tag,
        "froms": list(build.froms) if build.froms is not None else None,
        "error": build.error,
        "warnings": [warning.as_dict() for warning in build.warnings],
    }


_BUILD_COLUMNS = (
    "git_repo",
    "git_fetch",
    "git_commit",
    "directory",
    "file",
    "builder",
    "parent_ref",
    "parent_repository",
    "parent_tag",
    "froms",
    "error",
    "warnings",
)


def _stanza_row(
    repository_id: int, position: int, stanza: StanzaRecord, now: datetime
) -> dict[str, Any]:
    """The ``stanzas`` row of ``stanza``, written as maintained and seen ``now``."""
    return {
        "repository_id": repository_id,
        "canonical_tag": stanza.canonical_tag,
        "position": position,
        "tags": list(stanza.tags),
        "shared_tags": list(stanza.shared_tags),
        "architectures": list(stanza.architectures),
        "constraints": list(stanza.constraints),
        "maintained": True,
        "first_seen": now,
        "last_seen": now,
    }


async def _write_stanza(
    session: AsyncSession,
    repository_id: int,
    position: int,
    stanza: StanzaRecord,
    now: datetime,
) -> int:
    values = _stanza_row(repository_id, position, stanza, now)
    changing = ("position", "tags", "shared_tags", "architectures", "constraints", "maintained")
    stmt = insert_statement(session, Stanza).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["repository_id", "canonical_tag"],
        set_={
            **{key: stmt.excluded[key] for key in changing},
            "last_seen": stmt.excluded.last_seen,
        },
        where=_any_distinct(Stanza, stmt, changing),
    )
    await session.execute(stmt)
    stanza_id = await session.scalar(
        select(Stanza.id).where(
            Stanza.repository_id == repository_id, Stanza.canonical_tag == stanza.canonical_tag
        )
    )
    assert stanza_id is not None
    return stanza_id


def _any_distinct(model: Any, stmt: Any, columns: Sequence[str]) -> Any:
    """WHERE clause for an upsert: update only when some column really changes."""
    return or_(*(getattr(model, c).is_distinct_from(stmt.excluded[c]) for c in columns))


async def _write_stanza_tags(
    session: AsyncSession, stanza_id: int, stanza: StanzaRecord, tag_ids: dict[str, int]
) -> None:
    wanted = {
        (tag_ids[name], shared, position)
        for shared, names in ((False, stanza.tags), (True, stanza.shared_tags))
        for position, name in enumerate(names)
    }
    current = set(
        (
            await session.execute(
                select(StanzaTag.tag_id, StanzaTag.shared, StanzaTag.position).where(
                    StanzaTag.stanza_id == stanza_id
                )
            )
        ).all()
    )
    if current == wanted:
        return
    await session.execute(delete(StanzaTag).where(StanzaTag.stanza_id == stanza_id))
    rows = [
        {"stanza_id": stanza_id, "tag_id": tag_id, "shared": shared, "position": position}
        for tag_id, shared, position in sorted(wanted)
    ]
    if rows:
        await session.execute(insert_statement(session, StanzaTag).values(rows))


async def _write_builds(session: AsyncSession, stanza_id: int, stanza: StanzaRecord) -> int:
    rows = [
        _build_row(stanza_id, build)
        for build in sorted(stanza.builds, key=lambda b: b.architecture)
    ]
    if rows:
        stmt = insert_statement(session, Build).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=["stanza_id", "architecture"],
            set_={key: stmt.excluded[key] for key in _BUILD_COLUMNS},
            where=_any_distinct(Build, stmt, _BUILD_COLUMNS),
        )
        await session.execute(stmt)
    await session.execute(
        delete(Build).where(
            Build.stanza_id == stanza_id, Build.architecture.not_in(stanza.architectures)
        )
    )
    return len(rows)


async def refresh_tag_stanzas(session: AsyncSession, repository_id: int) -> None:
    """Recompute ``tags.stanza_id``/``tags.maintained`` of one repository.

    A tag answers with the first maintained stanza (file order) listing it; a tag
    no maintained stanza lists answers with the newest stanza that listed it.
    """
    rows = (
        await session.execute(
            select(
                StanzaTag.tag_id,
                Stanza.id,
                Stanza.maintained,
                Stanza.position,
                Stanza.last_seen,
                StanzaTag.shared,
            )
            .join(Stanza, Stanza.id == StanzaTag.stanza_id)
            .where(Stanza.repository_id == repository_id)
        )
    ).all()
    best: dict[int, tuple[tuple[Any, ...], int | None, bool]] = {}
    for tag_id, stanza_id, maintained, position, last_seen, shared in rows:
        rank = (0, position, shared) if maintained else (1, -last_seen.timestamp(), shared)
        if tag_id not in best or rank < best[tag_id][0]:
            best[tag_id] = (rank, stanza_id, bool(maintained))
    current = (
        await session.execute(
            select(Tag.id, Tag.stanza_id, Tag.maintained).where(Tag.repository_id == repository_id)
        )
    ).all()
    for tag_id, current_stanza, maintained in current:
        _, want_stanza, want_maintained = best.get(tag_id, ((), None, False))
        if current_stanza != want_stanza or bool(maintained) != want_maintained:
            await session.execute(
                update(Tag)
                .where(Tag.id == tag_id)
                .values(stanza_id=want_stanza, maintained=want_maintained)
            )


async def write_library_file(
    session: AsyncSession, record: LibraryFileRecord, *, now: datetime | None = None
) -> LibraryWriteResult:
    """Store one library file: its stanzas become the repository's maintained ones.

    Stanzas no longer in the file are kept (with their tags and builds, for
    history) but marked not maintained.
    """
    now = now or utcnow()
    repository_id = await ensure_repository(session, record.name, maintained=True)
    file_values = {
        "repository_id": repository_id,
        "name": record.name,
        "blob_sha": record.blob_sha,
        "commit_sha": record.commit_sha,
        "maintainers": list(record.maintainers),
        "stanza_count": len(record.stanzas),
        "error_count": record.error_count,
        "read_at": now,
    }
    stmt = insert_statement(session, LibraryFile).values(file_values)
    file_columns = ("name", "blob_sha", "commit_sha", "maintainers", "stanza_count", "error_count")
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["repository_id"],
            set_={
                **{key: stmt.excluded[key] for key in file_columns},
                "read_at": stmt.excluded.read_at,
            },
            where=_any_distinct(LibraryFile, stmt, file_columns),
        )
    )
    tag_ids = await _ensure_tags(
        session,
        repository_id,
        (name for stanza in record.stanzas for name in (*stanza.tags, *stanza.shared_tags)),
    )
    written: list[int] = []
    builds = 0
    for position, stanza in enumerate(record.stanzas):
        stanza_id = await _write_stanza(session, repository_id, position, stanza, now)
        written.append(stanza_id)
        await _write_stanza_tags(session, stanza_id, stanza, tag_ids)
        builds += await _write_builds(session, stanza_id, stanza)
    retired = await session.execute(
        update(Stanza)
        .where(
            Stanza.repository_id == repository_id,
            Stanza.maintained.is_(True),
            Stanza.id.not_in(written) if written else Stanza.id.is_not(None),
        )
        .values(maintained=False)
    )
    await refresh_tag_stanzas(session, repository_id)
    return LibraryWriteResult(
        repository_id=repository_id,
        stanzas_written=len(written),
        stanzas_retired=int(getattr(retired, "rowcount", 0) or 0),
        builds_written=builds,
    )


async def mark_repositories_unmaintained(session: AsyncSession, keep: Iterable[str]) -> list[str]:
    """Mark every repository not in ``keep`` (and its stanzas) not maintained; return their names."""
    keep_set = set(keep)
    rows = (
        await session.execute(
            select(ImageRepository.id, ImageRepository.name).where(
                ImageRepository.maintained.is_(True)
            )
        )
    ).all()
    gone = [(repo_id, name) for repo_id, name in rows if name not in keep_set]
    for repo_id, _name in sorted(gone, key=lambda item: item[1]):
        await session.execute(
            update(ImageRepository).where(ImageRepository.id == repo_id).values(maintained=False)
        )
        await session.execute(
            update(Stanza)
            .where(Stanza.repository_id == repo_id, Stanza.maintained.is_(True))
            .values(maintained=False)
        )
        await refresh_tag_stanzas(session, repo_id)
    return [name for _, name in gone]


def _image_rows(tag_id: int, record: HubTagFacts) -> list[dict[str, Any]]:
    """The hub_images rows of one tag: one per digest; images without a digest left out."""
    seen: set[str] = set()
    rows = []
    for image in record.images:
        if not image.digest or image.digest in seen:
            continue
        seen.add(image.digest)
        rows.append(
            {
                "tag_id": tag_id,
                "os": image.os,
                "architecture": image.architecture,
                "variant": image.variant or None,
                "bashbrew_arch": bashbrew_arch(image.os, image.architecture, image.variant),
                "digest": image.digest,
                "size": image.size,
                "status": image.status,
                "last_pushed": image.last_pushed,
            }
        )
    return rows


async def write_hub_tags(
    session: AsyncSession,
    repository: str,
    records: Sequence[HubTagFacts],
    *,
    now: datetime | None = None,
) -> HubWriteResult:
    """Store one batch of Hub tags of ``repository``.

    A tag whose digest is unchanged is not written at all (a no-change sync
    writes no row). A new digest replaces the tag's platform images and opens a
    new interval in ``tag_history``; the previous interval is closed at ``now``.
    """
    now = now or utcnow()
    repository_id = await ensure_repository(session, repository)
    by_name = {record.name: record for record in records}
    names = sorted(by_name)
    existing: dict[str, tuple[int, str | None, datetime | None, datetime | None]] = {}
    for chunk in _chunks(names):
        rows = (
            await session.execute(
                select(Tag.name, Tag.id, Tag.digest, Tag.first_seen, Tag.removed_at).where(
                    Tag.repository_id == repository_id, Tag.name.in_(chunk)
                )
            )
        ).all()
        for name, tag_id, digest, first_seen, removed_at in rows:
            existing[name] = (tag_id, digest, first_seen, removed_at)
    added: list[str] = []
    changed: list[str] = []
    unchanged: list[str] = []
    for name in names:
        record = by_name[name]
        current = existing.get(name)
        if current is not None and current[1] == record.digest and current[3] is None:
            unchanged.append(name)
            continue
        if current is None:
            tag_id = await _insert_hub_tag(session, repository_id, record, now)
            added.append(name)
        else:
            tag_id = current[0]
            (added if current[2] is None else changed).append(name)
            await session.execute(
                update(Tag)
                .where(Tag.id == tag_id)
                .values(
                    digest=record.digest,
                    media_type=record.media_type,
                    last_updated=record.last_updated,
                    tag_status=record.tag_status,
                    first_seen=current[2] or now,
                    last_seen=now,
                    removed_at=None,
                )
            )
            await session.execute(delete(HubImage).where(HubImage.tag_id == tag_id))
            await session.execute(
                update(TagHistory)
                .where(TagHistory.tag_id == tag_id, TagHistory.last_seen < now)
                .where(
                    TagHistory.first_seen
                    == select(TagHistory.first_seen)
                    .where(TagHistory.tag_id == tag_id)
                    .order_by(TagHistory.first_seen.desc())
                    .limit(1)
                    .scalar_subquery()
                )
                .values(last_seen=now)
            )
        images = _image_rows(tag_id, record)
        if images:
            await session.execute(insert_statement(session, HubImage).values(images))
        if record.digest is not None:
            stmt = insert_statement(session, TagHistory).values(
                tag_id=tag_id, digest=record.digest, first_seen=now, last_seen=now
            )
            await session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["tag_id", "first_seen"], set_={"digest": record.digest}
                )
            )
    return HubWriteResult(tuple(added), tuple(changed), tuple(unchanged))


async def _insert_hub_tag(
    session: AsyncSession, repository_id: int, record: HubTagFacts, now: datetime
) -> int:
    stmt = insert_statement(session, Tag).values(
        repository_id=repository_id,
        name=record.name,
        maintained=False,
        digest=record.digest,
        media_type=record.media_type,
        last_updated=record.last_updated,
        tag_status=record.tag_status,
        first_seen=now,
        last_seen=now,
    )
    await session.execute(stmt.on_conflict_do_nothing(index_elements=["repository_id", "name"]))
    tag_id = await session.scalar(
        select(Tag.id).where(Tag.repository_id == repository_id, Tag.name == record.name)
    )
    assert tag_id is not None
    return tag_id


async def mark_hub_tags_removed(
    session: AsyncSession, repository: str, present: Iterable[str], *, now: datetime | None = None
) -> list[str]:
    """After a full page-through: mark tags seen on the Hub before but absent now as removed.

    Their history is kept: the interval of the digest they last pointed at ends at
    ``removed_at`` (v_tag_history and ``indexer history`` read it so).
    """
    now = now or utcnow()
    present_set = set(present)
    repository_id = await ensure_repository(session, repository)
    rows = (
        await session.execute(
            select(Tag.id, Tag.name).where(
                Tag.repository_id == repository_id,
                Tag.first_seen.is_not(None),
                Tag.removed_at.is_(None),
            )
        )
    ).all()
    gone = sorted((name, tag_id) for tag_id, name in rows if name not in present_set)
    for _name, tag_id in gone:
        await session.execute(update(Tag).where(Tag.id == tag_id).values(removed_at=now))
    return [name for name, _ in gone]


async def link_parents(session: AsyncSession) -> int:
    """Point ``builds.parent_tag_id`` at the indexed tag each ``parent_ref`` names, and
    ``builds.parent_stanza_id`` at the stanza that tag answers with for the build's architecture.

    The stanza is the first, in file order, of those listing the tag that are maintained
    or are the tag's own stanza (``tags.stanza_id``) and build the architecture: the rule
    of the ancestor walk and ``v_ancestors``. It depends on the parent repository's
    library file, so every build is considered: the sync calls it once, after the run's
    writes of library files, new tags or repositories marked not maintained.

    The stanzas are set by joins, not by a subquery per build: without statistics (a
    fresh database) PostgreSQL plans such a subquery with sequential scans, once per build.
    Only builds whose link is missing or stale are written (a no-change call writes no
    row). Then, in the same transaction, the chains at and below every moved link are
    walked again (:func:`~indexer.store.closure.refresh_build_chains`, which
    ``v_ancestors`` reads). Returns how many links changed (a build whose two links
    changed counts twice).

    On PostgreSQL the four tables' planner statistics are refreshed first (``ANALYZE``
    samples a bounded number of rows, so it stays cheap on large tables): right after
    a first sync autovacuum has not analyzed them yet, and without statistics the
    stanza update joined the builds on architecture first (6 million intermediate
    rows for the corpus' 6,000 builds, 0.7 s instead of 0.1 s).
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("ANALYZE builds, tags, stanza_tags, stanzas"))
    target = (
        select(Tag.id)
        .join(ImageRepository, ImageRepository.id == Tag.repository_id)
        .where(
            ImageRepository.name == Build.parent_repository,
            Tag.name == Build.parent_tag,
        )
        .scalar_subquery()
    )
    stmt = (
        update(Build)
        .values(parent_tag_id=target)
        .where(Build.parent_tag_id.is_distinct_from(target))
    )
    changed = _rowcount(await session.execute(stmt))

    child = aliased(Build)
    rank = func.row_number().over(partition_by=child.id, order_by=_FILE_ORDER)
    candidates = _answering_stanzas(
        select(child.id.label("build_id"), _PARENT_STANZA.id.label("stanza_id"), rank.label("rank"))
        .select_from(child)
        .join(_LISTING, _LISTING.tag_id == child.parent_tag_id),
        child.architecture,
    )
    answer = candidates.subquery("answer")
    stmt = (
        update(Build)
        .values(parent_stanza_id=answer.c.stanza_id)
        .where(
            Build.id == answer.c.build_id,
            answer.c.rank == 1,
            Build.parent_stanza_id.is_distinct_from(answer.c.stanza_id),
        )
    )
    changed += _rowcount(await session.execute(stmt))

    any_answer = _answering_stanzas(
        select(_LISTING.tag_id).where(_LISTING.tag_id == Build.parent_tag_id), Build.architecture
    )
    stmt = (
        update(Build)
        .values(parent_stanza_id=None)
        .where(Build.parent_stanza_id.is_not(None), ~any_answer.exists())
    )
    changed += _rowcount(await session.execute(stmt))
    await refresh_build_chains(session)
    await refresh_parent_refs(session)
    return changed


#: the parent tag's listings and the stanzas, tags and builds they join (``_answering_stanzas``)
_LISTING = aliased(StanzaTag, name="parent_listing")
_PARENT_TAG = aliased(Tag, name="parent_tag")
_PARENT_STANZA = aliased(Stanza, name="parent_stanza")
_PARENT_BUILD = aliased(Build, name="parent_build")
#: the order in which a tag's stanzas answer for it
_FILE_ORDER = (_PARENT_STANZA.position, _PARENT_STANZA.id)


def _answering_stanzas(stmt: Select[Any], architecture: Any) -> Select[Any]:
    """``stmt`` (which selects from ``_LISTING``) narrowed to the stanzas that may answer for
    the listed tag and ``architecture``: maintained or the tag's own, and building it."""
    return (
        stmt.join(_PARENT_TAG, _PARENT_TAG.id == _LISTING.tag_id)
        .join(_PARENT_STANZA, _PARENT_STANZA.id == _LISTING.stanza_id)
        .join(
            _PARENT_BUILD,
            (_PARENT_BUILD.stanza_id == _PARENT_STANZA.id)
            & (_PARENT_BUILD.architecture == architecture),
        )
        .where(_PARENT_STANZA.maintained | (_PARENT_STANZA.id == _PARENT_TAG.stanza_id))
    )


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
