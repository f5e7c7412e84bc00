"""What a sync of a corpus snapshot must store, computed from the corpus files themselves."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import DockerfileError
from indexer.parsing.dockerfile import OCI_IMPORT, resolve_build
from indexer.parsing.library_file import LibraryFile, parse_library_file
from indexer.replay import Corpus
from indexer.replay.registry_images import published_images

GITHUB = "https://github.com/"


@dataclass(frozen=True)
class ExpectedBuild:
    """One (repository, canonical tag, architecture) and its parent, or why there is none."""

    parent: str | None
    #: the Dockerfile path under dockerfiles/ (None for oci-import and foreign hosts)
    head: str | None
    #: "ok", "missing", "oci-import", "unsupported" or "unparsable"
    kind: str


def library_files(corpus: Corpus, snapshot: str) -> dict[str, LibraryFile]:
    """Every library file of the snapshot, parsed."""
    return {
        name: parse_library_file(name, (corpus.library_file(snapshot, name) or b"").decode())
        for name in sorted(corpus.library_names(snapshot))
    }


def head_path(git_repo: str, commit: str, directory: str, file: str) -> str | None:
    """``owner/repo/commit/dir/file`` of a GitHub build (the dockerfiles/ layout)."""
    if not git_repo.startswith(GITHUB):
        return None
    owner_repo = git_repo.removeprefix(GITHUB).rstrip("/").removesuffix(".git")
    parts = [owner_repo, commit, *(p for p in directory.split("/") if p not in ("", ".")), file]
    return "/".join(parts)


def expected_builds(
    corpus: Corpus, files: dict[str, LibraryFile]
) -> dict[tuple[str, str, str], ExpectedBuild]:
    """The parent of every build, resolved from the corpus' Dockerfile heads."""
    expected = {}
    for name, parsed in files.items():
        for stanza in parsed.stanzas:
            for build in stanza.builds:
                key = (name, stanza.tags[0], build.architecture)
                if build.builder == OCI_IMPORT:
                    expected[key] = ExpectedBuild("scratch", None, "oci-import")
                    continue
                path = head_path(build.git_repo, build.git_commit, build.directory, build.file)
                if path is None:
                    expected[key] = ExpectedBuild(None, None, "unsupported")
                    continue
                data = corpus.dockerfile(path.split("/"))
                if data is None:
                    expected[key] = ExpectedBuild(None, path, "missing")
                    continue
                try:
                    resolution = resolve_build(
                        build.builder, data.decode(), architecture=build.architecture
                    )
                except DockerfileError:
                    expected[key] = ExpectedBuild(None, path, "unparsable")
                    continue
                expected[key] = ExpectedBuild(resolution.parent, path, "ok")
    return expected


def oracle_parents(corpus_dir: Path, snapshot: str) -> dict[tuple[str, str, str], str]:
    """``lastStageFrom`` of the oracle, by (repository, tag, architecture), Tags only."""
    parents = {}
    with gzip.open(corpus_dir / "oracle.jsonl.gz", "rt", encoding="utf-8") as stream:
        for line in stream:
            row = json.loads(line)
            if row["snapshot"] != snapshot or row["shared"] or row["lastStageFrom"] is None:
                continue
            parents[row["repository"], row["tag"], row["arch"]] = row["lastStageFrom"]
    return parents


#: a platform image: os, architecture, variant, digest, size
PlatformImage = tuple[str, str, str | None, str, int]


def expected_hub(
    corpus: Corpus, snapshot: str, repositories: list[str]
) -> dict[tuple[str, str], tuple[str, set[PlatformImage]]]:
    """(repository, tag) -> (index digest, its platform images).

    A set, not a map by platform: a Windows tag has one image per Windows release, all
    ``windows/amd64``."""
    hub = {}
    for repository in repositories:
        for view in published_images(corpus).views(snapshot, repository):
            images = {
                (image.os, image.architecture, image.variant, image.digest, image.size)
                for image in view.images
            }
            hub[repository, view.name] = (view.digest, images)
    return hub
