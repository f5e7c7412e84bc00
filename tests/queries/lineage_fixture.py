"""A hand-made lineage graph with every shape the queries must handle, written by the store.

- debian (bookworm with aliases 12/latest, bookworm-slim, bullseye-slim) and a
  retired ``buster`` (end of life: its stanza left the library), alpine 3.20,
  ubuntu 24.04, all FROM scratch;
- buildpack-deps bookworm-curl -> bookworm-scm -> bookworm on debian:bookworm;
- python 3.12: full (SharedTags 3.12.7/3.12/latest) on buildpack-deps, slim on
  debian:bookworm-slim except arm32v5 on debian:bullseye-slim (a parent that differs
  per architecture), alpine on alpine:3.20, and two Windows stanzas (ltsc2025 first,
  then ltsc2022, both windows-amd64) sharing the SharedTags with the Linux one;
- children of a SharedTag: ``linuxapp`` (amd64) and ``winapp`` (windows-amd64) FROM
  python:3.12; ``legacy`` FROM the retired debian:buster; ``twelve`` FROM the alias
  debian:12; ``mystery`` with an unresolved parent; ``loopy`` a <-> b, a cycle;
  ``noblish`` on ubuntu:latest; ``orphan`` on ``vanished:1.0``, an image the index lacks;
- Hub facts for the python tags (sizes per platform) and a few others.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

from indexer.platforms import hub_platform
from indexer.store.records import (
    BuildRecord,
    HubImageRecord,
    HubTagRecord,
    LibraryFileRecord,
    StanzaRecord,
)
from tests.store.handmade import write_graph

__all__ = [
    "DIGESTS",
    "LINUX3",
    "NOW",
    "SIZES",
    "load_lineage_graph",
    "write_lineage_graph",
]

COMMIT = "0123456789abcdef0123456789abcdef01234567"
NOW = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
LINUX3 = ("amd64", "arm32v5", "arm64v8")
SERVERCORE = "mcr.microsoft.com/windows/servercore"


def stanza(
    repo: str,
    tags: Sequence[str],
    parent: str | dict[str, str | None] | None,
    *,
    arches: Sequence[str] = ("amd64",),
    shared: Sequence[str] = (),
    builder: str | None = "buildkit",
    error: str | None = None,
) -> StanzaRecord:
    """A stanza whose builds are FROM ``parent`` (or a parent per architecture)."""
    builds = []
    for arch in arches:
        ref = parent.get(arch) if isinstance(parent, dict) else parent
        builds.append(
            BuildRecord(
                architecture=arch,
                git_repo=f"https://github.com/docker-library/{repo}.git",
                git_commit=COMMIT,
                directory=tags[0],
                builder=builder,
                parent_ref=ref,
                froms=(ref,) if ref else None,
                error=error if ref is None else None,
            )
        )
    return StanzaRecord(tags=tuple(tags), shared_tags=tuple(shared), builds=tuple(builds))


def library(name: str, *stanzas: StanzaRecord, blob: str = "1") -> LibraryFileRecord:
    return LibraryFileRecord(name=name, blob_sha=blob * 40, commit_sha=COMMIT, stanzas=stanzas)


PY_SHARED = ("3.12.7", "3.12", "latest")
PY_WIN_SHARED = ("3.12.7-windowsservercore", "3.12-windowsservercore", *PY_SHARED)

DEBIAN_WITH_BUSTER = library(
    "debian",
    stanza(
        "debian",
        ("bookworm", "12", "12.7", "latest"),
        "scratch",
        arches=LINUX3,
        builder="oci-import",
    ),
    stanza("debian", ("bookworm-slim", "12-slim"), "scratch", arches=LINUX3, builder="oci-import"),
    stanza("debian", ("bullseye-slim", "11-slim"), "scratch", arches=LINUX3, builder="oci-import"),
    stanza("debian", ("buster", "10"), "scratch", arches=LINUX3, builder="oci-import"),
)
#: the next library file: buster has reached its end of life and left the library
DEBIAN = library("debian", *DEBIAN_WITH_BUSTER.stanzas[:3], blob="2")

LIBRARY = (
    library(
        "alpine",
        stanza("alpine", ("3.20.3", "3.20", "3", "latest"), "scratch", arches=LINUX3, builder=None),
    ),
    library(
        "ubuntu",
        stanza("ubuntu", ("24.04", "noble-20240605", "noble", "latest"), "scratch", builder=None),
    ),
    library(
        "buildpack-deps",
        stanza("buildpack-deps", ("bookworm-curl",), "debian:bookworm", arches=LINUX3),
        stanza("buildpack-deps", ("bookworm-scm",), "buildpack-deps:bookworm-curl", arches=LINUX3),
        stanza("buildpack-deps", ("bookworm",), "buildpack-deps:bookworm-scm", arches=LINUX3),
    ),
    library(
        "python",
        stanza(
            "python",
            ("3.12.7-bookworm", "3.12-bookworm"),
            "buildpack-deps:bookworm",
            arches=LINUX3,
            shared=PY_SHARED,
        ),
        stanza(
            "python",
            ("3.12.7-slim-bookworm", "3.12-slim-bookworm", "3.12.7-slim", "3.12-slim"),
            {
                "amd64": "debian:bookworm-slim",
                "arm64v8": "debian:bookworm-slim",
                "arm32v5": "debian:bullseye-slim",
            },
            arches=LINUX3,
        ),
        stanza(
            "python",
            ("3.12.7-alpine3.20", "3.12-alpine3.20", "3.12.7-alpine", "3.12-alpine"),
            "alpine:3.20",
            arches=("amd64", "arm64v8"),
        ),
        stanza(
            "python",
            ("3.12.7-windowsservercore-ltsc2025", "3.12-windowsservercore-ltsc2025"),
            f"{SERVERCORE}:ltsc2025",
            arches=("windows-amd64",),
            shared=PY_WIN_SHARED,
            builder="classic",
        ),
        stanza(
            "python",
            ("3.12.7-windowsservercore-ltsc2022", "3.12-windowsservercore-ltsc2022"),
            f"{SERVERCORE}:ltsc2022",
            arches=("windows-amd64",),
            shared=PY_WIN_SHARED,
            builder="classic",
        ),
    ),
    library("linuxapp", stanza("linuxapp", ("1.0", "latest"), "python:3.12")),
    library(
        "winapp",
        stanza("winapp", ("1.0", "latest"), "python:3.12", arches=("windows-amd64",)),
    ),
    library("legacy", stanza("legacy", ("1.0", "latest"), "debian:buster", arches=LINUX3)),
    library("twelve", stanza("twelve", ("1.0", "latest"), "debian:12")),
    library(
        "mystery",
        stanza("mystery", ("1.0", "latest"), None, error="FROM ${BASE}: ARG BASE has no default"),
    ),
    library(
        "loopy",
        stanza("loopy", ("a",), "loopy:b"),
        stanza("loopy", ("b",), "loopy:a"),
    ),
    library("noblish", stanza("noblish", ("1.0", "latest"), "ubuntu:latest")),
    library("orphan", stanza("orphan", ("1.0", "latest"), "vanished:1.0")),
)

#: index digests of the Hub tags below
DIGESTS = {
    "3.12-slim": "sha256:" + "1" * 64,
    "3.12": "sha256:" + "4" * 64,
    "3.12-alpine": "sha256:" + "5" * 64,
    "3.12-bookworm": "sha256:" + "4" * 64,
    "3.12-windowsservercore-ltsc2022": "sha256:" + "6" * 64,
    "3.12-windowsservercore-ltsc2025": "sha256:" + "7" * 64,
}

#: compressed sizes per (tag, bashbrew architecture)
SIZES = {
    "3.12-slim": {"amd64": 45_000_000, "arm64v8": 44_000_000, "arm32v5": 40_000_000},
    "3.12-bookworm": {"amd64": 380_000_000, "arm64v8": 370_000_000, "arm32v5": 330_000_000},
    "3.12-alpine": {"amd64": 20_000_000, "arm64v8": 19_500_000},
    "3.12-windowsservercore-ltsc2022": {"windows-amd64": 2_100_000_000},
    "3.12-windowsservercore-ltsc2025": {"windows-amd64": 2_300_000_000},
}


def _images(sizes: Sequence[tuple[str, int]]) -> tuple[HubImageRecord, ...]:
    """Platform images; the digest of a platform image is derived from its size (unique here)."""
    images = []
    for arch, size in sizes:
        os, architecture, variant = hub_platform(arch)
        digest = "sha256:" + hashlib.sha256(f"{arch}/{size}".encode()).hexdigest()
        images.append(HubImageRecord(os, architecture, digest, variant=variant, size=size))
    return tuple(images)


def hub_tag(
    name: str, digest: str, sizes: Sequence[tuple[str, int]], updated: datetime
) -> HubTagRecord:
    return HubTagRecord(
        name=name,
        digest=digest,
        media_type="application/vnd.oci.image.index.v1+json",
        last_updated=updated,
        tag_status="active",
        images=_images(sizes),
    )


UPDATED = datetime(2026, 10, 30, tzinfo=UTC)


def python_hub_tags() -> list[HubTagRecord]:
    """Python's Hub tags: the SharedTag 3.12 joins the Linux and both Windows images."""
    records = [hub_tag(name, DIGESTS[name], list(SIZES[name].items()), UPDATED) for name in SIZES]
    shared = [
        *SIZES["3.12-bookworm"].items(),
        *SIZES["3.12-windowsservercore-ltsc2025"].items(),
        *SIZES["3.12-windowsservercore-ltsc2022"].items(),
    ]
    records.append(hub_tag("3.12", DIGESTS["3.12"], shared, UPDATED))
    return records


def debian_hub_tags() -> list[HubTagRecord]:
    return [
        hub_tag("bookworm", "sha256:" + "a" * 64, [(a, 50_000_000) for a in LINUX3], UPDATED),
        hub_tag("bookworm-slim", "sha256:" + "b" * 64, [(a, 29_000_000) for a in LINUX3], UPDATED),
    ]


async def write_lineage_graph(database_url: str) -> None:
    """Write the graph: the debian file with buster first, then without it (buster retired)."""
    await write_graph(
        database_url,
        (DEBIAN_WITH_BUSTER, DEBIAN, *LIBRARY),
        {"python": python_hub_tags(), "debian": debian_hub_tags()},
        now=NOW,
    )


def load_lineage_graph(database_url: str) -> None:
    asyncio.run(write_lineage_graph(database_url))
