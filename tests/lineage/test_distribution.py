"""Base distribution and release from an ancestor chain (pure)."""

from __future__ import annotations

import pytest

from indexer.lineage.distribution import ChainNode, detect_distribution, recognise_node

BOOKWORM_SLIM = ChainNode(
    "debian:bookworm-slim", ("bookworm-slim", "bookworm-20260316-slim", "12.13-slim", "12-slim")
)


def labels(*nodes: ChainNode) -> str | None:
    found = detect_distribution(nodes)
    return found.label if found else None


def test_deepest_distribution_of_a_chain_wins() -> None:
    chain = (
        ChainNode("python:3.12.7-bookworm", ("3.12.7-bookworm", "3.12-bookworm")),
        ChainNode("buildpack-deps:bookworm", ("bookworm",)),
        ChainNode("buildpack-deps:bookworm-curl", ("bookworm-curl",)),
        ChainNode("debian:bookworm", ("bookworm", "12", "latest")),
        ChainNode("scratch"),
    )
    found = detect_distribution(chain)
    assert found is not None
    assert (found.family, found.release, found.codename, found.ref) == (
        "debian",
        "12",
        "bookworm",
        "debian:bookworm",
    )
    assert found.label == 'Debian 12 "bookworm"'
    assert found.c_library == "glibc"
    assert not found.inferred


@pytest.mark.parametrize(
    ("node", "label"),
    [
        (BOOKWORM_SLIM, 'Debian 12 "bookworm"'),
        (ChainNode("debian:12"), 'Debian 12 "bookworm"'),
        (ChainNode("debian:bullseye-slim"), 'Debian 11 "bullseye"'),
        (ChainNode("debian:buster"), 'Debian 10 "buster"'),
        (ChainNode("debian:sid"), 'Debian unstable "sid"'),
        (ChainNode("debian:testing-slim"), "Debian testing"),
        (
            ChainNode("ubuntu:latest", ("24.04", "noble-20240605", "noble", "latest")),
            'Ubuntu 24.04 "noble"',
        ),
        (ChainNode("ubuntu:jammy"), 'Ubuntu 22.04 "jammy"'),
        (ChainNode("ubuntu:26.04"), 'Ubuntu 26.04 "resolute"'),
        (ChainNode("alpine:3.20"), "Alpine 3.20"),
        (ChainNode("alpine:latest", ("3.20.3", "3.20", "3", "latest")), "Alpine 3.20"),
        (ChainNode("alpine:3.21.6"), "Alpine 3.21"),
        (ChainNode("alpine:edge"), "Alpine edge"),
        (
            ChainNode("mcr.microsoft.com/windows/servercore:ltsc2022"),
            "Windows Server Core LTSC 2022",
        ),
        (
            ChainNode("mcr.microsoft.com/windows/nanoserver:ltsc2025"),
            "Windows Nano Server LTSC 2025",
        ),
        (
            ChainNode("mcr.microsoft.com/windows/servercore:10.0.17763.6293"),
            "Windows Server Core LTSC 2019",
        ),
        (ChainNode("oraclelinux:9-slim"), "Oracle Linux 9"),
        (ChainNode("amazonlinux:2023"), "Amazon Linux 2023"),
        (ChainNode("redhat/ubi9-minimal:latest"), 'Red Hat UBI 9 "minimal"'),
        (ChainNode("busybox:1.36-musl"), "BusyBox 1.36"),
    ],
)
def test_recognised_bases(node: ChainNode, label: str) -> None:
    found = recognise_node(node)
    assert found is not None
    assert found.label == label


@pytest.mark.parametrize(
    ("ref", "libc"),
    [
        ("alpine:3.20", "musl"),
        ("debian:bookworm", "glibc"),
        ("busybox:1.36-musl", "musl"),
        ("busybox:1.36-uclibc", "uclibc"),
        ("busybox:latest", "glibc"),
        ("mcr.microsoft.com/windows/servercore:ltsc2022", None),
    ],
)
def test_c_library_of_a_base(ref: str, libc: str | None) -> None:
    found = recognise_node(ChainNode(ref))
    assert found is not None
    assert found.c_library == libc


def test_not_a_distribution() -> None:
    assert recognise_node(ChainNode("buildpack-deps:bookworm")) is None
    assert recognise_node(ChainNode("someone/tool:1")) is None


def test_scratch_only_when_nothing_else() -> None:
    assert (
        labels(ChainNode("hello-world:latest", ("linux", "latest")), ChainNode("scratch"))
        == "scratch"
    )
    assert labels(ChainNode("alpine:3.20"), ChainNode("scratch")) == "Alpine 3.20"


def test_external_leaf_that_is_no_distribution_falls_back_to_names() -> None:
    found = detect_distribution(
        (ChainNode("tool:1-bookworm", ("1-bookworm",)), ChainNode("someone/base:1"))
    )
    assert found is not None
    assert found.label == 'Debian 12 "bookworm"'
    assert found.inferred
    assert found.ref is None


@pytest.mark.parametrize(
    ("names", "label"),
    [
        (("3.12-slim-bookworm",), 'Debian 12 "bookworm"'),
        (("3.12-alpine3.20",), "Alpine 3.20"),
        (("3.12-alpine",), "Alpine"),
        (("21-jdk-noble",), 'Ubuntu 24.04 "noble"'),
        (("3.12-windowsservercore-ltsc2022",), "Windows Server Core LTSC 2022"),
        (("8-nanoserver-1809",), "Windows Nano Server 1809"),
        (("1.0", "latest"), None),
    ],
)
def test_broken_chain_infers_from_tag_names(names: tuple[str, ...], label: str | None) -> None:
    found = detect_distribution((ChainNode(f"image:{names[0]}", names),))
    assert (found.label if found else None) == label
    if found is not None:
        assert found.inferred


def test_empty_chain() -> None:
    assert detect_distribution(()) is None


def test_as_json_carries_the_label() -> None:
    found = recognise_node(BOOKWORM_SLIM)
    assert found is not None
    data = found.as_json()
    assert data["label"] == 'Debian 12 "bookworm"'
    assert data["ref"] == "debian:bookworm-slim"
