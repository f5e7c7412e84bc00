"""Which tags a library file defines, and from what: just enough parsing for the Hub view.

This is deliberately not the indexer's library-file parser (``indexer.parsing``): the
replay only needs, per tag, the set of ``(architecture, GitCommit, Directory, File)``
it is built from, to decide whether a tag's image changed between two snapshots.

Rules (those of bashbrew, reduced): paragraphs are separated by blank lines, ``#``
lines are comments, a line starting with white space continues the previous field.
The first paragraph holds the file-wide defaults. For each stanza and architecture a
value is looked up as ``<arch>-<Field>`` in the stanza, then ``<Field>`` in the
stanza, then ``<arch>-<Field>`` in the defaults, then ``<Field>`` in the defaults;
``Directory`` defaults to ``.`` and ``File`` to ``Dockerfile``. A tag (Tag or
SharedTag) carried by several stanzas is defined by the union of their entries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

__all__ = [
    "BuildSource",
    "TagBuild",
    "TagDefinition",
    "parse_paragraphs",
    "tag_definitions",
    "tag_sources",
]

#: one architecture of a tag: (architecture, GitCommit, Directory, File)
TagBuild = tuple[str, str, str, str]
#: everything a tag is built from, over all its stanzas and architectures
TagDefinition = frozenset[TagBuild]


def parse_paragraphs(text: str) -> list[dict[str, str]]:
    """The paragraphs of ``text`` as ``{lower-case field name: value}`` dicts."""
    paragraphs: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last_key: str | None = None
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if not line.strip():
            if current:
                paragraphs.append(current)
            current, last_key = {}, None
            continue
        if line[0] in " \t":
            if last_key is not None:
                current[last_key] = f"{current[last_key]} {line.strip()}".strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        last_key = key.strip().lower()
        current[last_key] = value.strip()
    if current:
        paragraphs.append(current)
    return paragraphs


def _split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _lookup(
    field: str, arch: str, stanza: Mapping[str, str], defaults: Mapping[str, str], fallback: str
) -> str:
    for source, key in (
        (stanza, f"{arch}-{field}"),
        (stanza, field),
        (defaults, f"{arch}-{field}"),
        (defaults, field),
    ):
        value = source.get(key)
        if value:
            return value
    return fallback


def tag_definitions(text: str) -> dict[str, TagDefinition]:
    """``{tag: definition}`` for every Tag and SharedTag of the library file ``text``."""
    paragraphs = parse_paragraphs(text)
    if not paragraphs:
        return {}
    defaults, stanzas = paragraphs[0], paragraphs[1:]
    builds: dict[str, set[TagBuild]] = {}
    for stanza in stanzas:
        tags = _split_list(stanza.get("tags", "")) + _split_list(stanza.get("sharedtags", ""))
        if not tags:
            continue
        arches = _split_list(stanza.get("architectures", "") or defaults.get("architectures", ""))
        entries = {
            (
                arch,
                _lookup("gitcommit", arch, stanza, defaults, ""),
                _lookup("directory", arch, stanza, defaults, "."),
                _lookup("file", arch, stanza, defaults, "Dockerfile"),
            )
            for arch in arches or ["amd64"]
        }
        for tag in tags:
            builds.setdefault(tag, set()).update(entries)
    return {tag: frozenset(entries) for tag, entries in builds.items()}


class BuildSource(NamedTuple):
    """Where one architecture of a tag is built from, as the registry annotates it."""

    git_repo: str
    commit: str
    directory: str
    file: str
    builder: str


def tag_sources(text: str) -> dict[str, dict[str, BuildSource]]:
    """``{tag: {architecture: source}}`` of the library file ``text``.

    Where several stanzas carry a tag for the same architecture (a SharedTag on two
    Windows versions), the first in file order wins, as it does for the Hub's index.
    """
    paragraphs = parse_paragraphs(text)
    if not paragraphs:
        return {}
    defaults, stanzas = paragraphs[0], paragraphs[1:]
    sources: dict[str, dict[str, BuildSource]] = {}
    for stanza in stanzas:
        tags = _split_list(stanza.get("tags", "")) + _split_list(stanza.get("sharedtags", ""))
        arches = _split_list(stanza.get("architectures", "") or defaults.get("architectures", ""))
        for arch in arches or ["amd64"]:
            source = BuildSource(
                _lookup("gitrepo", arch, stanza, defaults, ""),
                _lookup("gitcommit", arch, stanza, defaults, ""),
                _lookup("directory", arch, stanza, defaults, "."),
                _lookup("file", arch, stanza, defaults, "Dockerfile"),
                _lookup("builder", arch, stanza, defaults, ""),
            )
            for tag in tags:
                sources.setdefault(tag, {}).setdefault(arch, source)
    return sources
