"""Every REF form of CONTRACT §2 resolves the same way in every query command."""

from __future__ import annotations

import pytest

from tests.queries.conftest import Cli
from tests.queries.lineage_fixture import DIGESTS

SLIM_FORMS = [
    "python:3.12-slim",
    "library/python:3.12-slim",
    "docker.io/library/python:3.12-slim",
    "index.docker.io/library/python:3.12-slim",
    "docker.io/python:3.12-slim",
    "python:3.12-slim@" + DIGESTS["3.12-slim"],
    "python@" + DIGESTS["3.12-slim"],
]


@pytest.mark.parametrize("ref", SLIM_FORMS)
def test_show_by_every_form(cli: Cli, ref: str) -> None:
    data = cli.json("show", ref)
    assert (data["repository"], data["tag"]) == ("python", "3.12-slim")
    assert data["canonical_tag"] == "3.12.7-slim-bookworm"


@pytest.mark.parametrize(
    "command",
    [
        ("show",),
        ("children",),
        ("children", "--recursive"),
        ("explain",),
        ("graph",),
        ("graph", "--descendants"),
        ("history",),
    ],
)
@pytest.mark.parametrize("ref", ["docker.io/library/debian:12", "library/debian:bookworm"])
def test_every_command_resolves_aliases(cli: Cli, command: tuple[str, ...], ref: str) -> None:
    status, out, err = cli.run(command[0], ref, *command[1:])
    assert status == 0, err
    assert out


def test_bare_name_means_latest(cli: Cli) -> None:
    data = cli.json("show", "debian")
    assert (data["tag"], data["canonical_tag"]) == ("latest", "bookworm")
    data = cli.json("show", "docker.io/library/python")
    assert (data["tag"], data["canonical_tag"]) == ("latest", "3.12.7-bookworm")


def test_shared_tag_spans_linux_and_two_windows_stanzas(cli: Cli) -> None:
    data = cli.json("show", "python:3.12")
    assert data["canonical_tag"] == "3.12.7-bookworm"
    assert data["aliases"] == ["3.12.7-bookworm", "3.12-bookworm"]
    assert data["shared_tags"] == ["3.12.7", "3.12", "latest"]
    platforms = [(p["architecture"], p["stanza"], p["parent"]) for p in data["platforms"]]
    assert platforms == [
        ("amd64", "3.12.7-bookworm", "buildpack-deps:bookworm"),
        ("arm32v5", "3.12.7-bookworm", "buildpack-deps:bookworm"),
        ("arm64v8", "3.12.7-bookworm", "buildpack-deps:bookworm"),
        (
            "windows-amd64",
            "3.12.7-windowsservercore-ltsc2025",
            "mcr.microsoft.com/windows/servercore:ltsc2025",
        ),
        (
            "windows-amd64",
            "3.12.7-windowsservercore-ltsc2022",
            "mcr.microsoft.com/windows/servercore:ltsc2022",
        ),
    ]
    assert data["platforms"][3]["constraints"] == []
    hub_arches = sorted(i["bashbrew_arch"] for i in data["hub"]["images"])
    assert hub_arches == ["amd64", "arm32v5", "arm64v8", "windows-amd64", "windows-amd64"]


def test_windows_only_shared_tag_answers_with_the_first_windows_stanza(cli: Cli) -> None:
    data = cli.json("show", "python:3.12-windowsservercore")
    assert data["canonical_tag"] == "3.12.7-windowsservercore-ltsc2025"
    assert [p["stanza"] for p in data["platforms"]] == [
        "3.12.7-windowsservercore-ltsc2025",
        "3.12.7-windowsservercore-ltsc2022",
    ]
    assert data["ancestors"] == ["mcr.microsoft.com/windows/servercore:ltsc2025"]


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("python:3.99", "python:3.99 is not indexed"),
        ("nosuchimage", "nosuchimage:latest is not indexed"),
        ("mcr.microsoft.com/windows/servercore:ltsc2022", "is not indexed"),
        ("python@sha256:" + "9" * 64, "no indexed tag of python points at"),
        ("Python:3.12", "malformed repository name"),
        ("python:bad tag", "not an image reference"),
    ],
)
@pytest.mark.parametrize("command", ["show", "explain", "history"])
def test_unknown_or_malformed_refs_exit_1(cli: Cli, command: str, ref: str, message: str) -> None:
    status, out, err = cli.run(command, ref)
    assert status == 1
    assert out == ""
    assert message in err
