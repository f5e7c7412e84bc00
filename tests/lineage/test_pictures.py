"""DOT and Mermaid output of a lineage graph (pure); DOT is parsed with pydot's Graphviz grammar."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.lineage.dot import to_dot
from indexer.lineage.graph import GraphNode, LineageGraph, NodeKind
from indexer.lineage.mermaid import to_mermaid

pydot = pytest.importorskip("pydot")
#: pydot 4 still calls pyparsing's old camelCase names
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def sample() -> LineageGraph:
    graph = LineageGraph()
    graph.add_node(GraphNode("scratch", "scratch", NodeKind.SCRATCH))
    graph.add_node(
        GraphNode("debian:bookworm-slim", "debian:bookworm-slim", NodeKind.IMAGE, ("12-slim",))
    )
    graph.add_node(GraphNode("debian:bullseye-slim", "debian:bullseye-slim", NodeKind.IMAGE))
    graph.add_node(
        GraphNode(
            "python:3.12.7-slim-bookworm",
            "python:3.12-slim",
            NodeKind.IMAGE,
            ("3.12.7-slim-bookworm", "3.12-slim-bookworm", "3.12.7-slim"),
            focus=True,
        )
    )
    graph.add_node(
        GraphNode(
            "mcr.microsoft.com/windows/servercore:ltsc2022",
            "mcr.microsoft.com/windows/servercore:ltsc2022",
            NodeKind.EXTERNAL,
        )
    )
    graph.add_node(
        GraphNode("unresolved parent of x", 'odd "name" <here> | pipe', NodeKind.UNRESOLVED)
    )
    for arch in ("amd64", "arm64v8"):
        graph.add_edge("debian:bookworm-slim", "python:3.12.7-slim-bookworm", arch)
        graph.add_edge("scratch", "debian:bookworm-slim", arch)
    graph.add_edge("debian:bullseye-slim", "python:3.12.7-slim-bookworm", "arm32v5")
    graph.add_edge("scratch", "debian:bullseye-slim", "arm32v5")
    graph.add_edge("unresolved parent of x", "debian:bullseye-slim", "arm32v5")
    return graph


def parse_dot(source: str) -> object:
    graphs = pydot.graph_from_dot_data(source)
    assert graphs, "Graphviz grammar rejected the DOT source"
    return graphs[0]


def test_dot_parses_and_keeps_every_node_and_edge() -> None:
    graph = sample()
    parsed = parse_dot(to_dot(graph))
    names = {node.get_name().strip('"') for node in parsed.get_nodes()} - {"node", "edge"}
    assert names == set(graph.nodes)
    edges = {
        (e.get_source().strip('"'), e.get_destination().strip('"')) for e in parsed.get_edges()
    }
    assert edges == {(e.parent, e.child) for e in graph.edges}


def test_dot_labels_fold_aliases_and_mark_partial_edges() -> None:
    source = to_dot(sample())
    assert '"python:3.12.7-slim-bookworm" [label="python:3.12-slim\\n3.12.7-slim-bookworm' in source
    assert '"debian:bullseye-slim" -> "python:3.12.7-slim-bookworm" [label="arm32v5"]' in source
    assert (
        '"debian:bookworm-slim" -> "python:3.12.7-slim-bookworm" [label="amd64, arm64v8"]' in source
    )
    assert '"scratch" -> "debian:bookworm-slim";' in source
    assert 'odd \\"name\\"' in source


def test_mermaid_flowchart() -> None:
    source = to_mermaid(sample())
    lines = source.splitlines()
    assert lines[0] == "flowchart TD"
    assert sum(1 for line in lines if line.startswith("  n") and "[" in line) == 6
    assert '  n1["debian:bookworm-slim<br/>12-slim"]' in lines
    assert "  n2 -->|arm32v5| n3" in lines
    assert "#quot;name#quot; #lt;here#gt; #124; pipe" in source
    assert "  class n3 focus" in lines
    assert "  class n4 external" in lines


def test_edges_need_their_nodes() -> None:
    graph = LineageGraph()
    graph.add_node(GraphNode("a", "a", NodeKind.IMAGE))
    with pytest.raises(KeyError):
        graph.add_edge("a", "b", "amd64")


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=15),
        min_size=1,
        max_size=5,
        unique=True,
    )
)
def test_any_names_give_parsable_dot(names: list[str]) -> None:
    graph = LineageGraph()
    for name in names:
        graph.add_node(GraphNode(name, name, NodeKind.IMAGE, (name,)))
    for parent, child in itertools.pairwise(names):
        graph.add_edge(parent, child, "amd64")
    parsed = parse_dot(to_dot(graph))
    assert len(parsed.get_edges()) == len(names) - 1
