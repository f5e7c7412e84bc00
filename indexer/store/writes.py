"""The store's one write path: library files, Hub tags and repositories, set-based.

Every function works inside the caller's transaction (a store writer job,
:mod:`indexer.store.writer`) and leaves committing to it, so one repository's writes
commit together. Writes are idempotent (``INSERT … ON CONFLICT`` on both backends;
writing the same input twice changes no row) and take a fixed handful of statements
per call: executemany on tuples straight to the driver (:mod:`indexer.store.driver_rows`),
one expanding parameter per ``IN`` list, statements built once per dialect. Rows are
written in natural-key order, so concurrent writers cannot deadlock.

Parent links are kept by :func:`indexer.store.links.link_parents`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import ColumnElement

from indexer.platforms import bashbrew_arch as _bashbrew_arch
from indexer.refs import split_ref
from indexer.store.driver_rows import InList, chunks, rowcount
from indexer.store.hub_rows import hub_rows
from indexer.store.models import (
    Build,
    ImageRepository,
    LibraryFile,
    Stanza,
    StanzaTag,
    Tag,
    utcnow,
)
from indexer.store.records import (
    BuildRecord,
    HubTagFacts,
    LibraryFileRecord,
    StanzaRecord,
)

__all__ = [
    "HubWriteResult",
    "LibraryWriteResult",
    "RepositoryIds",
    "build_row",
    "ensure_repository",
    "insert_statement",
    "mark_repositories_unmaintained",
    "reconcile_hub_tags",
    "refresh_tag_stanzas",
    "write_hub_tags",
    "write_library_file",
]


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


async def ensure_repository(
    session: AsyncSession, name: str, *, maintained: bool | None = None
) -> int:
    """The id of repository ``name``, creating it when new (and setting ``maintained``)."""
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


class RepositoryIds:
    """Repository ids by name, looked up (or created) once; for one writer's jobs."""

    def __init__(self, known: dict[str, int] | None = None) -> None:
        self._ids: dict[str, int] = dict(known or {})

    async def get(self, session: AsyncSession, name: str) -> int:
        repository_id = self._ids.get(name)
        if repository_id is None:
            repository_id = await ensure_repository(session, name)
            self._ids[name] = repository_id
        return repository_id


def build_row(stanza_id: int, build: BuildRecord) -> dict[str, Any]:
    """The ``builds`` row of one architecture of a stanza (a new column is one line here)."""
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
        "warnings": [
            {"rule": warning.rule, "line": warning.line, "message": warning.message}
            for warning in build.warnings
        ],
    }


