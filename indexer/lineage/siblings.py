"""Which tags of a repository are variants of the same version (``3.12``, ``3.12-slim``, …).

A tag's *version key* is its first dash-separated part: ``3.12-slim-bookworm`` has
key ``3.12``. Siblings of a tag are the stanzas with a name of that key, each shown
by its shortest such name (``3.12``, ``3.12-slim``, ``3.12-alpine``). ``latest``
stands for the shortest numeric key among the stanza's names (``python:latest``
is a ``3`` image).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

__all__ = ["display_name", "has_version_key", "sibling_key", "version_key"]

_NUMERIC_RE = re.compile(r"^\d")
_MOVING_NAMES = frozenset({"latest"})


def version_key(tag: str) -> str:
    """The first dash-separated part of ``tag``."""
    return tag.split("-", 1)[0]


def has_version_key(tag: str, key: str) -> bool:
    """True when ``tag`` is ``key`` or starts with ``key-`` (``3.1`` is not a key of ``3.12``)."""
    return tag == key or tag.startswith(key + "-")


def sibling_key(asked: str, names: Iterable[str]) -> str:
    """The version key to gather siblings by, for the tag ``asked`` of a stanza with ``names``."""
    key = version_key(asked)
    if key not in _MOVING_NAMES:
        return key
    numeric = sorted(
        {version_key(name) for name in names if _NUMERIC_RE.match(name)},
        key=lambda value: (len(value), value),
    )
    return numeric[0] if numeric else key


def display_name(names: Sequence[str], key: str) -> str | None:
    """The shortest of ``names`` with version ``key`` (the first one on a tie), or None."""
    matching = [name for name in names if has_version_key(name, key)]
    if not matching:
        return None
    return min(matching, key=lambda name: (len(name), matching.index(name)))
