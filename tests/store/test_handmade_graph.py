"""A hand-made graph written by the store, read back by the CLI and by SQL on the views."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from indexer.cli.main import main
from tests.databases import fetch_rows
from tests.store.handmade import load_handmade_graph, write_handmade_graph


def run_cli(
    capsys: pytest.CaptureFixture[str], database_url: str, *args: str
) -> tuple[int, str, str]:
    status = main(["--database-url", database_url, *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def query(database_url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    return asyncio.run(fetch_rows(database_url, sql, **params))


@pytest.fixture
def graph_url(database_url: str) -> str:
    load_handmade_graph(database_url)
    return database_url


def test_empty_database_answers_not_indexed(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run_cli(capsys, database_url, "show", "python:3.12-slim")
    assert status == 1
    assert out == ""
    assert "not indexed" in err


@pytest.mark.parametrize(
    "ref",
    ["python:3.12-slim", "library/python:3.12-slim", "docker.io/library/python:3.12-slim"],
)
def test_show_json_by_alias(graph_url: str, capsys: pytest.CaptureFixture[str], ref: str) -> None:
    status, out, _ = run_cli(capsys, graph_url, "show", ref, "--json")
    assert status == 0
    data = json.loads(out)
    assert data["repository"] == "python"
    assert data["tag"] == "3.12-slim"
    assert data["canonical_tag"] == "3.12.7-slim-bookworm"
    assert data["aliases"] == [
        "3.12.7-slim-bookworm",
        "3.12-slim-bookworm",
        "3.12.7-slim",
        "3.12-slim",
    ]
    assert data["shared_tags"] == []
    assert data["maintained"] is True
    assert [p["architecture"] for p in data["platforms"]] == ["amd64", "arm64v8"]
    assert {p["parent"] for p in data["platforms"]} == {"debian:bookworm-slim"}
    assert data["platforms"][0]["error"] is None
    assert data["ancestors"] == ["debian:bookworm-slim", "scratch"]
    assert data["hub"]["digest"] == "sha256:" + "1" * 64
    sizes = {(i["architecture"], i["variant"]): i["size"] for i in data["hub"]["images"]}
    assert sizes == {("amd64", None): 45_000_000, ("arm64", "v8"): 44_000_000}


def test_show_ancestors_cross_repositories(
    graph_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run_cli(capsys, graph_url, "show", "python:3.12", "--json")
    assert status == 0
    data = json.loads(out)
    assert data["canonical_tag"] == "3.12.7-bookworm"
    assert data["shared_tags"] == ["3.12.7", "3.12", "latest"]
    assert data["ancestors"] == [
        "buildpack-deps:bookworm",
        "buildpack-deps:bookworm-scm",
        "buildpack-deps:bookworm-curl",
        "debian:bookworm",
        "scratch",
    ]


def test_children_recursive_through_an_alias(
    graph_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run_cli(capsys, graph_url, "children", "debian:12", "--recursive", "--json")
    assert status == 0
    rows = [(r["depth"], f"{r['repository']}:{r['tag']}") for r in json.loads(out)]
    assert rows == [
        (1, "buildpack-deps:bookworm-curl"),
        (2, "buildpack-deps:bookworm-scm"),
        (3, "buildpack-deps:bookworm"),
        (4, "python:3.12.7-bookworm"),
    ]
    status, out, _ = run_cli(capsys, graph_url, "children", "debian:bookworm-slim", "--json")
    assert [(r["repository"], r["tag"], r["architectures"]) for r in json.loads(out)] == [
        ("python", "3.12.7-slim-bookworm", ["amd64", "arm64v8"])
    ]


def test_views_answer_the_same_graph(graph_url: str) -> None:
    assert query(
        graph_url,
        "SELECT canonical_tag, maintained, digest FROM v_tags WHERE repository = 'python' AND tag = '3.12-slim'",
    ) == [("3.12.7-slim-bookworm", True, "sha256:" + "1" * 64)]
    assert query(
        graph_url,
        "SELECT architecture, parent_ref, parent_repository, parent_tag FROM v_parents "
        "WHERE repository = 'python' AND tag = '3.12-slim' ORDER BY architecture",
    ) == [
        ("amd64", "debian:bookworm-slim", "debian", "bookworm-slim"),
        ("arm64v8", "debian:bookworm-slim", "debian", "bookworm-slim"),
    ]
    assert query(
        graph_url,
        "SELECT depth, ancestor_repository, ancestor_tag FROM v_ancestors "
        "WHERE repository = 'python' AND tag = '3.12' AND architecture = 'arm64v8' ORDER BY depth",
    ) == [
        (1, "buildpack-deps", "bookworm"),
        (2, "buildpack-deps", "bookworm-scm"),
        (3, "buildpack-deps", "bookworm-curl"),
        (4, "debian", "bookworm"),
        (5, "scratch", None),
    ]
    assert query(
        graph_url,
        "SELECT bashbrew_arch, size FROM v_tag_images WHERE repository = 'python' ORDER BY size",
    ) == [("arm64v8", 44_000_000), ("amd64", 45_000_000)]


def test_rewriting_the_same_graph_changes_nothing(graph_url: str) -> None:
    tables = ["tags", "stanzas", "stanza_tags", "builds", "hub_images", "tag_history"]
    before = {t: query(graph_url, f"SELECT * FROM {t} ORDER BY 1, 2") for t in tables}
    asyncio.run(write_handmade_graph(graph_url))
    after = {t: query(graph_url, f"SELECT * FROM {t} ORDER BY 1, 2") for t in tables}
    assert after == before


def test_a_database_without_the_schema_gives_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty.db").touch()  # a file without the schema (a missing file: tests/cli)
    status, out, err = run_cli(capsys, f"sqlite:///{tmp_path / 'empty.db'}", "show", "python")
    assert status == 2
    assert out == ""
    assert err.startswith("indexer: database error: ")
    assert "indexer migrate" in err
    assert "Traceback" not in err
