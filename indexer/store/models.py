"""The lineage graph as SQLAlchemy 2 models.

Internal tables; the stable interface for SQL users is the views created by
migration 0002 (CONTRACT §4). Shape of the graph::

    image_repositories ─┬─ library_files (one per repository: the newest blob read)
                        ├─ stanzas ── stanza_tags ── tags ── hub_images
                        │     └── builds (one per architecture; parent_ref + parent_tag_id edge,
                        │                 parent_stanza_id: the stanza that edge resolves to)
                        │            └── build_chains (each build's chain of parent builds)
                        └─ tags ── tag_history (digest intervals)

    fetch_cache (immutable content by id)   sync_runs ── sync_errors   sync_state (key/value)

    registry_indexes (one per index digest read) ── registry_images (one per platform)
    registry_manifests (platform manifests read for their layers, by digest)

``builds.parent_tag_id`` is the parent edge resolved to an indexed tag, when the
parent is an official image the index knows. ``tags.stanza_id``/``tags.maintained``
are denormalised from ``stanza_tags`` by the store's writes, so queries by alias
are one index lookup. ``builds.parent_stanza_id`` is denormalised the same way by
``link_parents``: the stanza the parent tag answers with for the build's
architecture, so the descendant walk goes from a stanza straight to its child builds.
``build_chains`` is the closure of that edge (:mod:`indexer.store.closure`), which
``v_ancestors`` reads; ``parent_refs`` counts the images on each parent reference
(:mod:`indexer.store.parent_refs`), which ``v_parent_refs`` reads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Base",
    "Build",
    "BuildChain",
    "FetchCache",
    "HubImage",
    "ImageRepository",
    "LibraryFile",
    "RegistryImage",
    "RegistryIndex",
    "RegistryManifest",
    "Stanza",
    "StanzaTag",
    "SyncError",
    "SyncRun",
    "SyncState",
    "Tag",
    "TagHistory",
    "UTCDateTime",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: JSON values; JSONB on PostgreSQL so that values compare (upserts skip unchanged rows)
JSONValue = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware (SQLite keeps none)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class ImageRepository(Base):
    """An official image repository (``python``, ``debian``)."""

    __tablename__ = "image_repositories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    #: listed in the current library listing
    maintained: Mapped[bool] = mapped_column(Boolean, default=True)
    #: when the Hub tags were last paged to the end (full reconcile)
    hub_reconciled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the Hub's ``last_updated`` of the repository (its last push) when its tag pages
    #: were last read cleanly; a run that finds it unchanged skips the tag pages
    hub_last_updated: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LibraryFile(Base):
    """The newest library file read for a repository, by git blob id."""

    __tablename__ = "library_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("image_repositories.id", ondelete="CASCADE"), unique=True
    )
    name: Mapped[str] = mapped_column(String(255))
    blob_sha: Mapped[str] = mapped_column(String(64))
    commit_sha: Mapped[str] = mapped_column(String(64))
    maintainers: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    stanza_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Stanza(Base):
    """One stanza (entry) of a library file; natural key: repository + first tag."""

    __tablename__ = "stanzas"
    __table_args__ = (UniqueConstraint("repository_id", "canonical_tag"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("image_repositories.id", ondelete="CASCADE")
    )
    canonical_tag: Mapped[str] = mapped_column(String(128))
    #: order in the library file (0-based); SharedTags answer with the first entry
    position: Mapped[int] = mapped_column(Integer)
    tags: Mapped[list[str]] = mapped_column(JSONValue)
    shared_tags: Mapped[list[str]] = mapped_column(JSONValue)
    architectures: Mapped[list[str]] = mapped_column(JSONValue)
    constraints: Mapped[list[str]] = mapped_column(JSONValue)
    #: listed in the repository's current library file
    maintained: Mapped[bool] = mapped_column(Boolean, default=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Tag(Base):
    """A tag name known from a library file or from the Hub, with its Hub facts."""

    __tablename__ = "tags"
    __table_args__ = (
        UniqueConstraint("repository_id", "name"),
        #: the registry's indexes are joined to their tags by digest
        Index(None, "digest"),
        #: only the tags a library file lists have a stanza: most of the Hub's (every tag
        #: ever pushed) have none, and a first load would index each of their NULLs
        Index(
            None,
            "stanza_id",
            sqlite_where=text("stanza_id IS NOT NULL"),
            postgresql_where=text("stanza_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("image_repositories.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(128))
    #: the stanza this tag answers with (first maintained stanza listing it, else the newest)
    stanza_id: Mapped[int | None] = mapped_column(ForeignKey("stanzas.id", ondelete="SET NULL"))
    maintained: Mapped[bool] = mapped_column(Boolean, default=False)
    digest: Mapped[str | None] = mapped_column(String(100))
    media_type: Mapped[str | None] = mapped_column(String(200))
    last_updated: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tag_status: Mapped[str | None] = mapped_column(String(50))
    #: first/last time a sync saw the tag on the Hub
    first_seen: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: set by a full reconcile when the tag is gone from the Hub (history is kept)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StanzaTag(Base):
    """A tag listed by a stanza, as one of its Tags or SharedTags."""

    __tablename__ = "stanza_tags"

    stanza_id: Mapped[int] = mapped_column(
        ForeignKey("stanzas.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    shared: Mapped[bool] = mapped_column(Boolean)
    #: position among the stanza's Tags (or SharedTags)
    position: Mapped[int] = mapped_column(Integer)


class Build(Base):
    """One architecture of one stanza: where it is built from and what it is built on."""

    __tablename__ = "builds"
    __table_args__ = (
        UniqueConstraint("stanza_id", "architecture"),
        Index(None, "parent_repository", "parent_tag"),
        #: children of a stanza-less tag; the foreign key's lookups by parent_tag_id
        Index(None, "parent_tag_id", "architecture"),
        #: the descendant walk joins a stanza and an architecture to its child builds; on
        #: PostgreSQL the index holds the columns the walk reads (an index-only scan)
        Index(
            None,
            "parent_stanza_id",
            "architecture",
            postgresql_include=["stanza_id", "parent_ref"],
        ),
        #: the few builds whose parent could not be resolved ("images without a resolved
        #: parent" reads them without scanning every build)
        Index(
            "ix_builds_unresolved",
            "stanza_id",
            postgresql_where=text("parent_ref IS NULL"),
            sqlite_where=text("parent_ref IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stanza_id: Mapped[int] = mapped_column(ForeignKey("stanzas.id", ondelete="CASCADE"))
    architecture: Mapped[str] = mapped_column(String(50))
    git_repo: Mapped[str] = mapped_column(Text)
    git_fetch: Mapped[str] = mapped_column(Text)
    git_commit: Mapped[str] = mapped_column(String(64))
    directory: Mapped[str] = mapped_column(Text)
    file: Mapped[str] = mapped_column(Text)
    builder: Mapped[str | None] = mapped_column(String(50))
    #: normalised parent reference; NULL when it could not be resolved (see error)
    parent_ref: Mapped[str | None] = mapped_column(Text)
    parent_repository: Mapped[str | None] = mapped_column(String(255))
    parent_tag: Mapped[str | None] = mapped_column(String(128))
    #: the parent edge: the indexed tag parent_ref names, when the index has it
    parent_tag_id: Mapped[int | None] = mapped_column(ForeignKey("tags.id", ondelete="SET NULL"))
    #: the stanza parent_tag_id answers with for this architecture (the views' rule: the
    #: first in file order of the stanzas listing the tag that are maintained, or are the
    #: tag's own stanza, and build the architecture); kept by ``link_parents``
    parent_stanza_id: Mapped[int | None] = mapped_column(
        ForeignKey("stanzas.id", ondelete="SET NULL")
    )
    froms: Mapped[list[str] | None] = mapped_column(JSONValue)
    error: Mapped[str | None] = mapped_column(Text)
    #: the checks BuildKit would report for the build: [{"rule", "line", "message"}, ...]
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONValue, default=list, server_default=text("'[]'")
    )


class BuildChain(Base):
    """One build of a build's chain: the build itself (``steps`` 0), the build its parent
    answers with (1), that build's parent build (2), ...; kept by
    :func:`indexer.store.closure.refresh_build_chains`.

    ``chain_build_id`` has no foreign key: when that build goes, the refresh finds the
    step-1 row left pointing at it and walks the chains through it again.
    """

    __tablename__ = "build_chains"
    __table_args__ = (
        #: the chains through a build (the refresh's "below", descendants by closure); on
        #: PostgreSQL an index-only scan
        Index(None, "chain_build_id", "steps", "build_id"),
    )

    build_id: Mapped[int] = mapped_column(
        ForeignKey("builds.id", ondelete="CASCADE"), primary_key=True
    )
    steps: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain_build_id: Mapped[int] = mapped_column(Integer)


class ParentRef(Base):
    """A parent reference some build names, with the maintained repositories and images
    (stanzas) that name it directly; kept by
    :func:`indexer.store.parent_refs.refresh_parent_refs`, read by ``v_parent_refs``."""

    __tablename__ = "parent_refs"

    parent_ref: Mapped[str] = mapped_column(Text, primary_key=True)
    parent_repository: Mapped[str | None] = mapped_column(String(255))
    parent_tag: Mapped[str | None] = mapped_column(String(128))
    repositories: Mapped[int] = mapped_column(Integer)
    images: Mapped[int] = mapped_column(Integer)


class HubImage(Base):
    """One platform image of a Hub tag, keyed by (tag, digest).

    No surrogate id: on SQLite the table is clustered on its key (``WITHOUT ROWID``), so
    a first load writes one b-tree per row instead of a rowid table plus a unique index
    that repeats the digest; on PostgreSQL it drops an index and a sequence call per row.
    """

    __tablename__ = "hub_images"
    __table_args__ = ({"sqlite_with_rowid": False},)

    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    os: Mapped[str] = mapped_column(String(50))
    architecture: Mapped[str] = mapped_column(String(50))
    variant: Mapped[str | None] = mapped_column(String(50))
    #: the same platform in the library's names (arm32v7, arm64v8, i386, windows-amd64)
    bashbrew_arch: Mapped[str] = mapped_column(String(50))
    digest: Mapped[str] = mapped_column(String(100), primary_key=True)
    size: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str | None] = mapped_column(String(50))
    last_pushed: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TagHistory(Base):
    """An interval during which a tag pointed at one digest, keyed by (tag, first seen)
    and clustered on that key on SQLite, as `HubImage` is."""

    __tablename__ = "tag_history"
    __table_args__ = ({"sqlite_with_rowid": False},)

    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    digest: Mapped[str] = mapped_column(String(100))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)


class FetchCache(Base):
    """Immutable upstream content by content id (library file blob, Dockerfile at a commit).

    ``status`` is ``ok`` (content stored) or ``missing`` (the upstream answered 404;
    asked again only on a full reconcile).
    """

    __tablename__ = "fetch_cache"
    __table_args__ = (UniqueConstraint("kind", "content_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    content_id: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(20))
    content: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncRun(Base):
    """One run of ``indexer sync``."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: running, ok, partial, failed, interrupted
    status: Mapped[str] = mapped_column(String(20), default="running")
    only: Mapped[list[str] | None] = mapped_column(JSONValue)
    full_reconcile: Mapped[bool] = mapped_column(Boolean, default=False)
    library_commit: Mapped[str | None] = mapped_column(String(64))
    library_files_fetched: Mapped[int] = mapped_column(Integer, default=0)
    dockerfiles_fetched: Mapped[int] = mapped_column(Integer, default=0)
    tags_added: Mapped[int] = mapped_column(Integer, default=0)
    tags_changed: Mapped[int] = mapped_column(Integer, default=0)
    tags_removed: Mapped[int] = mapped_column(Integer, default=0)
    parents_resolved: Mapped[int] = mapped_column(Integer, default=0)
    parents_unresolved: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    requests: Mapped[dict[str, Any] | None] = mapped_column(JSONValue)
    message: Mapped[str | None] = mapped_column(Text)


