"""What the registry said, stored: indexes with their platform images, manifests' layers.

Every function takes the session of one writer job (one transaction) and writes with
set-based statements (``INSERT ... ON CONFLICT DO NOTHING``, one ``executemany`` per
table): indexes and manifests are immutable, so a row once written is never changed,
and a run that writes the same digest again (a killed run's work) changes nothing.
The reads the registry stage needs (what is left to read) are here too.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from indexer.store.driver_rows import binder, executemany
from indexer.store.models import (
    Build,
    HubImage,
    ImageRepository,
    RegistryImage,
    RegistryIndex,
    RegistryManifest,
    Tag,
    utcnow,
)

__all__ = [
    "LayerCheckTarget",
    "RegistryImageRecord",
    "RegistryIndexRecord",
    "hub_platform_of",
    "layer_check_targets",
    "stored_layers",
    "unread_indexes",
    "write_layer_checks",
    "write_registry_indexes",
    "write_registry_manifests",
]


@dataclass(frozen=True)
class RegistryImageRecord:
    """One platform entry of an index, as the stage parsed it."""

    manifest_digest: str
    os: str
    architecture: str
    variant: str | None
    bashbrew_arch: str
    base_name: str | None
    base_repository: str | None
    base_tag: str | None
    base_digest: str | None
    created: datetime | None
    revision: str | None
    source: str | None
    annotated: bool


#: the columns of a `RegistryImageRecord`
_IMAGE_FIELDS = tuple(item.name for item in fields(RegistryImageRecord))
_image_fields = operator.attrgetter(*_IMAGE_FIELDS)
_CREATED = _IMAGE_FIELDS.index("created")


def _image_values(image: RegistryImageRecord, time: Callable[[datetime | None], Any]) -> list[Any]:
    """The record's values in `_IMAGE_FIELDS` order, its time bound by ``time``."""
    values = list(_image_fields(image))
    values[_CREATED] = time(values[_CREATED])
    return values


