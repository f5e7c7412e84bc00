"""An index's platform entries as store records: annotations read, base normalised.

Pure: no I/O. The official images' annotations (CONTRACT §1) become the columns of
``registry_images``; the base name is normalised like a Dockerfile parent
(``docker.io/library/debian:bookworm-slim`` is ``debian:bookworm-slim``), so it
compares with ``builds.parent_ref``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from indexer.errors import ImageReferenceError
from indexer.platforms import bashbrew_arch
from indexer.refs import normalize_ref, split_ref
from indexer.store.registry_writes import RegistryImageRecord
from indexer.upstream.registry import IndexEntry

__all__ = ["ANNOTATION_ARCH", "image_record", "single_manifest_record"]

ANNOTATION_ARCH = "com.docker.official-images.bashbrew.arch"
_OCI = "org.opencontainers.image."


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _base(value: str | None) -> tuple[str | None, str | None, str | None]:
    """``(normalised name, repository, tag)`` of a base annotation."""
    if not value:
        return None, None, None
    try:
        name = normalize_ref(value)
        repository, tag = split_ref(name)
    except ImageReferenceError:
        return value, None, None
    return name, repository, tag


def image_record(entry: IndexEntry) -> RegistryImageRecord:
    """The record of one platform entry of an index."""
    annotations: Mapping[str, str] = entry.annotations
    name, repository, tag = _base(annotations.get(_OCI + "base.name"))
    revision = annotations.get(_OCI + "revision") or None
    return RegistryImageRecord(
        manifest_digest=entry.digest,
        os=entry.os,
        architecture=entry.architecture,
        variant=entry.variant,
        bashbrew_arch=annotations.get(ANNOTATION_ARCH)
        or bashbrew_arch(entry.os, entry.architecture, entry.variant),
        base_name=name,
        base_repository=repository,
        base_tag=tag,
        base_digest=annotations.get(_OCI + "base.digest") or None,
        created=_time(annotations.get(_OCI + "created")),
        revision=revision[:64] if revision else None,
        source=annotations.get(_OCI + "source") or None,
        annotated=revision is not None,
    )


def single_manifest_record(
    digest: str, platform: tuple[str, str, str | None]
) -> RegistryImageRecord:
    """A tag whose digest names one platform manifest (no index, no annotations)."""
    os, architecture, variant = platform
    return RegistryImageRecord(
        manifest_digest=digest,
        os=os,
        architecture=architecture,
        variant=variant,
        bashbrew_arch=bashbrew_arch(os, architecture, variant),
        base_name=None,
        base_repository=None,
        base_tag=None,
        base_digest=None,
        created=None,
        revision=None,
        source=None,
        annotated=False,
    )
