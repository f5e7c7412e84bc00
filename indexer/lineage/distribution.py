"""The base distribution and release an image ends on, read from its ancestor chain.

The chain is given nearest first as :class:`ChainNode` values: the image itself,
then each ancestor. A node carries every name the index knows for it (all Tags of
its stanza), so ``ubuntu:latest`` is still recognised as Ubuntu 24.04 "noble".
The deepest node that is a known distribution wins (``python:3.12`` ->
``buildpack-deps:bookworm`` -> … -> ``debian:bookworm`` gives Debian 12). A chain
that ends at ``scratch`` with no distribution on the way answers ``scratch``. When
the chain is broken (a parent could not be resolved), the release is inferred from
tag names (``3.12-slim-bookworm``) and marked ``inferred``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from indexer.errors import ImageReferenceError
from indexer.refs import SCRATCH, parse_ref

__all__ = [
    "DEBIAN_RELEASES",
    "UBUNTU_RELEASES",
    "BaseDistribution",
    "ChainNode",
    "detect_distribution",
    "recognise_node",
]

#: Debian codename -> release number (suites such as ``stable`` are kept by name)
DEBIAN_RELEASES: dict[str, str] = {
    "jessie": "8",
    "stretch": "9",
    "buster": "10",
    "bullseye": "11",
    "bookworm": "12",
    "trixie": "13",
    "forky": "14",
    "duke": "15",
    "sid": "unstable",
}
_DEBIAN_SUITES = frozenset(
    {"oldoldstable", "oldstable", "stable", "testing", "unstable", "experimental", "rc-buggy"}
)

#: Ubuntu codename -> release number
UBUNTU_RELEASES: dict[str, str] = {
    "trusty": "14.04",
    "xenial": "16.04",
    "bionic": "18.04",
    "focal": "20.04",
    "jammy": "22.04",
    "kinetic": "22.10",
    "lunar": "23.04",
    "mantic": "23.10",
    "noble": "24.04",
    "oracular": "24.10",
    "plucky": "25.04",
    "questing": "25.10",
    "resolute": "26.04",
}
_UBUNTU_CODENAMES = {release: codename for codename, release in UBUNTU_RELEASES.items()}

#: Windows container base repositories -> display name and family
_WINDOWS_BASES: dict[str, tuple[str, str]] = {
    "mcr.microsoft.com/windows/servercore": ("Windows Server Core", "windowsservercore"),
    "mcr.microsoft.com/windows/nanoserver": ("Windows Nano Server", "nanoserver"),
    "mcr.microsoft.com/windows/server": ("Windows Server", "windowsserver"),
    "mcr.microsoft.com/windows": ("Windows", "windows"),
    "microsoft/windowsservercore": ("Windows Server Core", "windowsservercore"),
    "microsoft/nanoserver": ("Windows Nano Server", "nanoserver"),
}
#: Windows build number -> release name (``10.0.20348.2700`` is LTSC 2022)
_WINDOWS_BUILDS = {
    "14393": "LTSC 2016",
    "17763": "LTSC 2019",
    "20348": "LTSC 2022",
    "26100": "LTSC 2025",
}

#: other glibc distributions published as official images (repository -> display name)
_GLIBC_DISTRIBUTIONS: dict[str, str] = {
    "almalinux": "AlmaLinux",
    "alt": "ALT Linux",
    "amazonlinux": "Amazon Linux",
    "archlinux": "Arch Linux",
    "centos": "CentOS",
    "clearlinux": "Clear Linux",
    "fedora": "Fedora",
    "mageia": "Mageia",
    "oraclelinux": "Oracle Linux",
    "photon": "Photon OS",
    "rockylinux": "Rocky Linux",
    "sl": "Scientific Linux",
}
_UBI_RE = re.compile(r"^(?:registry\.access\.redhat\.com/|redhat/)ubi(\d+)(?:-([a-z]+))?$")
_LIBC_TOKENS = ("glibc", "musl", "uclibc")
_VERSION_RE = re.compile(r"^\d+(?:\.\d+)*$")
_LTSC_RE = re.compile(r"^ltsc(\d{4})$")
_ALPINE_TOKEN_RE = re.compile(r"^alpine(\d+\.\d+)?$")


@dataclass(frozen=True, slots=True)
class ChainNode:
    """One image of a chain: its normalised reference and every name the index knows for it."""

    ref: str
    names: tuple[str, ...] = ()

    @property
    def repository(self) -> str:
        try:
            return parse_ref(self.ref, default_tag=None).repository
        except ImageReferenceError:
            return self.ref

    @property
    def all_names(self) -> tuple[str, ...]:
        """The node's names, its own tag first."""
        own = _tag_of(self.ref)
        if own is None or own in self.names:
            return self.names
        return (own, *self.names)


