"""``indexer show`` and ``indexer children`` on the hand-made lineage graph, both backends."""

from __future__ import annotations

import pytest

from tests.queries.conftest import Cli

SERVERCORE_2022 = "mcr.microsoft.com/windows/servercore:ltsc2022"
SERVERCORE_2025 = "mcr.microsoft.com/windows/servercore:ltsc2025"


def test_show_json_has_the_documented_fields(cli: Cli) -> None:
    data = cli.json("show", "python:3.12-slim")
    assert {
        "repository",
        "tag",
        "canonical_tag",
        "aliases",
        "shared_tags",
        "maintained",
        "platforms",
        "ancestors",
        "hub",
    } <= set(data)
    assert data["aliases"] == [
        "3.12.7-slim-bookworm",
        "3.12-slim-bookworm",
        "3.12.7-slim",
        "3.12-slim",
    ]
    assert data["maintained"] is True
    platform = data["platforms"][0]
    assert {
        "architecture",
        "parent",
        "froms",
        "git_repo",
        "git_commit",
        "directory",
        "file",
    } <= set(platform)
    assert (platform["builder"], platform["error"], platform["file"]) == (
        "buildkit",
        None,
        "Dockerfile",
    )
    assert data["hub"]["images"][0].keys() >= {"architecture", "os", "variant", "digest", "size"}


def test_parents_that_differ_per_architecture(cli: Cli) -> None:
    data = cli.json("show", "python:3.12-slim")
    by_arch = {p["architecture"]: (p["parent"], p["ancestors"]) for p in data["platforms"]}
    assert by_arch == {
        "amd64": ("debian:bookworm-slim", ["debian:bookworm-slim", "scratch"]),
        "arm64v8": ("debian:bookworm-slim", ["debian:bookworm-slim", "scratch"]),
        "arm32v5": ("debian:bullseye-slim", ["debian:bullseye-slim", "scratch"]),
    }
    assert data["ancestors"] == ["debian:bookworm-slim", "scratch"]


def test_ancestors_cross_repositories(cli: Cli) -> None:
    data = cli.json("show", "python:3.12")
    assert data["ancestors"] == [
        "buildpack-deps:bookworm",
        "buildpack-deps:bookworm-scm",
        "buildpack-deps:bookworm-curl",
        "debian:bookworm",
        "scratch",
    ]
    windows = [p["ancestors"] for p in data["platforms"] if p["architecture"] == "windows-amd64"]
    assert windows == [[SERVERCORE_2025], [SERVERCORE_2022]]


def test_external_base_is_a_leaf(cli: Cli) -> None:
    data = cli.json("show", "python:3.12-windowsservercore-ltsc2022")
    assert data["ancestors"] == [SERVERCORE_2022]
    assert "ancestors_note" not in data


def test_child_of_a_shared_tag_follows_its_own_architecture(cli: Cli) -> None:
    assert cli.json("show", "winapp")["ancestors"] == ["python:3.12", SERVERCORE_2025]
    assert cli.json("show", "linuxapp")["ancestors"][:2] == [
        "python:3.12",
        "buildpack-deps:bookworm",
    ]


def test_a_cycle_ends_the_walk_with_a_note(cli: Cli) -> None:
    data = cli.json("show", "loopy:a")
    assert data["ancestors"] == ["loopy:b", "loopy:a"]
    assert "cycle" in data["ancestors_note"]


def test_unresolved_parent(cli: Cli) -> None:
    data = cli.json("show", "mystery")
    assert data["platforms"][0]["parent"] is None
    assert "ARG BASE" in data["platforms"][0]["error"]
    assert data["ancestors"] == []


def test_a_retired_base_still_answers(cli: Cli) -> None:
    data = cli.json("show", "debian:buster")
    assert data["maintained"] is False
    assert data["canonical_tag"] == "buster"
    assert cli.json("show", "legacy")["ancestors"] == ["debian:buster", "scratch"]


def test_show_table(cli: Cli) -> None:
    status, out, _ = cli.run("show", "python:3.12-slim")
    assert status == 0
    assert "canonical   python:3.12.7-slim-bookworm" in out
    assert "  ancestors   amd64, arm64v8: debian:bookworm-slim → scratch\n" in out
    assert "              arm32v5: debian:bullseye-slim → scratch\n" in out
    status, out, _ = cli.run("show", "loopy:a")
    assert "cycle: loopy:a is its own ancestor" in out


def rows(data: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [(r["depth"], f"{r['repository']}:{r['tag']}", r["architectures"]) for r in data]


def test_children_per_architecture(cli: Cli) -> None:
    assert rows(cli.json("children", "debian:bookworm-slim")) == [
        (1, "python:3.12.7-slim-bookworm", ["amd64", "arm64v8"])
    ]
    data = cli.json("children", "debian:11-slim")
    assert rows(data) == [(1, "python:3.12.7-slim-bookworm", ["arm32v5"])]
    assert data[0]["parent"] == "debian:bullseye-slim"


def test_children_recursive_through_aliases(cli: Cli) -> None:
    assert rows(cli.json("children", "debian:12", "--recursive")) == [
        (1, "buildpack-deps:bookworm-curl", ["amd64", "arm32v5", "arm64v8"]),
        (1, "twelve:1.0", ["amd64"]),
        (2, "buildpack-deps:bookworm-scm", ["amd64", "arm32v5", "arm64v8"]),
        (3, "buildpack-deps:bookworm", ["amd64", "arm32v5", "arm64v8"]),
        (4, "python:3.12.7-bookworm", ["amd64", "arm32v5", "arm64v8"]),
        (5, "linuxapp:1.0", ["amd64"]),
    ]


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("python:3.12", [(1, "linuxapp:1.0", ["amd64"]), (1, "winapp:1.0", ["windows-amd64"])]),
        ("python:3.12-bookworm", [(1, "linuxapp:1.0", ["amd64"])]),
        ("python:3.12-windowsservercore-ltsc2025", [(1, "winapp:1.0", ["windows-amd64"])]),
        ("python:3.12-windowsservercore-ltsc2022", []),
    ],
)
def test_children_of_a_shared_tag(cli: Cli, ref: str, expected: list[tuple[object, ...]]) -> None:
    assert rows(cli.json("children", ref)) == expected


def test_children_of_an_end_of_life_base(cli: Cli) -> None:
    assert rows(cli.json("children", "debian:10", "--recursive")) == [
        (1, "legacy:1.0", ["amd64", "arm32v5", "arm64v8"])
    ]


def test_children_of_a_cycle_terminate(cli: Cli) -> None:
    assert rows(cli.json("children", "loopy:a", "--recursive")) == [(1, "loopy:b", ["amd64"])]


def test_children_table(cli: Cli) -> None:
    status, out, _ = cli.run("children", "debian:bookworm", "--recursive")
    assert status == 0
    assert "linuxapp:1.0" in out
    assert "buildpack-deps:bookworm-curl" in out
