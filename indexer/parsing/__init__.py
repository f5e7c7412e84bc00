"""Pure parsers: official-images library files and Dockerfiles (no I/O, no network).

:func:`parse_library_file` turns a library file into stanzas with every
per-architecture override applied; :func:`resolve_dockerfile` (or
:func:`resolve_build` for one library build) turns a Dockerfile into its stages,
its parent, every external image it uses and the warnings BuildKit would report.
"""

from __future__ import annotations

from indexer.parsing.dockerfile import (
    OCI_IMPORT,
    BuildWarning,
    DockerfileResolution,
    Stage,
    platform_args,
    resolve_build,
    resolve_dockerfile,
)
from indexer.parsing.library_file import (
    DEFAULT_ARCHITECTURE,
    ArchBuild,
    LibraryFile,
    Stanza,
    parse_library_file,
)

__all__ = [
    "DEFAULT_ARCHITECTURE",
    "OCI_IMPORT",
    "ArchBuild",
    "BuildWarning",
    "DockerfileResolution",
    "LibraryFile",
    "Stage",
    "Stanza",
    "parse_library_file",
    "platform_args",
    "resolve_build",
    "resolve_dockerfile",
]
