"""The layered layout of the lineage picture (pure): parents above children, no overlaps."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from indexer.lineage.graph import GraphNode, LineageGraph, NodeKind
from indexer.web.layout import add_children, layered_layout


def chain_graph() -> LineageGraph:
    """python:3-slim on debian:trixie-slim on scratch, arm32v5 on bookworm-slim instead."""
    graph = LineageGraph()
    graph.add_node(
        GraphNode("python:3.14-slim", "python:3-slim", NodeKind.IMAGE, ("3.14-slim",), focus=True)
    )
    graph.add_node(GraphNode("debian:trixie-slim", "debian:trixie-slim", NodeKind.IMAGE))
    graph.add_node(GraphNode("debian:bookworm-slim", "debian:bookworm-slim", NodeKind.IMAGE))
    graph.add_node(GraphNode("scratch", "scratch", NodeKind.SCRATCH))
    for arch in ("amd64", "arm64v8"):
        graph.add_edge("debian:trixie-slim", "python:3.14-slim", arch)
        graph.add_edge("scratch", "debian:trixie-slim", arch)
    graph.add_edge("debian:bookworm-slim", "python:3.14-slim", "arm32v5")
    graph.add_edge("scratch", "debian:bookworm-slim", "arm32v5")
    return graph


def test_parents_above_children_and_labels_for_partial_edges() -> None:
    picture = layered_layout(chain_graph())
    boxes = {node.key: node for node in picture.nodes}
    assert boxes["scratch"].y < boxes["debian:trixie-slim"].y < boxes["python:3.14-slim"].y
    assert boxes["debian:trixie-slim"].y == boxes["debian:bookworm-slim"].y
    assert boxes["python:3.14-slim"].focus
    assert boxes["python:3.14-slim"].subtitle == "+1 alias"
    assert boxes["scratch"].subtitle == "empty base"
    assert sorted(edge.label or "" for edge in picture.edges) == [
        "",
        "",
        "amd64, arm64v8",
        "arm32v5",
    ]
    # official images link to their pages; scratch is no image to show
    assert {node.key: node.ref for node in picture.nodes} == {
        "python:3.14-slim": "python:3-slim",
        "debian:trixie-slim": "debian:trixie-slim",
        "debian:bookworm-slim": "debian:bookworm-slim",
        "scratch": None,
    }


def test_a_cycle_in_bad_data_ends() -> None:
    graph = LineageGraph()
    graph.add_node(GraphNode("a:1", "a:1", NodeKind.IMAGE))
    graph.add_node(GraphNode("b:1", "b:1", NodeKind.IMAGE))
    graph.add_edge("a:1", "b:1", "amd64")
    graph.add_edge("b:1", "a:1", "amd64")
    picture = layered_layout(graph)
    assert len(picture.nodes) == 2
    assert all(0 <= node.y < picture.height for node in picture.nodes)


def test_an_unresolved_parent_is_no_link() -> None:
    graph = LineageGraph()
    graph.add_node(GraphNode("x:1", "x:1", NodeKind.IMAGE, focus=True))
    graph.add_node(GraphNode("unresolved parent of x:1", "unresolved parent", NodeKind.UNRESOLVED))
    graph.add_edge("unresolved parent of x:1", "x:1", "amd64")
    boxes = {node.key: node for node in layered_layout(graph).nodes}
    assert boxes["unresolved parent of x:1"].ref is None
    assert boxes["x:1"].ref == "x:1"


@st.composite
def dags(draw: st.DrawFn) -> LineageGraph:
    count = draw(st.integers(min_value=1, max_value=14))
    graph = LineageGraph()
    for index in range(count):
        graph.add_node(
            GraphNode(
                f"n{index}", f"image{index}:" + "t" * draw(st.integers(0, 60)), NodeKind.IMAGE
            )
        )
    for child in range(1, count):
        for parent in draw(st.sets(st.integers(0, child - 1), max_size=3)):
            graph.add_edge(f"n{parent}", f"n{child}", draw(st.sampled_from(["amd64", "arm64v8"])))
    return graph


@given(dags())
def test_any_dag_is_placed_in_order_without_overlaps(graph: LineageGraph) -> None:
    picture = layered_layout(graph)
    boxes = {node.key: node for node in picture.nodes}
    assert set(boxes) == set(graph.nodes)
    for edge in graph.edges:
        assert boxes[edge.parent].y < boxes[edge.child].y
    for node in picture.nodes:
        assert node.x >= 0 and node.x + node.width <= picture.width + 0.5
        assert node.y >= 0 and node.y + node.height <= picture.height
    by_row: dict[float, list[tuple[float, float]]] = {}
    for node in picture.nodes:
        by_row.setdefault(node.y, []).append((node.x, node.x + node.width))
    for spans in by_row.values():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end <= start
    assert len(picture.edges) == len(graph.edges)


def test_children_are_drawn_under_the_focus_up_to_a_limit() -> None:
    graph = chain_graph()
    rows = [
        {
            "repository": f"app{index}",
            "tag": "1",
            "aliases": ["1", "1.0"],
            "architectures": ["amd64"],
            "depth": 1,
        }
        for index in range(5)
    ]
    rows.append({**rows[0], "repository": "deep", "depth": 2})
    assert add_children(graph, rows, 3) == 2
    picture = layered_layout(graph)
    boxes = {node.key: node for node in picture.nodes}
    assert {"app0:1", "app1:1", "app2:1"} <= set(boxes)
    assert "app3:1" not in boxes and "deep:1" not in boxes
    assert boxes["app0:1"].y > boxes["python:3.14-slim"].y
    assert boxes["app0:1"].subtitle == "+1 alias"
    # amd64 only, of a child built for amd64 only: no label on the edge
    assert len(picture.edges) == 4 + 3
