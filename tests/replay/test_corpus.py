"""The corpus reader: snapshots, blob ids, tag definitions, safe Dockerfile paths."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from indexer.replay import Corpus, CorpusError, UnknownSnapshotError, git_blob_sha, tag_definitions

ROOT_HEAD = ("clearlinux", "docker-brew-clearlinux", "68e01605e9214b1884687b702416befa1cfe74cb")


def test_git_blob_sha_matches_git() -> None:
    assert git_blob_sha(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"
    assert git_blob_sha(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"


def test_opening_is_cheap(corpus_dir: Path) -> None:
    started = time.perf_counter()
    Corpus(corpus_dir)
    assert time.perf_counter() - started < 1.0


def test_snapshots_follow_commits_txt(corpus: Corpus, corpus_dir: Path) -> None:
    names = [s.name for s in corpus.snapshots]
    assert names == ["meta-2024", "dense-previous", "dense-current", "previous", "current"]
    assert corpus.snapshot("current").commit == "37079fb336f572a88700cf32e5e1f6be54a04e8f"
    assert corpus.snapshot_for_commit("4d0d17bacb98500a1c0157f9c9000df63bfa1704") == (
        corpus.snapshot("dense-current")
    )
    folders = {p.name for p in (corpus_dir / "library").iterdir() if p.is_dir()}
    assert set(names) == folders
    with pytest.raises(UnknownSnapshotError):
        corpus.snapshot("nope")


def test_blobs_tsv_equals_git_blob_ids_of_the_bytes(corpus: Corpus) -> None:
    for snapshot in corpus.snapshots:
        blobs = corpus.library_blobs(snapshot.name)
        assert len(blobs) == len(corpus.library_names(snapshot.name)) > 100
        for blob in blobs:
            data = corpus.library_file(snapshot.name, blob.name)
            assert data is not None
            assert (blob.sha, blob.size) == (git_blob_sha(data), len(data))
            assert corpus.recorded_blob(snapshot.name, blob.name) == (blob.sha, blob.size)


def test_tag_definitions_inherit_and_override() -> None:
    text = """# comment
Maintainers: someone
GitRepo: https://github.com/o/r.git
GitCommit: aaaa
amd64-GitCommit: bbbb
Architectures: amd64, arm64v8

Tags: 1.0, 1,
 latest
SharedTags: shared
Directory: one

Tags: 1.0-win
SharedTags: shared
Architectures: windows-amd64
GitCommit: cccc
windows-amd64-Directory: win
File: Dockerfile.win
"""
    definitions = tag_definitions(text)
    assert set(definitions) == {"1.0", "1", "latest", "1.0-win", "shared"}
    assert definitions["latest"] == {
        ("amd64", "bbbb", "one", "Dockerfile"),
        ("arm64v8", "aaaa", "one", "Dockerfile"),
    }
    assert definitions["1.0-win"] == {("windows-amd64", "cccc", "win", "Dockerfile.win")}
    assert definitions["shared"] == definitions["1.0"] | definitions["1.0-win"]
    assert tag_definitions("# only a comment\n") == {}


def test_tag_definitions_of_a_real_file(corpus: Corpus) -> None:
    debian = corpus.tag_definitions("dense-current", "debian")
    (amd64,) = [b for b in debian["bookworm"] if b[0] == "amd64"]
    assert amd64 == (
        "amd64",
        "188606311c383852312693d370f97ecfbbc6ac35",
        "bookworm/oci",
        "index.json",
    )
    assert corpus.tag_definitions("dense-current", "no-such-image") == {}


def test_dockerfile_paths_root_directory_and_traversal(corpus: Corpus) -> None:
    head = corpus.dockerfile([*ROOT_HEAD, "Dockerfile"])
    assert head is not None
    assert head.startswith(b"FROM")
    assert corpus.dockerfile([*ROOT_HEAD, ".", "Dockerfile"]) == head
    assert corpus.dockerfile([*ROOT_HEAD, "", "Dockerfile"]) == head
    for bad in (
        [*ROOT_HEAD, "..", "..", "..", "MISSING.tsv"],
        ["..", "library", "COMMITS.txt", "x"],
        [*ROOT_HEAD, "x/../Dockerfile"],
        [*ROOT_HEAD, "Dockerfile\0"],
        ["MISSING.tsv"],
        [*ROOT_HEAD],
    ):
        assert corpus.dockerfile(bad) is None, bad


def test_minimal_corpus_and_symlinks_out(tmp_path: Path) -> None:
    (tmp_path / "library" / "only").mkdir(parents=True)
    (tmp_path / "library" / "only" / "hello").write_text("Maintainers: x\n")
    secret = tmp_path / "secret"
    secret.write_text("FROM secret\n")
    heads = tmp_path / "dockerfiles" / "o" / "r" / "c"
    heads.mkdir(parents=True)
    (heads / "Dockerfile").symlink_to(secret)
    corpus = Corpus(tmp_path)
    (snapshot,) = corpus.snapshots
    assert snapshot.name == "only"
    assert len(snapshot.commit) == 40
    assert [b.name for b in corpus.library_blobs("only")] == ["hello"]
    assert corpus.dockerfile(["o", "r", "c", "Dockerfile"]) is None
    assert corpus.hub_tags("hello") is None
    with pytest.raises(CorpusError):
        Corpus(tmp_path / "library")