#: the builds columns an upsert rewrites: every column of `build_row` but the natural key
_BUILD_COLUMNS = tuple(
    key
    for key in build_row(0, BuildRecord(architecture="", git_repo="", git_commit=""))
    if key not in ("stanza_id", "architecture")
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


_TAGS = cast(Table, Tag.__table__)
_STANZAS = cast(Table, Stanza.__table__)
_STANZA_TAGS = cast(Table, StanzaTag.__table__)
_BUILDS = cast(Table, Build.__table__)
_REPOSITORIES = cast(Table, ImageRepository.__table__)
_LIBRARY_FILES = cast(Table, LibraryFile.__table__)

_STANZA_COLUMNS = ("position", "tags", "shared_tags", "architectures", "constraints", "maintained")
_FILE_COLUMNS = ("name", "blob_sha", "commit_sha", "maintainers", "stanza_count", "error_count")


# --- statements that are the same on every backend ------------------------------------

_TAG_IDS = select(_TAGS.c.name, _TAGS.c.id).where(
    _TAGS.c.repository_id == bindparam("b_repository"), InList(_TAGS.c.name, "b_names")
)
_STANZA_IDS = select(_STANZAS.c.canonical_tag, _STANZAS.c.id).where(
    _STANZAS.c.repository_id == bindparam("b_repository")
)
_STANZA_MEMBERS = select(
    _STANZA_TAGS.c.stanza_id,
    _STANZA_TAGS.c.tag_id,
    _STANZA_TAGS.c.shared,
    _STANZA_TAGS.c.position,
).where(InList(_STANZA_TAGS.c.stanza_id, "b_ids"))
_DELETE_MEMBERS = delete(_STANZA_TAGS).where(InList(_STANZA_TAGS.c.stanza_id, "b_ids"))
_INSERT_MEMBERS = insert(_STANZA_TAGS)
_BUILD_KEYS = select(_BUILDS.c.id, _BUILDS.c.stanza_id, _BUILDS.c.architecture).where(
    InList(_BUILDS.c.stanza_id, "b_ids")
)
_DELETE_BUILDS = delete(_BUILDS).where(InList(_BUILDS.c.id, "b_ids"))
_RETIRE_STANZAS = (
    update(_STANZAS)
    .where(
        _STANZAS.c.repository_id == bindparam("b_repository"),
        _STANZAS.c.maintained.is_(true()),
        InList(_STANZAS.c.id, "b_written", negate=True),
    )
    .values(maintained=False)
)
_TAG_CHOICES = (
    select(
        _STANZA_TAGS.c.tag_id,
        _STANZAS.c.id,
        _STANZAS.c.maintained,
        _STANZAS.c.position,
        _STANZAS.c.last_seen,
        _STANZA_TAGS.c.shared,
    )
    .join(_STANZAS, _STANZAS.c.id == _STANZA_TAGS.c.stanza_id)
    .where(_STANZAS.c.repository_id == bindparam("b_repository"))
)
_TAG_STANZAS = select(_TAGS.c.id, _TAGS.c.stanza_id, _TAGS.c.maintained).where(
    _TAGS.c.repository_id == bindparam("b_repository")
)
_SET_TAG_STANZAS = (
    update(_TAGS)
    .where(_TAGS.c.id == bindparam("b_id"))
    .values(stanza_id=bindparam("b_stanza_id"), maintained=bindparam("b_maintained"))
)
#: Hub tags of a repository not written by this run (a tag it added or changed was seen
#: ``now``): after a first load's page-through, next to none to read
_SEEN_HUB_TAGS = select(_TAGS.c.id, _TAGS.c.name).where(
    _TAGS.c.repository_id == bindparam("b_repository"),
    _TAGS.c.first_seen.is_not(None),
    _TAGS.c.removed_at.is_(None),
    or_(_TAGS.c.last_seen < bindparam("b_now"), _TAGS.c.last_seen.is_(None)),
)
_MARK_REMOVED = (
    update(_TAGS).where(InList(_TAGS.c.id, "b_ids")).values(removed_at=bindparam("b_now"))
)
_SET_WATERMARK = (
    update(_REPOSITORIES)
    .where(_REPOSITORIES.c.id == bindparam("b_repository"))
    .values(hub_reconciled_at=bindparam("b_now"))
)


# --- upserts: ON CONFLICT is spelled per dialect, so they are built once per dialect ---


def _changed(table: Table, stmt: Any, columns: Sequence[str]) -> ColumnElement[bool]:
    """WHERE clause of an upsert: update only when some column really changes."""
    clauses = [table.c[c].is_distinct_from(stmt.excluded[c]) for c in columns]
    return functools.reduce(lambda a, b: a | b, clauses)


@dataclass(frozen=True)
class _Upserts:
    """The dialect-specific statements of one backend."""

    new_tags: Insert
    stanzas: Insert
    builds: Insert
    library_file: Insert


@functools.cache
def _upserts(dialect: str) -> _Upserts:
    module = postgresql if dialect == "postgresql" else sqlite

    def base(table: Table) -> Any:
        return module.insert(table)

    new_tags = base(_TAGS).on_conflict_do_nothing(index_elements=["repository_id", "name"])
    stanzas = base(_STANZAS)
    stanzas = stanzas.on_conflict_do_update(
        index_elements=["repository_id", "canonical_tag"],
        set_={
            **{key: stanzas.excluded[key] for key in _STANZA_COLUMNS},
            "last_seen": stanzas.excluded.last_seen,
        },
        where=_changed(_STANZAS, stanzas, _STANZA_COLUMNS),
    )
    builds = base(_BUILDS)
    builds = builds.on_conflict_do_update(
        index_elements=["stanza_id", "architecture"],
        set_={key: builds.excluded[key] for key in _BUILD_COLUMNS},
        where=_changed(_BUILDS, builds, _BUILD_COLUMNS),
    )
    library_file = base(_LIBRARY_FILES)
    library_file = library_file.on_conflict_do_update(
        index_elements=["repository_id"],
        set_={
            **{key: library_file.excluded[key] for key in _FILE_COLUMNS},
            "read_at": library_file.excluded.read_at,
        },
        where=_changed(_LIBRARY_FILES, library_file, _FILE_COLUMNS),
    )
    return _Upserts(new_tags, stanzas, builds, library_file)


def _upserts_for(session: AsyncSession) -> _Upserts:
    return _upserts(session.get_bind().dialect.name)


# --- library files -------------------------------------------------------------------


async def _tag_ids(
    session: AsyncSession, repository_id: int, names: Iterable[str]
) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in chunks(sorted(set(names))):
        rows = await session.execute(_TAG_IDS, {"b_repository": repository_id, "b_names": chunk})
        found.update({str(name): int(tag_id) for name, tag_id in rows})
    return found


async def _ensure_tags(
    session: AsyncSession, repository_id: int, names: Iterable[str]
) -> dict[str, int]:
    wanted = sorted(set(names))
    existing = await _tag_ids(session, repository_id, wanted)
    missing = [name for name in wanted if name not in existing]
    if missing:
        await session.execute(
            _upserts_for(session).new_tags,
            [
                {"repository_id": repository_id, "name": name, "maintained": False}
                for name in missing
            ],
        )
        existing.update(await _tag_ids(session, repository_id, missing))
    return existing


async def _upsert_stanzas(
    session: AsyncSession, repository_id: int, record: LibraryFileRecord, now: datetime
) -> dict[str, int]:
    """Upsert every stanza of ``record``; answers ``{canonical_tag: stanza id}``."""
    rows = sorted(
        (
            _stanza_row(repository_id, position, stanza, now)
            for position, stanza in enumerate(record.stanzas)
        ),
        key=lambda row: str(row["canonical_tag"]),
    )
    if rows:
        await session.execute(_upserts_for(session).stanzas, rows)
    ids = await session.execute(_STANZA_IDS, {"b_repository": repository_id})
    return {str(tag): int(stanza_id) for tag, stanza_id in ids}


async def _write_members(
    session: AsyncSession, wanted: dict[int, set[tuple[int, bool, int]]]
) -> None:
    """Make each stanza's (tag, shared, position) rows equal ``wanted[stanza_id]``."""
    current: dict[int, set[tuple[int, bool, int]]] = {stanza_id: set() for stanza_id in wanted}
    for chunk in chunks(sorted(wanted)):
        for stanza_id, tag_id, shared, position in await session.execute(
            _STANZA_MEMBERS, {"b_ids": chunk}
        ):
            current[stanza_id].add((tag_id, bool(shared), position))
    changed = sorted(
        stanza_id for stanza_id, members in wanted.items() if current[stanza_id] != members
    )
    if not changed:
        return
    for chunk in chunks(changed):
        await session.execute(_DELETE_MEMBERS, {"b_ids": chunk})
    rows = [
        {"stanza_id": stanza_id, "tag_id": tag_id, "shared": shared, "position": position}
        for stanza_id in changed
        for tag_id, shared, position in sorted(wanted[stanza_id])
    ]
    if rows:
        await session.execute(_INSERT_MEMBERS, rows)


async def _write_builds(
    session: AsyncSession, stanza_ids: dict[str, int], record: LibraryFileRecord
) -> int:
    rows = sorted(
        (
            build_row(stanza_ids[stanza.canonical_tag], build)
            for stanza in record.stanzas
            for build in stanza.builds
        ),
        key=lambda row: (row["stanza_id"], row["architecture"]),
    )
    if rows:
        await session.execute(_upserts_for(session).builds, rows)
    keep = {
        (stanza_ids[stanza.canonical_tag], arch)
        for stanza in record.stanzas
        for arch in stanza.architectures
    }
    written = sorted({stanza_ids[stanza.canonical_tag] for stanza in record.stanzas})
    stale: list[int] = []
    for chunk in chunks(written):
        existing = await session.execute(_BUILD_KEYS, {"b_ids": chunk})
        stale += [b_id for b_id, s_id, arch in existing if (s_id, arch) not in keep]
    for chunk in chunks(sorted(stale)):
        await session.execute(_DELETE_BUILDS, {"b_ids": chunk})
    return len(rows)


async def refresh_tag_stanzas(session: AsyncSession, repository_id: int) -> None:
    """Recompute ``tags.stanza_id``/``tags.maintained`` of one repository.

    A tag answers with the first maintained stanza (file order) listing it; a tag no
    maintained stanza lists answers with the newest stanza that listed it. One
    executemany UPDATE for the tags that change.
    """
    best: dict[int, tuple[tuple[Any, ...], int | None, bool]] = {}
    for tag_id, stanza_id, maintained, position, last_seen, shared in await session.execute(
        _TAG_CHOICES, {"b_repository": repository_id}
    ):
        rank = (0, position, shared) if maintained else (1, -last_seen.timestamp(), shared)
        if tag_id not in best or rank < best[tag_id][0]:
            best[tag_id] = (rank, stanza_id, bool(maintained))
    changes: list[dict[str, Any]] = []
    for tag_id, current_stanza, maintained in await session.execute(
        _TAG_STANZAS, {"b_repository": repository_id}
    ):
        _, want_stanza, want_maintained = best.get(tag_id, ((), None, False))
        if current_stanza != want_stanza or bool(maintained) != want_maintained:
            changes.append(
                {"b_id": tag_id, "b_stanza_id": want_stanza, "b_maintained": want_maintained}
            )
    if changes:
        changes.sort(key=lambda change: int(change["b_id"]))
        await session.execute(_SET_TAG_STANZAS, changes)


async def write_library_file(
    session: AsyncSession, record: LibraryFileRecord, *, now: datetime | None = None
) -> LibraryWriteResult:
    """Store one library file: its stanzas become the repository's maintained ones.

    Stanzas no longer in the file are kept (with their tags and builds, for history)
    but marked not maintained.
    """
    now = now or utcnow()
    repository_id = await ensure_repository(session, record.name, maintained=True)
    await session.execute(
        _upserts_for(session).library_file,
        {
            "repository_id": repository_id,
            "name": record.name,
            "blob_sha": record.blob_sha,
            "commit_sha": record.commit_sha,
            "maintainers": list(record.maintainers),
            "stanza_count": len(record.stanzas),
            "error_count": record.error_count,
            "read_at": now,
        },
    )
    tag_ids = await _ensure_tags(
        session,
        repository_id,
        (name for stanza in record.stanzas for name in (*stanza.tags, *stanza.shared_tags)),
    )
    stanza_ids = await _upsert_stanzas(session, repository_id, record, now)
    await _write_members(
        session,
        {
            stanza_ids[stanza.canonical_tag]: {
                (tag_ids[name], shared, position)
                for shared, names in ((False, stanza.tags), (True, stanza.shared_tags))
                for position, name in enumerate(names)
            }
            for stanza in record.stanzas
        },
    )
    builds = await _write_builds(session, stanza_ids, record)
    written = sorted({stanza_ids[stanza.canonical_tag] for stanza in record.stanzas})
    retired = await session.execute(
        _RETIRE_STANZAS, {"b_repository": repository_id, "b_written": written}
    )
    await refresh_tag_stanzas(session, repository_id)
    return LibraryWriteResult(
        repository_id=repository_id,
        stanzas_written=len(written),
        stanzas_retired=rowcount(retired),
        builds_written=builds,
    )


# --- Hub tags --------------------------------------------------------------------------


async def write_hub_tags(
    session: AsyncSession,
    repository: str,
    records: Sequence[HubTagFacts],
    *,
    now: datetime | None = None,
    repository_id: int | None = None,
) -> HubWriteResult:
    """Store one batch (a page) of Hub tags of ``repository``.

    A tag whose digest is unchanged is not written at all (a no-change sync writes no
    row). A new digest replaces the tag's platform images and opens a new interval in
    ``tag_history``; the previous interval is closed at ``now``. The rows go to the
    database through the backend's loader (:mod:`indexer.store.hub_rows`: COPY on
    PostgreSQL, executemany on SQLite), as tuples.

    ``repository_id``, when the caller knows it, saves looking the repository up:
    then a page whose tags are all stored unchanged costs one SELECT.
    """
    now = now or utcnow()
    if repository_id is None:
        repository_id = await ensure_repository(session, repository)
    loader = hub_rows(session)
    by_name = {record.name: record for record in records}
    names = sorted(by_name)
    existing = await loader.stored(repository_id, names)
    added: list[str] = []
    changed: list[str] = []
    unchanged: list[str] = []
    new_names: list[str] = []
    updated: list[tuple[str, int, datetime]] = []
    for name in names:
        record = by_name[name]
        current = existing.get(name)
        if current is not None and current[1] == record.digest and current[3] is None:
            unchanged.append(name)
            continue
        if current is None:
            new_names.append(name)
            added.append(name)
            continue
        (added if current[2] is None else changed).append(name)
        updated.append((name, current[0], current[2] or now))
    if not new_names and not updated:
        return HubWriteResult((), (), tuple(unchanged))
    time = loader.time
    bound_now = time(now)
    if new_names:
        ids = await loader.new_tag_ids(repository_id, len(new_names))
        new_tags = list(zip(ids, new_names, strict=True))
        images, history = _digest_rows(
            [(tag_id, by_name[name]) for tag_id, name in new_tags], time, bound_now
        )
        await loader.insert_new_tags(
            [
                (
                    tag_id,
                    repository_id,
                    name,
                    False,
                    (record := by_name[name]).digest,
                    record.media_type,
                    time(record.last_updated),
                    record.tag_status,
                    bound_now,
                    bound_now,
                )
                for tag_id, name in new_tags
            ],
            images,
            history,
        )
    if updated:
        updated.sort(key=lambda item: item[1])
        await loader.update_tags(
            [
                (
                    (record := by_name[name]).digest,
                    record.media_type,
                    time(record.last_updated),
                    record.tag_status,
                    time(first_seen),
                    bound_now,
                    tag_id,
                )
                for name, tag_id, first_seen in updated
            ],
            now,
        )
        images, history = _digest_rows(
            [(tag_id, by_name[name]) for name, tag_id, _ in updated], time, bound_now
        )
        if images:
            await loader.insert_images(images)
        if history:
            await loader.upsert_history(history)
    return HubWriteResult(tuple(added), tuple(changed), tuple(unchanged))


def _digest_rows(
    tags: list[tuple[int, HubTagFacts]], time: Callable[[datetime | None], Any], bound_now: Any
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """What a tag written with a new digest gets besides its own row: its platform
    images (`_image_values`) and a history interval opened now (``bound_now``, as the
    loader binds it), for ``(tag id, record)`` pairs."""
    images = [row for tag_id, tag in tags for row in _image_values(tag_id, tag, time)]
    history = [
        (tag_id, tag.digest, bound_now, bound_now) for tag_id, tag in tags if tag.digest is not None
    ]
    return images, history


#: the bashbrew name of a Hub platform, remembered (a handful of platforms, a million images)
bashbrew_arch = functools.lru_cache(maxsize=256)(_bashbrew_arch)


def _image_values(
    tag_id: int, tag: HubTagFacts, time: Callable[[datetime | None], Any]
) -> list[tuple[Any, ...]]:
    """The hub_images rows of one tag, as `indexer.store.hub_rows.IMAGE_COLUMNS` tuples: one
    per digest (images without a digest are left out)."""
    seen: set[str] = set()
    rows = []
    for image in tag.images:
        digest = image.digest
        if not digest or digest in seen:
            continue
        seen.add(digest)
        os_name, architecture, variant = image.os, image.architecture, image.variant or None
        rows.append(
            (
                tag_id,
                os_name,
                architecture,
                variant,
                bashbrew_arch(os_name, architecture, variant),
                digest,
                image.size,
                image.status,
                time(image.last_pushed),
            )
        )
    return rows


async def reconcile_hub_tags(
    session: AsyncSession, repository_id: int, present: Iterable[str], *, now: datetime
) -> list[str]:
    """After a clean, complete page-through: mark the vanished tags, advance the watermark.

    Tags seen on the Hub before but absent from ``present`` get ``removed_at = now``
    (never deleted: their history is kept, the interval of the digest they last pointed
    at ends there); ``image_repositories.hub_reconciled_at`` becomes ``now``.
    """
    present_set = set(present)
    gone = sorted(
        (str(name), int(tag_id))
        for tag_id, name in await session.execute(
            _SEEN_HUB_TAGS, {"b_repository": repository_id, "b_now": now}
        )
        if name not in present_set
    )
    for chunk in chunks([tag_id for _, tag_id in gone]):
        await session.execute(_MARK_REMOVED, {"b_ids": chunk, "b_now": now})
    await session.execute(_SET_WATERMARK, {"b_repository": repository_id, "b_now": now})
    return [name for name, _ in gone]


_MAINTAINED_REPOSITORIES = select(_REPOSITORIES.c.id, _REPOSITORIES.c.name).where(
    _REPOSITORIES.c.maintained.is_(true())
)
_RETIRE_REPOSITORIES = (
    update(_REPOSITORIES).where(InList(_REPOSITORIES.c.id, "b_ids")).values(maintained=False)
)
_RETIRE_REPOSITORY_STANZAS = (
    update(_STANZAS)
    .where(InList(_STANZAS.c.repository_id, "b_ids"), _STANZAS.c.maintained.is_(true()))
    .values(maintained=False)
)


async def mark_repositories_unmaintained(session: AsyncSession, keep: Iterable[str]) -> list[str]:
    """Mark every repository not in ``keep`` (and its stanzas) not maintained; their names."""
    keep_set = set(keep)
    gone = sorted(
        (str(name), int(repository_id))
        for repository_id, name in await session.execute(_MAINTAINED_REPOSITORIES)
        if name not in keep_set
    )
    ids = sorted(repository_id for _, repository_id in gone)
    for chunk in chunks(ids):
        await session.execute(_RETIRE_REPOSITORIES, {"b_ids": chunk})
        await session.execute(_RETIRE_REPOSITORY_STANZAS, {"b_ids": chunk})
    for repository_id in ids:
        await refresh_tag_stanzas(session, repository_id)
    return [name for name, _ in gone]
