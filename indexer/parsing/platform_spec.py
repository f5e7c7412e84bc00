"""Platform specifiers as ``containerd/platforms.Parse`` reads them (``FROM --platform``).

``os``, ``arch``, ``os/arch`` or ``os/arch/variant``; each component
``[A-Za-z0-9_.-]+`` (the first may end in ``(osversion)``); no ``*``; one
component must be a known operating system or architecture. Architectures are
normalised as containerd does (``x86_64`` is ``amd64``, ``aarch64`` is ``arm64``).
"""

from __future__ import annotations

import re

__all__ = ["parse_platform"]

_COMPONENT_RE = re.compile(r"[A-Za-z0-9_.-]+")
_OS_RE = re.compile(r"([A-Za-z0-9_.-]+)(?:\(([A-Za-z0-9_.-]*)\))?")
_KNOWN_OS = frozenset(
    [
        "aix",
        "android",
        "darwin",
        "dragonfly",
        "freebsd",
        "hurd",
        "illumos",
        "ios",
        "js",
        "linux",
        "nacl",
        "netbsd",
        "openbsd",
        "plan9",
        "solaris",
        "wasip1",
        "windows",
        "zos",
    ]
)
_KNOWN_ARCH = frozenset(
    [
        "386",
        "amd64",
        "amd64p32",
        "arm",
        "armbe",
        "arm64",
        "arm64be",
        "loong64",
        "mips",
        "mipsle",
        "mips64",
        "mips64le",
        "mips64p32",
        "mips64p32le",
        "ppc",
        "ppc64",
        "ppc64le",
        "riscv",
        "riscv64",
        "s390",
        "s390x",
        "sparc",
        "sparc64",
        "wasm",
    ]
)
_ARCH_ALIASES = {
    "i386": "386",
    "x86_64": "amd64",
    "x86-64": "amd64",
    "aarch64": "arm64",
    "armhf": "arm",
    "armel": "arm",
}


def _normalize_arch(arch: str) -> str:
    arch = arch.lower()
    return _ARCH_ALIASES.get(arch, arch)


def parse_platform(spec: str) -> tuple[str, str]:
    """``(os, architecture)`` of a platform specifier; :class:`ValueError` if invalid."""
    if "*" in spec:
        raise ValueError(f"{spec!r}: wildcards not yet supported")
    parts = spec.split("/", 3)
    if len(parts) > 3:
        raise ValueError(f"{spec!r}: cannot parse platform specifier")
    first = _OS_RE.fullmatch(parts[0])
    if first is None or not all(_COMPONENT_RE.fullmatch(part) for part in parts[1:]):
        raise ValueError(f"{spec!r}: platform specifier component must match [A-Za-z0-9_.-]+")
    os_name = first.group(1).lower()
    if len(parts) == 1:
        if os_name in _KNOWN_OS:
            return os_name, ""
        arch = _normalize_arch(parts[0])
        if arch in _KNOWN_ARCH:
            return "", arch
        raise ValueError(f"{spec!r}: unknown operating system or architecture")
    return os_name, _normalize_arch(parts[1])
