"""Mermaid ``flowchart`` source of a :class:`LineageGraph` (bases at the top)."""

from __future__ import annotations

from indexer.lineage.graph import GraphNode, LineageGraph, NodeKind

__all__ = ["to_mermaid"]

ALIASES_PER_LINE = 3

_CLASS_DEFS = {
    NodeKind.EXTERNAL: "stroke-dasharray: 5 5",
    NodeKind.SCRATCH: "fill:none,stroke:none",
    NodeKind.UNINDEXED: "stroke-dasharray: 2 2",
    NodeKind.UNRESOLVED: "stroke-dasharray: 2 2,color:#666",
}
_FOCUS_STYLE = "fill:#ffffe0,stroke-width:2px"


def _text(text: str) -> str:
    """Text safe inside a quoted Mermaid label (entity codes for quotes and brackets)."""
    replacements = {"&": "#amp;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "|": "#124;"}
    return "".join(replacements.get(char, char) for char in text)


def _label(node: GraphNode) -> str:
    lines = [_text(node.title)]
    for start in range(0, len(node.aliases), ALIASES_PER_LINE):
        lines.append(_text(", ".join(node.aliases[start : start + ALIASES_PER_LINE])))
    return "<br/>".join(lines)


def to_mermaid(graph: LineageGraph) -> str:
    """The graph as a Mermaid ``flowchart TD``; node ids are ``n0``, ``n1``, … in node order."""
    ids = {key: f"n{index}" for index, key in enumerate(graph.nodes)}
    lines = ["flowchart TD"]
    for key, node in graph.nodes.items():
        lines.append(f'  {ids[key]}["{_label(node)}"]')
    for edge in graph.edges:
        label = graph.edge_label(edge)
        arrow = f"-->|{_text(label)}|" if label else "-->"
        lines.append(f"  {ids[edge.parent]} {arrow} {ids[edge.child]}")
    used = {node.kind for node in graph.nodes.values()}
    for kind, style in _CLASS_DEFS.items():
        if kind in used:
            lines.append(f"  classDef {kind.value} {style}")
            members = ",".join(ids[k] for k, n in graph.nodes.items() if n.kind is kind)
            lines.append(f"  class {members} {kind.value}")
    focus = [ids[key] for key, node in graph.nodes.items() if node.focus]
    if focus:
        lines.append(f"  classDef focus {_FOCUS_STYLE}")
        lines.append(f"  class {','.join(focus)} focus")
    return "\n".join(lines) + "\n"
