"""Synthetic Hub tags: N more deterministic tags per repository, for runs at Docker Hub's scale.

Docker Hub keeps every tag ever pushed: the real ``library`` namespace has hundreds of
thousands of tags, far more than the library files name. ``indexer replay
--synthetic-tags N`` appends N tags to every repository the replayed Hub serves, each a
pure function of (repository, index):

- name ``synthetic-<index>`` (``synthetic-00000`` …); no library file lists them;
- index digest, and per platform image a digest, from ``sha256("synthetic|…")``;
- three to six platforms from :data:`PLATFORMS`, sizes of 2 to 500 MB;
- times before every corpus time (from :data:`EPOCH` back, one hour per index), so
  with ``ordering=last_updated`` they come after the real tags, on the last pages,
  like old tags do on the real Hub.

They do not depend on the snapshot: switching snapshots leaves them as they are, so a
no-change sync stays a no-change sync.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import overload

from indexer.replay.corpus import HUB_TIME_FORMAT
from indexer.replay.hub_view import HubImageView, HubTagView

__all__ = ["EPOCH", "PLATFORMS", "TagEntries", "synthetic_tag"]

#: the newest synthetic time; older than every time in the corpus
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
#: (os, architecture, variant) of the synthetic platform images, in this order
PLATFORMS = (
    ("linux", "amd64", None),
    ("linux", "arm64", "v8"),
    ("linux", "arm", "v7"),
    ("linux", "386", None),
    ("linux", "ppc64le", None),
    ("linux", "s390x", None),
)
_INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
_IMAGE_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"


def _digest(*parts: object) -> str:
    return (
        "sha256:" + hashlib.sha256("|".join(map(str, ("synthetic", *parts))).encode()).hexdigest()
    )


def synthetic_tag(repository: str, index: int) -> HubTagView:
    """Synthetic tag number ``index`` of ``repository`` (a pure function of both)."""
    seed = int(_digest(repository, index)[7:15], 16)
    pushed = (EPOCH - timedelta(hours=index)).strftime(HUB_TIME_FORMAT)
    images = tuple(
        HubImageView(
            os=os_name,
            architecture=architecture,
            variant=variant,
            digest=_digest(repository, index, os_name, architecture, variant),
            size=2_000_000 + (seed >> slot) % 498_000_000,
            media_type=_IMAGE_MEDIA_TYPE,
            last_pushed=pushed,
        )
        for slot, (os_name, architecture, variant) in enumerate(PLATFORMS[: 3 + seed % 4])
    )
    return HubTagView(
        name=f"synthetic-{index:05d}",
        digest=_digest(repository, index),
        media_type=_INDEX_MEDIA_TYPE,
        last_updated=pushed,
        images=images,
        seen_in="synthetic",
        from_corpus=False,
    )


class TagEntries(Sequence[bytes]):
    """A repository's rendered tag entries: the real ones, then ``count`` synthetic ones,
    each rendered (by ``render``) only when a page asks for it."""

    def __init__(self, real: list[bytes], count: int, render: Callable[[int], bytes]) -> None:
        self._real = real
        self._count = count
        self._render = render

    def __len__(self) -> int:
        return len(self._real) + self._count

    @overload
    def __getitem__(self, index: int) -> bytes: ...
    @overload
    def __getitem__(self, index: slice) -> list[bytes]: ...
    def __getitem__(self, index: int | slice) -> bytes | list[bytes]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        real = len(self._real)
        return self._real[index] if index < real else self._render(index - real)

    def __iter__(self) -> Iterator[bytes]:
        return (self[i] for i in range(len(self)))
