"""A layered layout of a :class:`LineageGraph` for the web view's inline SVG (pure, no I/O).

Bases sit on top, the image the picture is about at the bottom:

1. each node's layer is the longest path from a node without parents (bad data with a
   cycle cannot loop: relaxation stops after as many rounds as there are nodes);
2. within a layer nodes are ordered by the mean position of their parents (barycentre),
   ties in the graph's insertion order, which keeps the output deterministic;
3. each layer is centred on the widest one; an edge is a vertical cubic curve from the
   parent's bottom to the child's top, labelled with its architectures when they are
   not all of the child's (:meth:`LineageGraph.edge_label`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from indexer.lineage.graph import GraphNode, LineageGraph, NodeKind

__all__ = ["EdgeBox", "NodeBox", "PictureLayout", "add_children", "layered_layout"]

#: average advance of one character of the node font, in SVG units
CHAR_WIDTH = 7.2
NODE_HEIGHT = 40
NODE_PADDING = 14
MIN_NODE_WIDTH = 90
MAX_LABEL_CHARS = 48
H_GAP = 24
V_GAP = 56
MARGIN = 12
#: nodes that stand for an official image the view may have a page for
LINKED = frozenset({NodeKind.IMAGE, NodeKind.UNINDEXED})


@dataclass(frozen=True, slots=True)
class NodeBox:
    """A node placed on the picture (top-left corner, size) with what it shows."""

    key: str
    title: str
    subtitle: str
    kind: NodeKind
    focus: bool
    x: float
    y: float
    width: float
    height: float
    #: the image reference the node links to, or None (an unresolved parent is no image)
    ref: str | None

    @property
    def centre_x(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True, slots=True)
class EdgeBox:
    """An edge as an SVG path, with an optional label at its middle."""

    path: str
    label: str | None
    label_x: float
    label_y: float


@dataclass(frozen=True, slots=True)
class PictureLayout:
    width: float
    height: float
    nodes: list[NodeBox]
    edges: list[EdgeBox]


def add_children(graph: LineageGraph, children: Sequence[Mapping[str, Any]], limit: int) -> int:
    """Draw the first ``limit`` direct children (``children --json`` rows of depth 1) under
    the focus node; answers how many were left out."""
    focus = next((key for key, node in graph.nodes.items() if node.focus), None)
    direct = [row for row in children if row["depth"] == 1]
    if focus is None:
        return len(direct)
    for row in direct[:limit]:
        key = f"{row['repository']}:{row['tag']}"
        if key in graph.nodes:
            continue
        aliases = tuple(name for name in row["aliases"] if name != row["tag"])
        graph.add_node(
            GraphNode(key, key, NodeKind.IMAGE, aliases, architectures=tuple(row["architectures"]))
        )
        for arch in row["architectures"]:
            graph.add_edge(focus, key, arch)
    return max(len(direct) - limit, 0)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + "…"


def _subtitle(graph: LineageGraph, key: str) -> str:
    node = graph.nodes[key]
    if node.kind is NodeKind.IMAGE:
        count = len(node.aliases)
        return f"+{count} alias{'es' if count != 1 else ''}" if count else "official image"
    return {
        NodeKind.EXTERNAL: "external image",
        NodeKind.SCRATCH: "empty base",
        NodeKind.UNINDEXED: "not indexed",
        NodeKind.UNRESOLVED: "FROM not resolved",
    }[node.kind]


def _layers(graph: LineageGraph) -> dict[str, int]:
    parents: dict[str, list[str]] = defaultdict(list)
    for edge in graph.edges:
        parents[edge.child].append(edge.parent)
    layer = dict.fromkeys(graph.nodes, 0)
    for _ in range(len(graph.nodes)):
        changed = False
        for child, own in parents.items():
            deepest = max(layer[parent] for parent in own) + 1
            if deepest > layer[child] and deepest < len(graph.nodes):
                layer[child] = deepest
                changed = True
        if not changed:
            break
    return layer


def layered_layout(graph: LineageGraph) -> PictureLayout:
    """Place every node of ``graph`` in layers, parents above children."""
    layer_of = _layers(graph)
    parents: dict[str, list[str]] = defaultdict(list)
    for edge in graph.edges:
        parents[edge.child].append(edge.parent)
    order = {key: index for index, key in enumerate(graph.nodes)}
    rows: dict[int, list[str]] = defaultdict(list)
    for key in graph.nodes:
        rows[layer_of[key]].append(key)
    position: dict[str, float] = {}
    for depth in sorted(rows):

        def barycentre(key: str) -> tuple[float, int]:
            placed = [position[p] for p in parents.get(key, []) if p in position]
            return (sum(placed) / len(placed) if placed else float(order[key]), order[key])

        rows[depth].sort(key=barycentre)
        for index, key in enumerate(rows[depth]):
            position[key] = float(index)

    labels = {key: (_clip(node.title), _subtitle(graph, key)) for key, node in graph.nodes.items()}
    widths = {
        key: max(MIN_NODE_WIDTH, max(len(t), len(s)) * CHAR_WIDTH + 2 * NODE_PADDING)
        for key, (t, s) in labels.items()
    }
    row_widths = {
        depth: sum(widths[k] for k in keys) + H_GAP * (len(keys) - 1)
        for depth, keys in rows.items()
    }
    total_width = max(row_widths.values(), default=0.0) + 2 * MARGIN
    boxes: dict[str, NodeBox] = {}
    for depth, keys in rows.items():
        x = (total_width - row_widths[depth]) / 2
        y = MARGIN + depth * (NODE_HEIGHT + V_GAP)
        for key in keys:
            node = graph.nodes[key]
            title, subtitle = labels[key]
            boxes[key] = NodeBox(
                key=key,
                title=title,
                subtitle=subtitle,
                kind=node.kind,
                focus=node.focus,
                x=round(x, 1),
                y=float(y),
                width=round(widths[key], 1),
                height=float(NODE_HEIGHT),
                ref=node.title if node.kind in LINKED else None,
            )
            x += widths[key] + H_GAP
    edges = []
    for edge in graph.edges:
        top, bottom = boxes[edge.parent], boxes[edge.child]
        x1, y1 = top.centre_x, top.y + top.height
        x2, y2 = bottom.centre_x, bottom.y
        bend = (y2 - y1) / 2
        path = (
            f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + bend:.1f} "
            f"{x2:.1f},{y2 - bend:.1f} {x2:.1f},{y2:.1f}"
        )
        edges.append(EdgeBox(path, graph.edge_label(edge), (x1 + x2) / 2, (y1 + y2) / 2 + 4))
    depth_count = max(rows, default=-1) + 1
    height = 2 * MARGIN + depth_count * NODE_HEIGHT + max(depth_count - 1, 0) * V_GAP
    return PictureLayout(
        width=round(total_width, 1),
        height=float(height),
        nodes=list(boxes.values()),
        edges=edges,
    )
