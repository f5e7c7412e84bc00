"""Both parsers against the real official-images corpus and its oracle.

* every library file of every snapshot parses without errors;
* every Dockerfile head resolves;
* for every oracle row the library parse gives the oracle's git repo, commit,
  directory, file and builder;
* for every oracle row with a known ``lastStageFrom`` the resolved parent and froms
  equal the oracle's. The only rows not checked are those whose Dockerfile head is
  not in the corpus: the test shows each of them is listed in ``MISSING.tsv``.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from indexer.parsing import (
    ArchBuild,
    DockerfileResolution,
    LibraryFile,
    parse_library_file,
    resolve_build,
    resolve_dockerfile,
)

pytestmark = pytest.mark.corpus

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Corpus:
    """What the tests read: libraries by (snapshot, name) and the oracle rows."""

    root: Path
    libraries: dict[tuple[str, str], LibraryFile]
    rows: list[Row]


@pytest.fixture(scope="module")
def corpus(corpus_dir: Path) -> Corpus:
    """Every library file parsed, and every oracle row."""
    libraries: dict[tuple[str, str], LibraryFile] = {}
    for snapshot in sorted(path for path in (corpus_dir / "library").iterdir() if path.is_dir()):
        for library in sorted(snapshot.iterdir()):
            text = library.read_text(encoding="utf-8")
            libraries[snapshot.name, library.name] = parse_library_file(library.name, text)
    with gzip.open(corpus_dir / "oracle.jsonl.gz", "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    return Corpus(corpus_dir, libraries, rows)


def head_files(root: Path) -> Iterator[Path]:
    """Every Dockerfile head of the corpus."""
    for path in sorted((root / "dockerfiles").rglob("*")):
        if path.is_file() and path.suffix != ".tsv":
            yield path


def head_path(root: Path, git: dict[str, str]) -> Path | None:
    """Where the head of a GitHub build is stored (``None`` for other hosts)."""
    repo = git["repo"]
    if "github.com/" not in repo:
        return None
    owner_repo = repo.split("github.com/", 1)[1].removesuffix(".git")
    return root / "dockerfiles" / owner_repo / git["commit"] / git["directory"] / git["file"]


def missing_heads(root: Path) -> dict[tuple[str, str, str, str], str]:
    """``MISSING.tsv``: (repo, commit, directory, file) -> why there is no head."""
    with (root / "dockerfiles" / "MISSING.tsv").open(encoding="utf-8", newline="") as table:
        return {
            (row["git_repo"], row["git_commit"], row["directory"], row["file"]): row["reason"]
            for row in csv.DictReader(table, delimiter="\t")
        }


def build_of(corpus: Corpus, row: Row) -> ArchBuild:
    """The build the library gives for one oracle row (tag or shared tag, arch, constraints)."""
    library = corpus.libraries[row["snapshot"], row["repository"]]
    matches = []
    for stanza in library.stanzas:
        tags = stanza.shared_tags if row["shared"] else stanza.tags
        build = stanza.build_for(row["arch"])
        constraints = ", ".join(stanza.constraints) or None
        if row["tag"] in tags and build is not None and constraints == row["constraints"]:
            matches.append(build)
    assert len(matches) == 1, (row, matches)
    return matches[0]


def test_every_library_file_parses_without_errors(corpus: Corpus) -> None:
    assert len(corpus.libraries) == 580
    problems = [error for library in corpus.libraries.values() for error in library.errors]
    assert problems == []
    counts = Counter(snapshot for snapshot, _ in corpus.libraries)
    stanzas: Counter[str] = Counter()
    for (snapshot, _), library in corpus.libraries.items():
        stanzas[snapshot] += len(library.stanzas)
    # the counts the corpus README gives for each snapshot
    assert stanzas == {
        "current": 1700,
        "previous": 1650,
        "dense-current": 1534,
        "dense-previous": 1566,
        "meta-2024": 1412,
    }
    assert counts["current"] == 116


def test_header_only_library_files_are_valid_and_empty(corpus: Corpus) -> None:
    for name in ("clefos", "gazebo", "notary", "unit"):
        library = corpus.libraries["current", name]
        assert library.errors == ()
        assert library.stanzas == ()
        assert library.maintainers


def test_library_builds_match_the_oracle_git_fields(corpus: Corpus) -> None:
    for row in corpus.rows:
        build = build_of(corpus, row)
        git = row["git"]
        assert (build.git_repo, build.git_commit, build.directory, build.file) == (
            git["repo"],
            git["commit"],
            git["directory"],
            git["file"],
        ), row
        assert build.builder == row["builder"], row


def test_every_dockerfile_head_resolves(corpus: Corpus) -> None:
    count = 0
    for path in head_files(corpus.root):
        result = resolve_dockerfile(path.read_text(encoding="utf-8"), source=str(path))
        assert result.stages
        assert result.froms
        count += 1
    assert count == 4484


def test_resolutions_match_every_oracle_row_with_a_parent(corpus: Corpus) -> None:
    missing = missing_heads(corpus.root)
    cache: dict[tuple[Path, str], DockerfileResolution] = {}
    checked = without_head = 0
    for row in corpus.rows:
        if row["lastStageFrom"] is None:
            continue
        if row["builder"] == "oci-import":
            result = resolve_build("oci-import", None, architecture=row["arch"])
        else:
            path = head_path(corpus.root, row["git"])
            if path is None or not path.is_file():
                # not the resolver's to check: the corpus has no head for this build
                git = row["git"]
                key = (git["repo"], git["commit"], git["directory"], git["file"])
                assert key in missing, row
                assert row["source"] == "docker-library/meta", row
                without_head += 1
                continue
            cache_key = (path, row["arch"])
            if cache_key not in cache:
                text = path.read_text(encoding="utf-8")
                cache[cache_key] = resolve_build(
                    row["builder"], text, architecture=row["arch"], source=str(path)
                )
            result = cache[cache_key]
        assert result.parent == row["lastStageFrom"], row
        assert list(result.froms) == row["froms"], row
        checked += 1
    # about 114,000 rows have a parent; every one with a head agrees
    assert checked + without_head == 114_180
    assert checked == 113_870
    assert without_head == 310
