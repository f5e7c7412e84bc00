"""``indexer graph``: DOT that Graphviz's grammar accepts (parsed by pydot), and Mermaid."""

from __future__ import annotations

import pytest

from tests.queries.conftest import Cli

pydot = pytest.importorskip("pydot")
#: pydot 4 still calls pyparsing's old camelCase names
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def dot_edges(source: str) -> set[tuple[str, str, str | None]]:
    graphs = pydot.graph_from_dot_data(source)
    assert graphs, "Graphviz grammar rejected the DOT source"
    return {
        (
            edge.get_source().strip('"'),
            edge.get_destination().strip('"'),
            (edge.get_label() or "").strip('"') or None,
        )
        for edge in graphs[0].get_edges()
    }


def dot_nodes(source: str) -> dict[str, str]:
    graphs = pydot.graph_from_dot_data(source)
    assert graphs
    return {
        node.get_name().strip('"'): (node.get_label() or "").strip('"')
        for node in graphs[0].get_nodes()
        if node.get_name() not in ("node", "edge")
    }


def test_ancestors_graph_folds_aliases(cli: Cli) -> None:
    status, out, err = cli.run("graph", "python:3.12-slim")
    assert status == 0, err
    assert dot_edges(out) == {
        ("debian:bookworm-slim", "python:3.12.7-slim-bookworm", "amd64, arm64v8"),
        ("debian:bullseye-slim", "python:3.12.7-slim-bookworm", "arm32v5"),
        ("scratch", "debian:bookworm-slim", None),
        ("scratch", "debian:bullseye-slim", None),
    }
    labels = dot_nodes(out)
    assert labels["python:3.12.7-slim-bookworm"].startswith(
        "python:3.12-slim\\n3.12.7-slim-bookworm"
    )
    assert labels["debian:bookworm-slim"] == "debian:bookworm-slim\\n12-slim"


def test_shared_tag_graph_has_external_leaves(cli: Cli) -> None:
    status, out, _ = cli.run("graph", "python:3.12", "--format", "dot")
    assert status == 0
    edges = dot_edges(out)
    assert (
        "mcr.microsoft.com/windows/servercore:ltsc2022",
        "python:3.12.7-windowsservercore-ltsc2022",
        None,
    ) in edges
    assert ("debian:bookworm", "buildpack-deps:bookworm-curl", None) in edges
    assert len(edges) == 7


def test_cycle_and_unresolved_graphs(cli: Cli) -> None:
    _, out, _ = cli.run("graph", "loopy:a")
    assert dot_edges(out) == {("loopy:b", "loopy:a", None), ("loopy:a", "loopy:b", None)}
    _, out, _ = cli.run("graph", "mystery")
    assert dot_edges(out) == {("unresolved parent of mystery:1.0", "mystery:1.0", None)}


def test_descendants_graph_folds_parents_named_by_alias(cli: Cli) -> None:
    status, out, _ = cli.run("graph", "debian:bookworm", "--descendants")
    assert status == 0
    edges = dot_edges(out)
    assert ("debian:bookworm", "twelve:1.0", None) in edges
    assert ("debian:bookworm", "buildpack-deps:bookworm-curl", None) in edges
    assert ("python:3.12.7-bookworm", "linuxapp:1.0", None) in edges
    assert len(edges) == 6


def test_mermaid(cli: Cli) -> None:
    status, out, _ = cli.run("graph", "python:3.12-slim", "--format", "mermaid")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "flowchart TD"
    assert (
        '  n0["python:3.12-slim<br/>3.12.7-slim-bookworm, 3.12-slim-bookworm, 3.12.7-slim"]'
        in lines
    )
    assert sum("-->" in line for line in lines) == 4
    assert any("-->|arm32v5|" in line for line in lines)


def test_graph_json(cli: Cli) -> None:
    data = cli.json("graph", "winapp")
    assert [n["id"] for n in data["nodes"]] == [
        "winapp:1.0",
        "python:3.12.7-windowsservercore-ltsc2025",
        "mcr.microsoft.com/windows/servercore:ltsc2025",
    ]
    assert data["nodes"][2]["kind"] == "external"
    assert data["edges"][0] == {
        "parent": "python:3.12.7-windowsservercore-ltsc2025",
        "child": "winapp:1.0",
        "architectures": ["windows-amd64"],
    }


def test_descendants_graph_labels_a_child_built_on_the_base_for_some_architectures(
    cli: Cli,
) -> None:
    _, out, _ = cli.run("graph", "debian:bookworm-slim", "--descendants")
    assert dot_edges(out) == {
        ("debian:bookworm-slim", "python:3.12.7-slim-bookworm", "amd64, arm64v8")
    }
