"""``indexer children REF [--recursive]``: the maintained images built on REF, one row per stanza."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from indexer.platforms import BASHBREW_ARCHES
from indexer.store.queries.builds import stale_marks
from indexer.store.queries.descendants import descendant_stanzas
from indexer.store.queries.lookup import answering_stanzas, resolve_tag
from indexer.store.read import Reader

__all__ = ["ChildRow", "children"]

_KNOWN_ARCHES = {arch: index for index, arch in enumerate(BASHBREW_ARCHES)}


def _arch_order(arch: str) -> tuple[int, str]:
    """Architectures in bashbrew's order (amd64, arm32v5, …, s390x, windows-amd64)."""
    return (_KNOWN_ARCHES.get(arch, len(_KNOWN_ARCHES)), arch)


@dataclass(frozen=True, slots=True)
class ChildRow:
    """A stanza built on the queried tag (``depth`` 1) or on one of its descendants."""

    repository: str
    tag: str
    aliases: list[str]
    #: the architectures built on the queried lineage (a child may use other parents elsewhere),
    #: in bashbrew's order
    architectures: list[str]
    #: the first of ``parents``
    parent: str
    depth: int
    #: every distinct parent reference of those architectures, sorted
    parents: list[str]
    #: the architectures whose published image sits on an outdated base build
    stale: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "tag": self.tag,
            "aliases": self.aliases,
            "architectures": self.architectures,
            "parent": self.parent,
            "parents": self.parents,
            "depth": self.depth,
            "stale": self.stale,
        }


async def children(reader: Reader, ref: str, *, recursive: bool = False) -> list[ChildRow]:
    """Stanzas built directly (or, with ``recursive``, transitively) on REF, nearest first."""
    resolved = await resolve_tag(reader, ref)
    roots = [stanza.id for stanza in await answering_stanzas(reader, resolved)]
    found = await descendant_stanzas(
        reader, roots, tag_id=None if roots else resolved.tag_id, recursive=recursive
    )
    found.sort(key=lambda s: (s.depth, s.repository, s.position))
    # the same few architecture and parent lists come back on most rows: sort each once
    arches_sorted: dict[tuple[str, ...], list[str]] = {}
    parents_sorted: dict[tuple[str, ...], list[str]] = {}
    result = []
    for stanza in found:
        arches = arches_sorted.get(stanza.architectures)
        if arches is None:
            arches = arches_sorted[stanza.architectures] = sorted(
                stanza.architectures, key=_arch_order
            )
        parents = parents_sorted.get(stanza.parent_refs)
        if parents is None:
            parents = parents_sorted[stanza.parent_refs] = sorted(stanza.parent_refs)
        result.append(
            ChildRow(
                repository=stanza.repository,
                tag=stanza.canonical_tag,
                aliases=list(stanza.tags),
                architectures=list(arches),
                parent=parents[0] if parents else "",
                depth=stanza.depth,
                parents=list(parents),
            )
        )
    marks = await stale_marks(reader, [(row.repository, row.tag) for row in result])
    if not marks:
        return result
    return [
        dataclasses.replace(
            row,
            stale=[a for a in row.architectures if (row.repository, row.tag, a) in marks],
        )
        for row in result
    ]