@dataclass(frozen=True, slots=True)
class BaseDistribution:
    """Where an image ends: a distribution and release, ``scratch``, or a Windows base."""

    #: stable machine name: debian, ubuntu, alpine, busybox, windowsservercore, nanoserver, scratch, …
    family: str
    #: display name: Debian, Alpine, Windows Server Core, …
    name: str
    #: ``12``, ``3.20``, ``24.04``, ``LTSC 2022``; None when the names do not tell
    release: str | None = None
    codename: str | None = None
    #: the image it was read from (``debian:bookworm-slim``); None when inferred from tag names
    ref: str | None = None
    #: read from tag names because the ancestor chain is broken
    inferred: bool = False
    #: glibc, musl or uclibc; None for Windows and scratch
    c_library: str | None = None

    @property
    def label(self) -> str:
        """``Debian 12 "bookworm"``, ``Alpine 3.20``, ``Windows Server Core LTSC 2022``, ``scratch``."""
        text = self.name
        if self.release is not None:
            text += f" {self.release}"
        if self.codename is not None and self.codename != self.release:
            text += f' "{self.codename}"'
        return text

    def as_json(self) -> dict[str, object]:
        return {
            "family": self.family,
            "name": self.name,
            "release": self.release,
            "codename": self.codename,
            "label": self.label,
            "ref": self.ref,
            "inferred": self.inferred,
            "c_library": self.c_library,
        }


def _tag_of(ref: str) -> str | None:
    try:
        return parse_ref(ref, default_tag=None).tag
    except ImageReferenceError:
        return None


def _tokens(names: Iterable[str]) -> list[str]:
    return [token for name in names for token in name.split("-") if token]


def _first_tokens(names: Iterable[str]) -> list[str]:
    return [name.split("-", 1)[0] for name in names]


def _debian(node: ChainNode) -> BaseDistribution:
    names = node.all_names
    codename = next((t for t in _first_tokens(names) if t in DEBIAN_RELEASES), None)
    release = DEBIAN_RELEASES[codename] if codename else None
    if release is None:
        number = next((t for t in _first_tokens(names) if _VERSION_RE.match(t)), None)
        if number is not None:
            release = number.split(".")[0]
            codename = next((c for c, r in DEBIAN_RELEASES.items() if r == release), None)
    if release is None:
        suite = next((t for t in _first_tokens(names) if t in _DEBIAN_SUITES), None)
        release = suite
    return BaseDistribution("debian", "Debian", release, codename, ref=node.ref, c_library="glibc")


def _ubuntu(node: ChainNode) -> BaseDistribution:
    firsts = _first_tokens(node.all_names)
    release = next((t for t in firsts if t in _UBUNTU_CODENAMES), None)
    codename = next((t for t in firsts if t in UBUNTU_RELEASES), None)
    if release is None and codename is not None:
        release = UBUNTU_RELEASES[codename]
    if codename is None and release is not None:
        codename = _UBUNTU_CODENAMES.get(release)
    return BaseDistribution("ubuntu", "Ubuntu", release, codename, ref=node.ref, c_library="glibc")


def _minor_release(names: Sequence[str]) -> str | None:
    """``3.20`` from names such as ``3.20.3``, ``3.20``, ``3``; ``edge`` when that is all."""
    firsts = _first_tokens(names)
    exact = [t for t in firsts if re.match(r"^\d+\.\d+$", t)]
    if exact:
        return exact[0]
    longer = [t for t in firsts if re.match(r"^\d+\.\d+\.", t)]
    if longer:
        return ".".join(longer[0].split(".")[:2])
    return next((t for t in firsts if t in ("edge",)), None)


