"""The variant of an image (full, slim, alpine, windowsservercore, nanoserver) and its C library.

Read from the image's own tag names first (``3.12-slim-bookworm`` is slim,
``3.12-alpine3.20`` is alpine), then from its base distribution (``alpine:3.20``
itself is alpine; an image on Windows Server Core is windowsservercore).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from indexer.lineage.distribution import BaseDistribution

__all__ = ["VARIANTS", "classify_c_library", "classify_variant"]

VARIANTS = ("full", "slim", "alpine", "windowsservercore", "nanoserver")

_ALPINE_TOKEN_RE = re.compile(r"^alpine(\d+(?:\.\d+)*)?$")
_LIBC_TOKENS = ("musl", "glibc", "uclibc")


def _tokens(names: Iterable[str]) -> set[str]:
    return {token for name in names for token in name.split("-") if token}


def classify_variant(names: Iterable[str], base: BaseDistribution | None) -> str:
    """One of :data:`VARIANTS` for an image with tag ``names`` on ``base``."""
    tokens = _tokens(names)
    if "windowsservercore" in tokens:
        return "windowsservercore"
    if "nanoserver" in tokens:
        return "nanoserver"
    if any(_ALPINE_TOKEN_RE.match(token) for token in tokens):
        return "alpine"
    if "slim" in tokens:
        return "slim"
    if base is not None and base.family in ("alpine", "windowsservercore", "nanoserver"):
        return base.family
    return "full"


def classify_c_library(names: Iterable[str], base: BaseDistribution | None) -> str | None:
    """glibc, musl or uclibc; None for Windows, ``scratch`` and unknown bases."""
    tokens = _tokens(names)
    for libc in _LIBC_TOKENS:
        if libc in tokens:
            return libc
    if base is not None and base.c_library is not None:
        return base.c_library
    if any(_ALPINE_TOKEN_RE.match(token) for token in tokens):
        return "musl"
    return None
