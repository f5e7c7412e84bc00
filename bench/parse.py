"""Benchmark: resolve every Dockerfile head of the corpus, ours against dockerfile-parse.

Usage::

    .venv/bin/python bench/parse.py [CORPUS_DIR]

CORPUS_DIR defaults to ``$INDEXER_CORPUS`` or ``../shared/corpus``. Every head is read
into memory first; only resolution is timed (best of several rounds). The expected
parent of a head is the oracle's ``lastStageFrom`` for the rows built from it
(``oracle.jsonl.gz``); a parser gets a head wrong when its parent differs, or when it
fails on the head. Prints files per second for each parser, the ratio, the wrong
counts, and the BuildKit warnings our resolver records on the heads.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from indexer.errors import IndexerError  # noqa: E402 - after the path set-up above
from indexer.parsing.dockerfile import resolve_dockerfile  # noqa: E402
from indexer.refs import normalize_ref  # noqa: E402

ROUNDS = 9


@dataclass(frozen=True, slots=True)
class Head:
    """One Dockerfile head: where it is, its text, the architecture and parent expected."""

    path: str
    text: str
    architecture: str
    expected: str


def corpus_dir(argv: list[str]) -> Path:
    """The corpus folder from the command line, ``$INDEXER_CORPUS`` or ``../shared/corpus``."""
    if len(argv) > 1:
        return Path(argv[1])
    configured = os.environ.get("INDEXER_CORPUS")
    return Path(configured) if configured else PROJECT_ROOT.parent / "shared" / "corpus"


def head_path(corpus: Path, git: dict[str, str]) -> Path | None:
    """Where the head of an oracle row's ``git`` would be, for a GitHub repository."""
    repo = git["repo"]
    if "github.com/" not in repo:
        return None
    owner_repo = repo.split("github.com/", 1)[1].removesuffix(".git")
    return corpus / "dockerfiles" / owner_repo / git["commit"] / git["directory"] / git["file"]


def expected_parents(corpus: Path) -> dict[str, tuple[str, str]]:
    """Head path -> (architecture, expected parent) from the oracle's rows with a parent."""
    expected: dict[str, tuple[str, str]] = {}
    with gzip.open(corpus / "oracle.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row["lastStageFrom"] is None or row["builder"] == "oci-import":
                continue
            path = head_path(corpus, row["git"])
            if path is None:
                continue
            key = os.path.normpath(path)
            if key not in expected or row["arch"] == "amd64":
                expected[key] = (row["arch"], row["lastStageFrom"])
    return expected


def load_heads(corpus: Path) -> list[Head]:
    """Every head file with its expected parent (heads no oracle row uses are skipped)."""
    expected = expected_parents(corpus)
    heads: list[Head] = []
    for path in sorted((corpus / "dockerfiles").rglob("*")):
        if not path.is_file() or path.suffix == ".tsv":
            continue
        key = os.path.normpath(path)
        if key in expected:
            architecture, parent = expected[key]
            heads.append(Head(key, path.read_text(encoding="utf-8"), architecture, parent))
    return heads


def ours(head: Head) -> str:
    """Our resolver's parent for one head."""
    return resolve_dockerfile(head.text, architecture=head.architecture, source=head.path).parent


def dockerfile_parse(head: Head) -> str:
    """dockerfile-parse's parent (``baseimage``) for one head, normalised like ours."""
    from dockerfile_parse import DockerfileParser

    parser = DockerfileParser(fileobj=io.BytesIO(head.text.encode("utf-8")))
    base = parser.baseimage
    if base is None:
        raise ValueError("no base image")
    return base if base == "scratch" else normalize_ref(base)


def check(resolve: Callable[[Head], str], heads: list[Head]) -> tuple[list[str], list[Head]]:
    """The heads a parser gets wrong (or fails on), and the heads it resolves at all."""
    wrong: list[str] = []
    resolved: list[Head] = []
    for head in heads:
        try:
            parent = resolve(head)
        except (IndexerError, ValueError) as exc:
            wrong.append(f"{head.path}: {type(exc).__name__}: {exc}")
            continue
        resolved.append(head)
        if parent != head.expected:
            wrong.append(f"{head.path}: got {parent}, oracle {head.expected}")
    return wrong, resolved


def rates(
    parsers: list[tuple[Callable[[Head], str], list[Head]]],
) -> list[float]:
    """Best files per second of each parser over :data:`ROUNDS` interleaved rounds.

    The rounds alternate between the parsers so that both see the same machine
    load; each parser runs only on the heads it resolves without raising.
    """
    best = [0.0] * len(parsers)
    for _ in range(ROUNDS):
        for position, (resolve, heads) in enumerate(parsers):
            started = time.perf_counter()
            for head in heads:
                resolve(head)
            best[position] = max(best[position], len(heads) / (time.perf_counter() - started))
    return best


def main(argv: list[str]) -> int:
    """Run the benchmark and print the figures."""
    corpus = corpus_dir(argv)
    if not (corpus / "dockerfiles").is_dir():
        print(f"no corpus at {corpus}", file=sys.stderr)
        return 1
    heads = load_heads(corpus)
    print(f"{len(heads)} Dockerfile heads with an oracle parent, best of {ROUNDS} rounds")
    our_wrong, our_heads = check(ours, heads)
    their_wrong, their_heads = check(dockerfile_parse, heads)
    our_rate, their_rate = rates([(ours, our_heads), (dockerfile_parse, their_heads)])
    print(f"indexer.parsing.dockerfile: {our_rate:10,.0f} files/s, {len(our_wrong)} wrong")
    print(f"dockerfile-parse:           {their_rate:10,.0f} files/s, {len(their_wrong)} wrong")
    print(f"ratio: {our_rate / their_rate:.1f}x")
    warned = [
        resolve_dockerfile(head.text, architecture=head.architecture, source=head.path).warnings
        for head in our_heads
    ]
    rules = sorted({warning.rule for warnings in warned for warning in warnings})
    print(
        f"BuildKit warnings (ours): {sum(map(len, warned))} on "
        f"{sum(1 for warnings in warned if warnings)} heads ({', '.join(rules) or 'none'})"
    )
    for label, items in (("ours", our_wrong), ("dockerfile-parse", their_wrong)):
        for item in items[:20]:
            print(f"  wrong ({label}): {item}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
