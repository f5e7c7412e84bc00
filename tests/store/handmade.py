"""A small hand-made lineage graph: python -> buildpack-deps -> debian -> scratch.

Two architectures, aliases, a SharedTag, written through the store's own writes.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from indexer.store.links import link_parents
from indexer.store.records import (
    BuildRecord,
    HubImageRecord,
    HubTagRecord,
    LibraryFileRecord,
    StanzaRecord,
)
from indexer.store.writer import running_writer
from indexer.store.writes import write_hub_tags, write_library_file

ARCHES = ("amd64", "arm64v8")
COMMIT = "0123456789abcdef0123456789abcdef01234567"
NOW = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)


def _stanza(
    repo: str,
    tags: tuple[str, ...],
    parent: str,
    *,
    shared: tuple[str, ...] = (),
    builder: str | None = "buildkit",
) -> StanzaRecord:
    builds = tuple(
        BuildRecord(
            architecture=arch,
            git_repo=f"https://github.com/docker-library/{repo}.git",
            git_commit=COMMIT,
            directory=tags[0],
            builder=builder,
            parent_ref=parent,
            froms=(parent,),
        )
        for arch in ARCHES
    )
    return StanzaRecord(tags=tags, shared_tags=shared, builds=builds)


LIBRARY = (
    LibraryFileRecord(
        name="debian",
        blob_sha="d" * 40,
        commit_sha=COMMIT,
        stanzas=(
            _stanza("debian", ("bookworm", "12", "latest"), "scratch", builder="oci-import"),
            _stanza("debian", ("bookworm-slim", "12-slim"), "scratch", builder="oci-import"),
        ),
    ),
    LibraryFileRecord(
        name="buildpack-deps",
        blob_sha="b" * 40,
        commit_sha=COMMIT,
        stanzas=(
            _stanza("buildpack-deps", ("bookworm-curl",), "debian:bookworm"),
            _stanza("buildpack-deps", ("bookworm-scm",), "buildpack-deps:bookworm-curl"),
            _stanza("buildpack-deps", ("bookworm",), "buildpack-deps:bookworm-scm"),
        ),
    ),
    LibraryFileRecord(
        name="python",
        blob_sha="a" * 40,
        commit_sha=COMMIT,
        stanzas=(
            _stanza(
                "python",
                ("3.12.7-bookworm", "3.12-bookworm"),
                "buildpack-deps:bookworm",
                shared=("3.12.7", "3.12", "latest"),
            ),
            _stanza(
                "python",
                ("3.12.7-slim-bookworm", "3.12-slim-bookworm", "3.12.7-slim", "3.12-slim"),
                "debian:bookworm-slim",
            ),
        ),
    ),
)

HUB = {
    "python": (
        HubTagRecord(
            name="3.12-slim",
            digest="sha256:" + "1" * 64,
            media_type="application/vnd.oci.image.index.v1+json",
            last_updated=datetime(2026, 10, 30, tzinfo=UTC),
            tag_status="active",
            images=(
                HubImageRecord("linux", "amd64", "sha256:" + "2" * 64, size=45_000_000),
                HubImageRecord(
                    "linux", "arm64", "sha256:" + "3" * 64, variant="v8", size=44_000_000
                ),
            ),
        ),
    ),
}


async def write_graph(
    database_url: str,
    library: Iterable[LibraryFileRecord],
    hub: Mapping[str, Sequence[HubTagRecord]],
    *,
    now: datetime = NOW,
) -> None:
    """Write library files, then Hub tags, a transaction each, then link the parents:
    through the store's writer thread, as a sync writes."""
    async with running_writer(database_url) as writer:
        for record in library:
            await writer.run_job(functools.partial(_write_library_file, record, now))
        for repository, tags in hub.items():
            await writer.run_job(functools.partial(_write_hub_tags, repository, tags, now))
        await writer.run_job(link_parents)


async def _write_library_file(
    record: LibraryFileRecord, now: datetime, session: AsyncSession
) -> object:
    return await write_library_file(session, record, now=now)


async def _write_hub_tags(
    repository: str, tags: Sequence[HubTagRecord], now: datetime, session: AsyncSession
) -> object:
    return await write_hub_tags(session, repository, tags, now=now)


async def write_handmade_graph(database_url: str) -> None:
    await write_graph(database_url, LIBRARY, HUB)


def load_handmade_graph(database_url: str) -> None:
    asyncio.run(write_handmade_graph(database_url))
