"""The lineage as a graph: one node per image (aliases folded), edges from parent to child.

A node is an indexed stanza (keyed ``repository:canonical_tag``, labelled with
its aliases), an external base (``mcr.microsoft.com/windows/servercore:ltsc2022``),
``scratch``, an official image the index does not know, or an unresolved parent.
An edge records the architectures built along it, so a parent that differs per
architecture shows as two edges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["GraphEdge", "GraphNode", "LineageGraph", "NodeKind"]


class NodeKind(StrEnum):
    """What a node stands for."""

    IMAGE = "image"
    EXTERNAL = "external"
    SCRATCH = "scratch"
    UNINDEXED = "unindexed"
    UNRESOLVED = "unresolved"


@dataclass(frozen=True, slots=True)
class GraphNode:
    """One image of the picture."""

    key: str
    #: the name to show first (``python:3.12-slim``)
    title: str
    kind: NodeKind
    #: the other names folded into this node (the stanza's other Tags, without the title's)
    aliases: tuple[str, ...] = ()
    #: the node the picture is about
    focus: bool = False
    #: every architecture the image is built for, when known (else: those its edges carry)
    architectures: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GraphEdge:
    """``child`` is built on ``parent`` for ``architectures``."""

    parent: str
    child: str
    architectures: tuple[str, ...]


@dataclass(slots=True)
class LineageGraph:
    """Nodes and parent->child edges, in insertion order (so output is deterministic)."""

    nodes: dict[str, GraphNode] = field(default_factory=dict)
    _edges: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    #: every architecture a node's edges carry, to decide when an edge needs a label
    _node_architectures: dict[str, set[str]] = field(default_factory=dict)

    def add_node(self, node: GraphNode) -> None:
        """Add ``node``; a node added twice keeps its first form, made focus if either is."""
        current = self.nodes.get(node.key)
        if current is None:
            self.nodes[node.key] = node
        elif node.focus and not current.focus:
            self.nodes[node.key] = GraphNode(
                current.key,
                current.title,
                current.kind,
                current.aliases,
                focus=True,
                architectures=current.architectures,
            )

    def add_edge(self, parent: str, child: str, architecture: str) -> None:
        """Record that ``child`` is built on ``parent`` for ``architecture`` (nodes must exist)."""
        if parent not in self.nodes or child not in self.nodes:
            raise KeyError(f"edge {parent} -> {child} names a node not in the graph")
        arches = self._edges.setdefault((parent, child), [])
        if architecture not in arches:
            arches.append(architecture)
        self._node_architectures.setdefault(child, set()).add(architecture)

    @property
    def edges(self) -> list[GraphEdge]:
        return [
            GraphEdge(parent, child, tuple(arches))
            for (parent, child), arches in self._edges.items()
        ]

    def edge_label(self, edge: GraphEdge) -> str | None:
        """The architectures of ``edge`` when they are not all of its child's; else None."""
        child = self.nodes[edge.child]
        built = set(child.architectures) or self._node_architectures.get(edge.child, set())
        if set(edge.architectures) >= built:
            return None
        return ", ".join(edge.architectures)
