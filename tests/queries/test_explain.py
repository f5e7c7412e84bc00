"""``indexer explain`` on a Debian, an Alpine and a Windows tag, both backends."""

from __future__ import annotations

from typing import Any

from tests.queries.conftest import Cli
from tests.queries.lineage_fixture import SIZES


def siblings(data: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (s["tag"], s["variant"], s["c_library"], s["base"], s["selected"]) for s in data["siblings"]
    ]


def test_explain_a_debian_tag(cli: Cli) -> None:
    data = cli.json("explain", "python:3.12-slim")
    assert data["aliases"] == [
        "3.12.7-slim-bookworm",
        "3.12-slim-bookworm",
        "3.12.7-slim",
        "3.12-slim",
    ]
    assert data["base"]["label"] == 'Debian 12 "bookworm"'
    assert (data["base"]["release"], data["base"]["codename"], data["base"]["ref"]) == (
        "12",
        "bookworm",
        "debian:bookworm-slim",
    )
    assert (data["variant"], data["c_library"]) == ("slim", "glibc")
    assert data["last_updated"] == "2026-10-30T00:00:00Z"
    platforms = {p["architecture"]: (p["base"], p["size"]) for p in data["platforms"]}
    assert platforms == {
        "amd64": ('Debian 12 "bookworm"', SIZES["3.12-slim"]["amd64"]),
        "arm64v8": ('Debian 12 "bookworm"', SIZES["3.12-slim"]["arm64v8"]),
        "arm32v5": ('Debian 11 "bullseye"', SIZES["3.12-slim"]["arm32v5"]),
    }
    assert data["built_on_by"] == {"direct": 0, "total": 0}
    assert data["version"] == "3.12"
    assert siblings(data) == [
        ("3.12", "full", "glibc", 'Debian 12 "bookworm"', False),
        ("3.12-slim", "slim", "glibc", 'Debian 12 "bookworm"', True),
        ("3.12-alpine", "alpine", "musl", "Alpine 3.20", False),
        (
            "3.12-windowsservercore",
            "windowsservercore",
            None,
            "Windows Server Core LTSC 2025",
            False,
        ),
        (
            "3.12-windowsservercore-ltsc2022",
            "windowsservercore",
            None,
            "Windows Server Core LTSC 2022",
            False,
        ),
    ]
    sizes = {s["tag"]: s["sizes"] for s in data["siblings"]}
    assert sizes["3.12-alpine"] == SIZES["3.12-alpine"]
    assert sizes["3.12"] == SIZES["3.12-bookworm"]


def test_explain_an_alpine_tag(cli: Cli) -> None:
    data = cli.json("explain", "library/python:3.12-alpine")
    assert data["base"]["label"] == "Alpine 3.20"
    assert (data["variant"], data["c_library"]) == ("alpine", "musl")
    assert [p["size"] for p in data["platforms"]] == [20_000_000, 19_500_000]
    assert [s["tag"] for s in data["siblings"] if s["selected"]] == ["3.12-alpine"]


def test_explain_a_windows_tag(cli: Cli) -> None:
    data = cli.json("explain", "python:3.12-windowsservercore-ltsc2022")
    assert data["base"]["label"] == "Windows Server Core LTSC 2022"
    assert data["base"]["family"] == "windowsservercore"
    assert (data["variant"], data["c_library"]) == ("windowsservercore", None)
    assert data["platforms"] == [
        {
            "architecture": "windows-amd64",
            "stanza": "3.12.7-windowsservercore-ltsc2022",
            "parent": "mcr.microsoft.com/windows/servercore:ltsc2022",
            "base": "Windows Server Core LTSC 2022",
            "size": SIZES["3.12-windowsservercore-ltsc2022"]["windows-amd64"],
            "digest": data["platforms"][0]["digest"],
            "stale": None,  # the registry was not read
        }
    ]


def test_explain_a_base_image(cli: Cli) -> None:
    data = cli.json("explain", "debian:12")
    assert data["base"]["label"] == 'Debian 12 "bookworm"'
    assert data["ancestors"] == ["scratch"]
    assert data["built_on_by"] == {"direct": 2, "total": 6}
    assert data["version"] == "12"
    assert [(s["tag"], s["variant"]) for s in data["siblings"]] == [
        ("12", "full"),
        ("12-slim", "slim"),
    ]


def test_explain_ubuntu_latest_and_a_descendant(cli: Cli) -> None:
    data = cli.json("explain", "noblish")
    assert data["base"]["label"] == 'Ubuntu 24.04 "noble"'
    assert data["ancestors"] == ["ubuntu:latest", "scratch"]


def test_explain_without_a_chain_infers_or_says_unknown(cli: Cli) -> None:
    data = cli.json("explain", "mystery")
    assert data["base"] is None
    assert data["variant"] == "full"
    assert cli.json("explain", "loopy:a")["base"] is None


def test_explain_table(cli: Cli) -> None:
    status, out, _ = cli.run("explain", "python:3.12-slim")
    assert status == 0
    assert 'base        Debian 12 "bookworm"' in out
    assert "variants of python:3.12" in out
    assert "45.0 MB" in out
    assert "2.3 GB" in out
