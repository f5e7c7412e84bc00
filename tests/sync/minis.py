"""Small hand-made corpora for the replay server, in the shared corpus' layout."""

from __future__ import annotations

from pathlib import Path

from tests.sync.helpers import MiniCorpus

COMMIT_A = "a" * 40
COMMIT_B = "b" * 40
PLATFORMS = [("linux", "amd64", None, 30_000_000), ("linux", "arm64", "v8", 29_000_000)]


def app_library(name: str = "app", commit: str = COMMIT_A, owner_repo: str = "example/app") -> str:
    """A two-stanza library file built from one GitHub repository."""
    return f"""Maintainers: Test Person (@test)
GitRepo: https://github.com/{owner_repo}.git

Tags: 1.0, 1, latest
Architectures: amd64, arm64v8
GitCommit: {commit}
Directory: 1

Tags: 1.0-slim, 1-slim, slim
SharedTags: shared
Architectures: amd64
GitCommit: {commit}
Directory: 1/slim
"""


def write_app(corpus: MiniCorpus, name: str = "app", owner_repo: str = "example/app") -> None:
    """Library file, Dockerfile heads and Hub tags of one small image."""
    corpus.library_file(name, app_library(name, owner_repo=owner_repo))
    corpus.dockerfile(owner_repo, COMMIT_A, "1/Dockerfile", "FROM debian:bookworm\n")
    corpus.dockerfile(owner_repo, COMMIT_A, "1/slim/Dockerfile", "FROM debian:bookworm-slim\n")
    corpus.hub(
        name,
        {
            tag: PLATFORMS if not tag.endswith("slim") else PLATFORMS[:1]
            for tag in ("1.0", "1", "latest", "1.0-slim", "1-slim", "slim", "shared")
        },
    )


def commits(root: Path, *snapshots: str) -> None:
    """``COMMITS.txt`` dating the snapshots in the given order, one day apart."""
    lines = ["# role\tcommit\tdate\tfiles"]
    for day, name in enumerate(snapshots, start=1):
        commit = f"{day:x}" * 40
        lines.append(f"{name}\t{commit[:40]}\t2026-01-{day:02d}T00:00:00+00:00\t0")
    (root / "library" / "COMMITS.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
