"""Graphviz DOT source of a :class:`LineageGraph` (bases at the top, arrows towards children)."""

from __future__ import annotations

from indexer.lineage.graph import GraphNode, LineageGraph, NodeKind

__all__ = ["to_dot"]

#: aliases per label line, so long alias lists wrap
ALIASES_PER_LINE = 3

_NODE_STYLES: dict[NodeKind, str] = {
    NodeKind.IMAGE: 'shape=box, style="rounded"',
    NodeKind.EXTERNAL: 'shape=box, style="dashed"',
    NodeKind.SCRATCH: "shape=plaintext",
    NodeKind.UNINDEXED: 'shape=box, style="dotted"',
    NodeKind.UNRESOLVED: 'shape=box, style="dotted", fontcolor="gray40"',
}


def _quote(text: str) -> str:
    """A DOT double-quoted string; line breaks become ``\\n`` escapes."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n") + '"'


def _label(node: GraphNode) -> str:
    lines = [node.title]
    for start in range(0, len(node.aliases), ALIASES_PER_LINE):
        lines.append(", ".join(node.aliases[start : start + ALIASES_PER_LINE]))
    return "\n".join(lines)


def _attributes(node: GraphNode) -> str:
    style = _NODE_STYLES[node.kind]
    if node.focus:
        style = style.replace('style="rounded"', 'style="rounded,bold,filled"')
        style += ', fillcolor="lightyellow"'
    return f"label={_quote(_label(node))}, {style}"


def to_dot(graph: LineageGraph, *, name: str = "lineage") -> str:
    """The graph as a DOT ``digraph``."""
    lines = [
        f"digraph {_quote(name)} {{",
        "  rankdir=TB;",
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    lines.extend(f"  {_quote(node.key)} [{_attributes(node)}];" for node in graph.nodes.values())
    for edge in graph.edges:
        label = graph.edge_label(edge)
        suffix = f" [label={_quote(label)}]" if label else ""
        lines.append(f"  {_quote(edge.parent)} -> {_quote(edge.child)}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"
