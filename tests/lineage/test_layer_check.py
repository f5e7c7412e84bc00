"""The layer check on real registry records (``hub-samples/real``) and on made-up lists."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indexer.lineage.layers import MISMATCH, VERIFIED, layer_check

Platform = str
Layers = dict[tuple[str, Platform], list[str]]


def _parent_of(repository: str, tag: str) -> str | None:
    """The Dockerfile parent of the real samples' tags (the corpus README's list)."""
    if repository == "python":
        if tag == "3.13-alpine":
            return "alpine:3.24"
        for suffix, parent in (
            ("-slim-bookworm", "debian:bookworm-slim"),
            ("-slim-trixie", "debian:trixie-slim"),
            ("-bookworm", "buildpack-deps:bookworm"),
            ("-trixie", "buildpack-deps:trixie"),
        ):
            if tag.endswith(suffix):
                return parent
    if repository == "buildpack-deps":
        if tag.endswith("-curl"):
            return f"debian:{tag.removesuffix('-curl')}"
        if tag.endswith("-scm"):
            return f"buildpack-deps:{tag.removesuffix('-scm')}-curl"
        return f"buildpack-deps:{tag}-scm"
    return {
        ("node", "bookworm-slim"): "debian:bookworm-slim",
        ("node", "alpine"): "alpine:3.24",
        ("php", "cli-alpine"): "alpine:3.24",
        ("php", "cli-trixie"): "debian:trixie-slim",
    }.get((repository, tag))


def _load(folder: Path) -> Layers:
    layers: Layers = {}
    for path in sorted(folder.glob("*.json.gz")):
        record = json.loads(gzip.decompress(path.read_bytes()))
        for tag in record["tags"]:
            for p in tag["platforms"]:
                platform = "/".join(x for x in (p["os"], p["architecture"], p["variant"]) if x)
                name = f"{record['repository']}:{tag['name']}"
                layers[name, platform] = [digest for digest, _ in p["layers"]]
    return layers


def test_real_records_48_triples_are_not_layer_verified(corpus_dir: Path) -> None:
    folder = corpus_dir / "hub-samples" / "real"
    layers = _load(folder)
    verdicts: dict[tuple[str, str, str], str] = {}
    for (child, platform), child_layers in layers.items():
        repository, tag = child.split(":", 1)
        parent = _parent_of(repository, tag)
        if parent is None or (parent, platform) not in layers:
            continue
        verdicts[child, platform, parent] = layer_check(layers[parent, platform], child_layers)
    with (folder / "STALE.tsv").open(encoding="utf-8") as stream:
        recorded = {
            (row["child"], row["platform"], row["expected_parent"])
            for row in csv.DictReader(stream, delimiter="\t")
        }
    assert len(verdicts) == 123
    mismatched = {key for key, verdict in verdicts.items() if verdict == MISMATCH}
    assert len(mismatched) == 48
    assert mismatched == recorded
    assert sum(verdict == VERIFIED for verdict in verdicts.values()) == 75


@pytest.mark.parametrize(
    ("parent", "child", "verdict"),
    [
        (["a", "b"], ["a", "b", "c"], VERIFIED),
        (["a", "b"], ["a", "b"], VERIFIED),
        (["a", "x"], ["a", "b", "c"], MISMATCH),
        (["a", "b", "c"], ["a", "b"], MISMATCH),
        ([], ["a"], MISMATCH),
    ],
)
def test_layer_check_is_a_prefix_test(parent: list[str], child: list[str], verdict: str) -> None:
    assert layer_check(parent, child) == verdict


@given(st.lists(st.text(min_size=1), min_size=1), st.lists(st.text(min_size=1)))
def test_a_child_built_on_the_parent_verifies(parent: list[str], extra: list[str]) -> None:
    assert layer_check(parent, parent + extra) == VERIFIED
