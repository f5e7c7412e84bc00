"""Plain records the store writes: what the sync pipeline (or a test) hands to the store.

They carry no parser or HTTP types, so the store depends on neither. Hub tags are
read through the protocols `HubTagFacts` / `HubImageFacts`, which the records below
and the Hub client's own page structs both satisfy: a sync hands the tags of a page
to the store as they were decoded, without copying tens of thousands of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import msgspec

__all__ = [
    "BuildRecord",
    "BuildWarningFacts",
    "HubImageFacts",
    "HubImageRecord",
    "HubTagFacts",
    "HubTagRecord",
    "LibraryFileRecord",
    "StanzaRecord",
]


class BuildWarningFacts(Protocol):
    """A check BuildKit would report for a build that still builds; the parser's
    ``BuildWarning`` satisfies it, so the store needs no parser type."""

    @property
    def rule(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def message(self) -> str: ...


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
    #: what BuildKit would warn about (and still build), in line order
    warnings: tuple[BuildWarningFacts, ...] = ()


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


class HubImageFacts(Protocol):
    """What the store reads of one platform image of a Hub tag.

    Images without a digest are not stored; a naive time means UTC.
    """

    @property
    def os(self) -> str: ...
    @property
    def architecture(self) -> str: ...
    @property
    def digest(self) -> str | None: ...
    @property
    def variant(self) -> str | None: ...
    @property
    def size(self) -> int | None: ...
    @property
    def status(self) -> str | None: ...
    @property
    def last_pushed(self) -> datetime | None: ...


class HubTagFacts(Protocol):
    """What the store reads of one tag as the Hub's tag API reports it."""

    @property
    def name(self) -> str: ...
    @property
    def digest(self) -> str | None: ...
    @property
    def media_type(self) -> str | None: ...
    @property
    def last_updated(self) -> datetime | None: ...
    @property
    def tag_status(self) -> str | None: ...
    @property
    def images(self) -> Sequence[HubImageFacts]: ...


class HubImageRecord(msgspec.Struct, frozen=True, gc=False):
    """One platform image of a Hub tag, as the Hub names the platform (an image without
    a digest is not stored)."""

    os: str
    architecture: str
    digest: str | None = None
    variant: str | None = None
    size: int | None = None
    status: str | None = None
    last_pushed: datetime | None = None


class HubTagRecord(msgspec.Struct, frozen=True, gc=False):
    """One tag as the Hub's tag API reports it. Msgspec structs, so that the writer's
    page process decodes the pages it is sent straight into them."""

    name: str
    digest: str | None
    media_type: str | None = None
    last_updated: datetime | None = None
    tag_status: str | None = None
    images: tuple[HubImageRecord, ...] = ()
