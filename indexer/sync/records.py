"""Conversions from parser and upstream objects to the plain records the store writes."""

from __future__ import annotations

from collections.abc import Sequence

from indexer.parsing.dockerfile_checks import BuildWarning
from indexer.parsing.library_file import ArchBuild, LibraryFile, Stanza
from indexer.store.records import BuildRecord, LibraryFileRecord, StanzaRecord

__all__ = ["build_record", "library_file_record", "stanza_record"]


def build_record(
    build: ArchBuild,
    *,
    parent_ref: str | None,
    froms: Sequence[str] | None,
    error: str | None,
    warnings: Sequence[BuildWarning] = (),
) -> BuildRecord:
    """One architecture of a stanza with its resolved parent, or the reason it has none."""
    return BuildRecord(
        architecture=build.architecture,
        git_repo=build.git_repo,
        git_commit=build.git_commit,
        directory=build.directory,
        file=build.file,
        builder=build.builder,
        git_fetch=build.git_fetch,
        parent_ref=parent_ref,
        froms=tuple(froms) if froms is not None else None,
        error=error,
        warnings=tuple(warnings),
    )


def stanza_record(stanza: Stanza, builds: Sequence[BuildRecord]) -> StanzaRecord:
    """A parsed stanza with its resolved builds (in the stanza's architecture order)."""
    return StanzaRecord(
        tags=stanza.tags,
        builds=tuple(builds),
        shared_tags=stanza.shared_tags,
        constraints=stanza.constraints,
    )


def library_file_record(
    parsed: LibraryFile,
    *,
    blob_sha: str,
    commit_sha: str,
    stanzas: Sequence[StanzaRecord],
) -> LibraryFileRecord:
    """A parsed library file with its resolved stanzas."""
    return LibraryFileRecord(
        name=parsed.name,
        blob_sha=blob_sha,
        commit_sha=commit_sha,
        stanzas=tuple(stanzas),
        maintainers=parsed.maintainers,
        error_count=len(parsed.errors),
    )