@dataclass(frozen=True)
class RegistryIndexRecord:
    """One index read (``status`` ``ok``) or refused (``rejected``, with ``error``)."""

    digest: str
    repository: str
    media_type: str | None
    status: str
    error: str | None = None
    images: tuple[RegistryImageRecord, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class LayerCheckTarget:
    """A platform image whose base the annotations do not give: compare layers."""

    image_id: int
    repository: str
    manifest_digest: str
    parent_repository: str
    parent_manifest_digest: str


async def unread_indexes(
    session: AsyncSession, repositories: Sequence[str] = ()
) -> list[tuple[str, str]]:
    """``(repository, index digest)`` of every maintained tag whose index is not stored.

    Aliases share one digest: each digest appears once. Sorted by repository and digest.
    """
    stored = select(RegistryIndex.id).where(RegistryIndex.digest == Tag.digest).exists()
    query = (
        select(ImageRepository.name, Tag.digest)
        .join(Tag, Tag.repository_id == ImageRepository.id)
        .where(Tag.maintained.is_(True), Tag.digest.is_not(None), ~stored)
        .distinct()
        .order_by(ImageRepository.name, Tag.digest)
    )
    if repositories:
        query = query.where(ImageRepository.name.in_(list(repositories)))
    rows = await session.execute(query)
    return [(name, digest) for name, digest in rows if digest is not None]


#: the rows `write_registry_indexes` gives the driver, in these column orders
_INDEX_COLUMNS = ("digest", "repository", "media_type", "status", "error", "read_at")
_IMAGE_COLUMNS = ("index_id", *_IMAGE_FIELDS, "layer_check")


def _skipping_insert(table: Any, keys: list[str]) -> dict[str, Any]:
    """``INSERT … ON CONFLICT (keys) DO NOTHING`` into ``table``, per dialect name:
    indexes and their images are immutable, so a row written again is skipped."""
    return {
        module.dialect.name: module.insert(table).on_conflict_do_nothing(index_elements=keys)
        for module in (postgresql, sqlite)
    }


_INSERT_INDEXES = _skipping_insert(RegistryIndex.__table__, ["digest"])
_INSERT_IMAGES = _skipping_insert(RegistryImage.__table__, ["index_id", "manifest_digest"])
_INSERT_MANIFESTS = _skipping_insert(RegistryManifest.__table__, ["digest"])


async def write_registry_indexes(
    session: AsyncSession, records: Sequence[RegistryIndexRecord]
) -> int:
    """Store indexes and their platform images; answers the number of images written.

    The rows go to the driver as tuples (`indexer.store.driver_rows.executemany`)."""
    if not records:
        return 0
    dialect = session.get_bind().dialect
    bound = binder(dialect)
    now = bound.time(utcnow())
    await executemany(
        session,
        bound,
        _INSERT_INDEXES[dialect.name],
        _INDEX_COLUMNS,
        [
            (r.digest, r.repository, r.media_type, r.status, r.error, now)
            for r in sorted(records, key=lambda r: r.digest)
        ],
    )
    digests = [r.digest for r in records]
    found = await session.execute(
        select(RegistryIndex.digest, RegistryIndex.id).where(RegistryIndex.digest.in_(digests))
    )
    ids: dict[str, int] = {row[0]: row[1] for row in found}
    rows = [
        (ids[r.digest], *_image_values(image, bound.time), None)
        for r in records
        for image in r.images
    ]
    await executemany(session, bound, _INSERT_IMAGES[dialect.name], _IMAGE_COLUMNS, rows)
    return len(rows)


async def write_registry_manifests(
    session: AsyncSession, manifests: Sequence[tuple[str, list[str] | None, str | None]]
) -> None:
    """Store ``(digest, layers, error)`` of platform manifests read for their layers."""
    if not manifests:
        return
    now = utcnow()
    await session.execute(
        _INSERT_MANIFESTS[session.get_bind().dialect.name],
        [
            {"digest": digest, "layers": layers, "error": error, "read_at": now}
            for digest, layers, error in sorted(manifests, key=lambda m: m[0])
        ],
    )


async def stored_layers(
    session: AsyncSession, digests: Sequence[str]
) -> dict[str, list[str] | None]:
    """``{digest: layers}`` of the platform manifests already stored (``None``: rejected)."""
    found: dict[str, list[str] | None] = {}
    unique = sorted(set(digests))
    for start in range(0, len(unique), 500):
        rows = await session.execute(
            select(RegistryManifest.digest, RegistryManifest.layers).where(
                RegistryManifest.digest.in_(unique[start : start + 500])
            )
        )
        found.update((row[0], row[1]) for row in rows)
    return found


async def layer_check_targets(
    session: AsyncSession, repositories: Sequence[str] = ()
) -> list[LayerCheckTarget]:
    """Platform images not yet checked whose index gives no usable base.

    That is: no base annotation while the Dockerfile names a parent other than
    ``scratch``, or a base outside Docker Hub; and the parent is an indexed tag with
    a Hub image of the same platform (whose layers can be read here).
    """
    parent_tag = aliased(Tag)
    parent_repository = aliased(ImageRepository)
    query = (
        select(
            RegistryImage.id,
            ImageRepository.name,
            RegistryImage.manifest_digest,
            parent_repository.name,
            HubImage.digest,
        )
        .join(RegistryIndex, RegistryIndex.id == RegistryImage.index_id)
        .join(Tag, Tag.digest == RegistryIndex.digest)
        .join(
            ImageRepository,
            and_(
                ImageRepository.id == Tag.repository_id,
                ImageRepository.name == RegistryIndex.repository,
            ),
        )
        .join(
            Build,
            and_(
                Build.stanza_id == Tag.stanza_id,
                Build.architecture == RegistryImage.bashbrew_arch,
            ),
        )
        .join(parent_tag, parent_tag.id == Build.parent_tag_id)
        .join(parent_repository, parent_repository.id == parent_tag.repository_id)
        .join(
            HubImage,
            and_(
                HubImage.tag_id == parent_tag.id,
                HubImage.bashbrew_arch == RegistryImage.bashbrew_arch,
            ),
        )
        .where(
            RegistryIndex.status == "ok",
            RegistryImage.layer_check.is_(None),
            Tag.maintained.is_(True),
            Build.parent_ref != "scratch",
            or_(RegistryImage.base_name.is_(None), RegistryImage.base_name.like("%/%")),
        )
        .distinct()
        .order_by(RegistryImage.id)
    )
    if repositories:
        query = query.where(ImageRepository.name.in_(list(repositories)))
    rows = await session.execute(query)
    return [LayerCheckTarget(*row) for row in rows]


async def write_layer_checks(session: AsyncSession, checks: Sequence[tuple[int, str]]) -> None:
    """Set ``registry_images.layer_check`` for ``(image id, verdict)`` pairs."""
    if not checks:
        return
    table = cast(Table, RegistryImage.__table__)
    await session.execute(
        update(table)
        .where(table.c.id == bindparam("image_id"))
        .values(layer_check=bindparam("verdict")),
        [{"image_id": image_id, "verdict": verdict} for image_id, verdict in sorted(checks)],
    )


async def hub_platform_of(session: AsyncSession, digest: str) -> tuple[str, str, str | None] | None:
    """``(os, architecture, variant)`` of a Hub tag whose digest is ``digest``."""
    row = (
        await session.execute(
            select(HubImage.os, HubImage.architecture, HubImage.variant)
            .join(Tag, Tag.id == HubImage.tag_id)
            .where(Tag.digest == digest)
            .order_by(HubImage.tag_id, HubImage.digest)
            .limit(1)
        )
    ).first()
    return (row[0], row[1], row[2]) if row is not None else None
