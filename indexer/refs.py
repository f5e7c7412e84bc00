"""Image references: parsing and the normal form used everywhere in the index.

The normal form (CONTRACT §2): strip ``docker.io/`` (and its legacy spellings) and
``library/``, add ``:latest`` when there is neither tag nor digest, keep a digest
(``debian:bookworm@sha256:...``), keep other registries as written
(``mcr.microsoft.com/windows/servercore:ltsc2022``). ``scratch`` stays ``scratch``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.errors import ImageReferenceError

__all__ = ["SCRATCH", "ImageRef", "normalize_ref", "parse_ref", "split_ref"]

SCRATCH = "scratch"

_DOCKER_HUB_DOMAINS = ("docker.io", "index.docker.io", "registry-1.docker.io")
# ASCII: Docker's tag grammar is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}, not Unicode \w
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$", re.ASCII)
_DIGEST_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$")
_COMPONENT_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A parsed image reference. ``repository`` is already in short form."""

    repository: str
    tag: str | None
    digest: str | None = None

    def __str__(self) -> str:
        if self.repository == SCRATCH and self.tag is None and self.digest is None:
            return SCRATCH
        text = self.repository
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    @property
    def is_scratch(self) -> bool:
        return self.repository == SCRATCH

    @property
    def is_official(self) -> bool:
        """True for a Docker Hub official image (no registry, no namespace)."""
        return "/" not in self.repository and not self.is_scratch


def _has_domain(first: str) -> bool:
    return "." in first or ":" in first or first == "localhost"


def parse_ref(text: str, *, default_tag: str | None = "latest") -> ImageRef:
    """Parse ``text`` into an :class:`ImageRef` in normal form.

    ``default_tag`` is added when the reference has neither tag nor digest
    (``None`` keeps it tagless). Raises :class:`ImageReferenceError` on nonsense.
    """
    ref = text.strip()
    if not ref or any(ch.isspace() for ch in ref):
        raise ImageReferenceError(f"not an image reference: {text!r}")
    digest: str | None = None
    if "@" in ref:
        ref, digest = ref.split("@", 1)
        if not _DIGEST_RE.match(digest):
            raise ImageReferenceError(f"malformed digest in {text!r}")
    name, tag = ref, None
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        name, tag = ref[:colon], ref[colon + 1 :]
        if not _TAG_RE.match(tag):
            raise ImageReferenceError(f"malformed tag {tag!r} in {text!r}")
    if not name:
        raise ImageReferenceError(f"not an image reference: {text!r}")
    parts = name.split("/")
    if len(parts) > 1 and _has_domain(parts[0]):
        domain, path = parts[0], parts[1:]
        if domain.lower() in _DOCKER_HUB_DOMAINS:
            domain = ""
    else:
        domain, path = "", parts
    if not domain and len(path) == 2 and path[0] == "library":
        path = path[1:]
    if not all(_COMPONENT_RE.match(component) for component in path):
        raise ImageReferenceError(f"malformed repository name in {text!r}")
    repository = "/".join([domain, *path]) if domain else "/".join(path)
    if repository == SCRATCH and tag is None and digest is None:
        return ImageRef(SCRATCH, None)
    if tag is None and digest is None:
        tag = default_tag
    return ImageRef(repository, tag, digest)


def normalize_ref(text: str) -> str:
    """The normal form of an image reference as a string."""
    return str(parse_ref(text))


def split_ref(text: str) -> tuple[str, str | None]:
    """``(repository, tag)`` of a reference; ``scratch`` gives ``("scratch", None)``."""
    ref = parse_ref(text, default_tag=None)
    return ref.repository, ref.tag
