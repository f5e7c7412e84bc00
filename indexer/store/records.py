"""Plain records the store writes: what the sync pipeline (or a test) hands to the store.

They carry no parser or HTTP types, so the store depends on neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "BuildRecord",
    "HubImageRecord",
    "HubTagRecord",
    "LibraryFileRecord",
    "StanzaRecord",
]


@dataclass(frozen=True, slots=True)
class BuildRecord:
    """One architecture of one stanza, with its resolved parent (or the reason there is none)."""

    architecture: str
    git_repo: str
    git_commit: str
    directory: str = "."
    file: str = "Dockerfile"
    builder: str | None = None
    git_fetch: str = "refs/heads/master"
    #: normalised parent reference, ``scratch``, or None when unresolved
    parent_ref: str | None = None
    froms: tuple[str, ...] | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class StanzaRecord:
    """One library stanza; its first tag is its canonical name."""

    tags: tuple[str, ...]
    builds: tuple[BuildRecord, ...]
    shared_tags: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()

    @property
    def canonical_tag(self) -> str:
        return self.tags[0] if self.tags else self.shared_tags[0]

    @property
    def architectures(self) -> tuple[str, ...]:
        return tuple(build.architecture for build in self.builds)


@dataclass(frozen=True, slots=True)
class LibraryFileRecord:
    """A library file as read at one commit: its valid stanzas, in file order."""

    name: str
    blob_sha: str
    commit_sha: str
    stanzas: tuple[StanzaRecord, ...]
    maintainers: tuple[str, ...] = ()
    error_count: int = 0


@dataclass(frozen=True, slots=True)
class HubImageRecord:
    """One platform image of a Hub tag, as the Hub names the platform."""

    os: str
    architecture: str
    digest: str
    variant: str | None = None
    size: int | None = None
    status: str | None = None
    last_pushed: datetime | None = None


@dataclass(frozen=True, slots=True)
class HubTagRecord:
    """One tag as the Hub's tag API reports it."""

    name: str
    digest: str | None
    media_type: str | None = None
    last_updated: datetime | None = None
    tag_status: str | None = None
    images: tuple[HubImageRecord, ...] = field(default=())