def _alpine(node: ChainNode) -> BaseDistribution:
    return BaseDistribution(
        "alpine", "Alpine", _minor_release(node.all_names), ref=node.ref, c_library="musl"
    )


def _busybox(node: ChainNode) -> BaseDistribution:
    tokens = _tokens(node.all_names)
    libc = next((t for t in _LIBC_TOKENS if t in tokens), "glibc")
    return BaseDistribution(
        "busybox", "BusyBox", _minor_release(node.all_names), ref=node.ref, c_library=libc
    )


def _windows_release(tag: str | None) -> str | None:
    if tag is None:
        return None
    ltsc = _LTSC_RE.match(tag)
    if ltsc:
        return f"LTSC {ltsc.group(1)}"
    parts = tag.split(".")
    if len(parts) >= 3 and parts[0] == "10" and parts[2] in _WINDOWS_BUILDS:
        return _WINDOWS_BUILDS[parts[2]]
    return tag if tag != "latest" else None


def _generic(node: ChainNode, name: str) -> BaseDistribution:
    firsts = [t for t in _first_tokens(node.all_names) if re.match(r"^\d", t)]
    release = min(firsts, key=len) if firsts else None
    if release is not None:
        release = re.sub(r"[^0-9.].*$", "", release) or release
    return BaseDistribution(node.repository, name, release, ref=node.ref, c_library="glibc")


def recognise_node(node: ChainNode) -> BaseDistribution | None:
    """The distribution ``node`` is, when it is one (not ``scratch``)."""
    repository = node.repository
    if repository == "debian":
        return _debian(node)
    if repository == "ubuntu":
        return _ubuntu(node)
    if repository == "alpine":
        return _alpine(node)
    if repository == "busybox":
        return _busybox(node)
    if repository in _WINDOWS_BASES:
        name, family = _WINDOWS_BASES[repository]
        return BaseDistribution(family, name, _windows_release(_tag_of(node.ref)), ref=node.ref)
    if repository in _GLIBC_DISTRIBUTIONS:
        return _generic(node, _GLIBC_DISTRIBUTIONS[repository])
    ubi = _UBI_RE.match(repository)
    if ubi:
        return BaseDistribution(
            "ubi", "Red Hat UBI", ubi.group(1), ubi.group(2), ref=node.ref, c_library="glibc"
        )
    return None


def _infer_from_names(nodes: Sequence[ChainNode]) -> BaseDistribution | None:
    """A release named in the tags themselves (``3.12-slim-bookworm``, ``…-alpine3.20``)."""
    for node in nodes:
        tokens = _tokens(node.all_names)
        for index, token in enumerate(tokens):
            if token in DEBIAN_RELEASES:
                return BaseDistribution(
                    "debian",
                    "Debian",
                    DEBIAN_RELEASES[token],
                    token,
                    inferred=True,
                    c_library="glibc",
                )
            if token in UBUNTU_RELEASES:
                return BaseDistribution(
                    "ubuntu",
                    "Ubuntu",
                    UBUNTU_RELEASES[token],
                    token,
                    inferred=True,
                    c_library="glibc",
                )
            alpine = _ALPINE_TOKEN_RE.match(token)
            if alpine:
                return BaseDistribution(
                    "alpine", "Alpine", alpine.group(1), inferred=True, c_library="musl"
                )
            if token in ("windowsservercore", "nanoserver"):
                following = tokens[index + 1] if index + 1 < len(tokens) else None
                name = (
                    "Windows Server Core" if token == "windowsservercore" else "Windows Nano Server"
                )
                return BaseDistribution(token, name, _windows_release(following), inferred=True)
    return None


def detect_distribution(nodes: Sequence[ChainNode]) -> BaseDistribution | None:
    """The base distribution of the chain ``nodes`` (the image itself first, then its ancestors).

    The deepest recognised distribution wins; a chain ending at ``scratch`` with none
    on the way is ``scratch``; a chain that ends anywhere else falls back to release
    names in the tags (``inferred``). None when nothing tells.
    """
    for node in reversed(nodes):
        if node.ref == SCRATCH:
            continue
        found = recognise_node(node)
        if found is not None:
            return found
    if nodes and nodes[-1].ref == SCRATCH:
        return BaseDistribution("scratch", SCRATCH, ref=SCRATCH)
    return _infer_from_names(nodes)