class SyncError(Base):
    """An item that failed during a sync run, and why."""

    __tablename__ = "sync_errors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id", ondelete="CASCADE"), index=True)
    #: the failing item's kind: library-file, stanza, dockerfile, hub-page, ...
    item_kind: Mapped[str] = mapped_column(String(50))
    #: which item: a file name, "python:3.12 (amd64)", a URL
    item: Mapped[str] = mapped_column(Text)
    #: the error's kind (see indexer.errors)
    error_kind: Mapped[str] = mapped_column(String(50))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncState(Base):
    """Small named values kept between runs: the branch ETag, the lock on SQLite, ..."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RegistryIndex(Base):
    """An index (or single manifest) the registry served for a Hub digest; read once.

    ``status`` is ``ok`` (its platforms are in ``registry_images``) or ``rejected``
    (the body did not hash to the digest, was too large or unreadable: ``error`` says
    why). Manifests are immutable: a digest stored here is never requested again.
    """

    __tablename__ = "registry_indexes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(100), unique=True)
    #: the repository it was read from (a digest belongs to one repository)
    repository: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RegistryImage(Base):
    """One platform image of a registry index, with what its annotations say."""

    __tablename__ = "registry_images"
    __table_args__ = (
        UniqueConstraint("index_id", "manifest_digest"),
        Index(None, "base_repository", "base_tag"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    index_id: Mapped[int] = mapped_column(ForeignKey("registry_indexes.id", ondelete="CASCADE"))
    manifest_digest: Mapped[str] = mapped_column(String(100))
    os: Mapped[str] = mapped_column(String(50))
    architecture: Mapped[str] = mapped_column(String(50))
    variant: Mapped[str | None] = mapped_column(String(50))
    #: ``com.docker.official-images.bashbrew.arch``, else derived from the platform
    bashbrew_arch: Mapped[str] = mapped_column(String(50))
    #: ``org.opencontainers.image.base.name``, normalised like ``builds.parent_ref``
    base_name: Mapped[str | None] = mapped_column(Text)
    base_repository: Mapped[str | None] = mapped_column(String(255))
    base_tag: Mapped[str | None] = mapped_column(String(128))
    base_digest: Mapped[str | None] = mapped_column(String(100))
    created: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revision: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(Text)
    #: the entry carries the official images' annotations (a revision at least)
    annotated: Mapped[bool] = mapped_column(Boolean)
    #: where no base annotation could be used: ``verified`` (the parent's layers
    #: are a prefix of this image's) or ``mismatch``; NULL: not checked
    layer_check: Mapped[str | None] = mapped_column(String(20))


class RegistryManifest(Base):
    """A platform manifest read for its layers (the layer check); read once per digest."""

    __tablename__ = "registry_manifests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(100), unique=True)
    #: layer digests in order; NULL when the manifest was rejected (see error)
    layers: Mapped[list[str] | None] = mapped_column(JSONValue)
    error: Mapped[str | None] = mapped_column(Text)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
