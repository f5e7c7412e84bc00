"""Platform names: Docker Hub's (os, architecture, variant) and bashbrew's architecture names."""

from __future__ import annotations

__all__ = ["BASHBREW_ARCHES", "bashbrew_arch", "hub_platform"]

#: bashbrew name -> (os, architecture, variant) as the Hub and OCI name the platform
BASHBREW_ARCHES: dict[str, tuple[str, str, str | None]] = {
    "amd64": ("linux", "amd64", None),
    "arm32v5": ("linux", "arm", "v5"),
    "arm32v6": ("linux", "arm", "v6"),
    "arm32v7": ("linux", "arm", "v7"),
    "arm64v8": ("linux", "arm64", "v8"),
    "i386": ("linux", "386", None),
    "mips64le": ("linux", "mips64le", None),
    "ppc64le": ("linux", "ppc64le", None),
    "riscv64": ("linux", "riscv64", None),
    "s390x": ("linux", "s390x", None),
    "windows-amd64": ("windows", "amd64", None),
}


def bashbrew_arch(os: str, architecture: str, variant: str | None) -> str:
    """The bashbrew name of a Hub platform (``linux/arm/v7`` -> ``arm32v7``).

    A platform bashbrew has no name for is spelled ``os-architecture[-variant]``
    (or ``architecture[variant]`` on Linux), so nothing is lost.
    """
    variant = variant or None
    if os == "windows":
        return f"windows-{architecture}"
    if architecture == "arm64" and variant in (None, "v8"):
        return "arm64v8"
    if architecture == "arm" and variant is not None:
        return f"arm32{variant}"
    if architecture == "386":
        return "i386"
    if os == "linux":
        return architecture + (variant or "")
    return f"{os}-{architecture}" + (f"-{variant}" if variant else "")


def hub_platform(arch: str) -> tuple[str, str, str | None]:
    """``(os, architecture, variant)`` of a bashbrew architecture name."""
    try:
        return BASHBREW_ARCHES[arch]
    except KeyError:
        raise ValueError(f"unknown bashbrew architecture {arch!r}") from None
