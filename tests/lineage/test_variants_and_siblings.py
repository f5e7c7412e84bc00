"""Variant, C library and sibling naming (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indexer.lineage.distribution import ChainNode, recognise_node
from indexer.lineage.siblings import display_name, has_version_key, sibling_key, version_key
from indexer.lineage.variants import VARIANTS, classify_c_library, classify_variant

DEBIAN = recognise_node(ChainNode("debian:bookworm"))
ALPINE = recognise_node(ChainNode("alpine:3.20"))
SERVERCORE = recognise_node(ChainNode("mcr.microsoft.com/windows/servercore:ltsc2022"))
NANOSERVER = recognise_node(ChainNode("mcr.microsoft.com/windows/nanoserver:ltsc2022"))


@pytest.mark.parametrize(
    ("names", "base", "variant", "libc"),
    [
        (("3.12.7-bookworm", "3.12-bookworm"), DEBIAN, "full", "glibc"),
        (("3.12.7-slim-bookworm", "3.12-slim"), DEBIAN, "slim", "glibc"),
        (("bookworm-slim", "12-slim"), DEBIAN, "slim", "glibc"),
        (("3.12.7-alpine3.20", "3.12-alpine"), ALPINE, "alpine", "musl"),
        (("3.20.3", "3.20", "latest"), ALPINE, "alpine", "musl"),
        (("3.12-alpine",), None, "alpine", "musl"),
        (("3.12-windowsservercore-ltsc2022",), SERVERCORE, "windowsservercore", None),
        (("8-nanoserver-ltsc2022",), NANOSERVER, "nanoserver", None),
        (("1.0", "latest"), NANOSERVER, "nanoserver", None),
        (("1.36-musl",), None, "full", "musl"),
        (("1.0",), None, "full", None),
    ],
)
def test_variant_and_c_library(
    names: tuple[str, ...], base: object, variant: str, libc: str | None
) -> None:
    assert classify_variant(names, base) == variant  # type: ignore[arg-type]
    assert classify_c_library(names, base) == libc  # type: ignore[arg-type]


@given(st.lists(st.from_regex(r"[a-z0-9][a-z0-9.-]{0,20}", fullmatch=True), max_size=5))
def test_variant_is_always_one_of_the_five(names: list[str]) -> None:
    assert classify_variant(names, None) in VARIANTS


def test_version_keys() -> None:
    assert version_key("3.12-slim-bookworm") == "3.12"
    assert version_key("bookworm") == "bookworm"
    assert has_version_key("3.12-slim", "3.12")
    assert has_version_key("3.12", "3.12")
    assert not has_version_key("3.12-slim", "3.1")
    assert not has_version_key("3.120", "3.12")


def test_sibling_key_of_latest_is_the_shortest_number() -> None:
    names = ["3.14.3-trixie", "3.14-trixie", "3-trixie", "trixie", "3.14.3", "3.14", "3", "latest"]
    assert sibling_key("latest", names) == "3"
    assert sibling_key("3.14-slim", names) == "3.14"
    assert sibling_key("latest", ["bookworm", "latest"]) == "latest"


def test_display_name_is_the_shortest_with_the_key() -> None:
    names = ["3.12.7-alpine3.20", "3.12-alpine3.20", "3.12.7-alpine", "3.12-alpine"]
    assert display_name(names, "3.12") == "3.12-alpine"
    assert display_name(["3.12.7-bookworm", "3.12-bookworm", "3.12"], "3.12") == "3.12"
    assert display_name(["3.13-slim"], "3.12") is None
