"""``indexer graph REF``: the lineage of a tag (or, with ``descendants``, what is built on it)
as a :class:`LineageGraph`, one node per stanza with its aliases folded in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from indexer.errors import ImageReferenceError
from indexer.lineage.graph import GraphNode, LineageGraph, NodeKind
from indexer.refs import SCRATCH, parse_ref
from indexer.store.queries.chains import UNRESOLVED, Chain, ancestor_chains
from indexer.store.queries.descendants import descendant_builds
from indexer.store.queries.lookup import (
    ResolvedTag,
    StanzaSummary,
    answering_stanzas,
    builds_by_stanza,
    resolve_tag,
    stanza_summaries,
)
from indexer.store.read import Reader

__all__ = ["lineage_graph"]


def _stanza_node(
    summary: StanzaSummary, title_tag: str | None = None, *, all_architectures: bool = False
) -> GraphNode:
    title = title_tag or summary.canonical_tag
    aliases = tuple(name for name in summary.tags if name != title)
    return GraphNode(
        f"{summary.repository}:{summary.canonical_tag}",
        f"{summary.repository}:{title}",
        NodeKind.IMAGE,
        aliases,
        architectures=summary.architectures if all_architectures else (),
    )


def _leaf_kind(ref: str) -> NodeKind:
    if ref == SCRATCH:
        return NodeKind.SCRATCH
    try:
        parsed = parse_ref(ref, default_tag=None)
    except ImageReferenceError:
        return NodeKind.EXTERNAL
    return NodeKind.UNINDEXED if parsed.is_official else NodeKind.EXTERNAL


async def _leaf_stanzas(reader: Reader, refs: Sequence[str]) -> dict[str, int]:
    """Own stanzas of official leaf refs the index knows (a Hub tag without that architecture)."""
    keys: dict[tuple[str, str], str] = {}
    for ref in refs:
        parsed = parse_ref(ref, default_tag=None) if _leaf_kind(ref) is NodeKind.UNINDEXED else None
        if parsed is not None and parsed.tag is not None:
            keys[(parsed.repository, parsed.tag)] = ref
    if not keys:
        return {}
    rows = await reader.rows(
        "SELECT r.name, t.name, t.stanza_id FROM image_repositories r"
        " JOIN tags t ON t.repository_id = r.id"
        " WHERE r.name = ANY(:repositories) AND t.name = ANY(:tags) AND t.stanza_id IS NOT NULL",
        {
            "repositories": sorted({repository for repository, _ in keys}),
            "tags": sorted({tag for _, tag in keys}),
        },
    )
    return {
        keys[(repository, tag)]: stanza_id
        for repository, tag, stanza_id in rows
        if stanza_id is not None and (repository, tag) in keys
    }


class _Builder:
    """Adds nodes and edges, folding every stanza into one node."""

    def __init__(
        self, summaries: Mapping[int, StanzaSummary], *, all_architectures: bool = False
    ) -> None:
        """``all_architectures``: label an edge that carries only some of its child's
        architectures (drawing descendants); else only those the picture walked count."""
        self.graph = LineageGraph()
        self.summaries = dict(summaries)
        self.all_architectures = all_architectures

    def stanza(self, stanza_id: int, *, title_tag: str | None = None, focus: bool = False) -> str:
        node = _stanza_node(
            self.summaries[stanza_id], title_tag, all_architectures=self.all_architectures
        )
        if focus:
            node = replace(node, focus=True)
        self.graph.add_node(node)
        return node.key

    def roots(self, roots: Sequence[int], asked_tag: str) -> None:
        """The focus nodes: the tag's own stanza titled by the asked name, then the others."""
        for index, stanza_id in enumerate(roots):
            self.stanza(stanza_id, title_tag=asked_tag if index == 0 else None, focus=True)

    def leaf(self, ref: str, kind: NodeKind) -> str:
        self.graph.add_node(GraphNode(ref, ref, kind))
        return ref

    def unresolved(self, child: str) -> str:
        key = f"unresolved parent of {child}"
        self.graph.add_node(GraphNode(key, "unresolved parent", NodeKind.UNRESOLVED))
        return key


async def _ancestors_graph(
    reader: Reader, resolved: ResolvedTag, roots: Sequence[int]
) -> LineageGraph:
    stanzas = [s for s in await answering_stanzas(reader, resolved) if s.id in set(roots)]
    builds = await builds_by_stanza(reader, stanzas)
    seeds = {build.id: stanza.id for stanza in stanzas for build in builds[stanza.id]}
    chains: dict[int, Chain] = await ancestor_chains(reader, list(seeds))
    leaves = [link.ref for c in chains.values() for link in c.links if link.stanza_id is None]
    leaf_stanzas = await _leaf_stanzas(reader, leaves)
    ids = {*roots, *leaf_stanzas.values()}
    ids.update(link.stanza_id for c in chains.values() for link in c.links if link.stanza_id)
    builder = _Builder(await stanza_summaries(reader, list(ids)))
    builder.roots(roots, resolved.tag)
    for build_id, stanza_id in seeds.items():
        chain = chains.get(build_id)
        if chain is None:
            continue
        child = builder.stanza(stanza_id)
        for link in chain.links:
            stanza = link.stanza_id or leaf_stanzas.get(link.ref)
            parent = (
                builder.stanza(stanza)
                if stanza is not None
                else builder.leaf(link.ref, _leaf_kind(link.ref))
            )
            builder.graph.add_edge(parent, child, chain.architecture)
            child = parent
        if chain.stop == UNRESOLVED:
            builder.graph.add_edge(builder.unresolved(child), child, chain.architecture)
    return builder.graph


async def _descendants_graph(
    reader: Reader, resolved: ResolvedTag, roots: Sequence[int]
) -> LineageGraph:
    rows = await descendant_builds(reader, roots, tag_id=None if roots else resolved.tag_id)
    ids = {*roots, *(row.stanza_id for row in rows)}
    builder = _Builder(await stanza_summaries(reader, list(ids)), all_architectures=True)
    builder.roots(roots, resolved.tag)
    tag_node = f"{resolved.repository}:{resolved.tag}"
    if not roots:
        builder.graph.add_node(GraphNode(tag_node, tag_node, NodeKind.IMAGE, focus=True))
    for row in sorted(rows, key=lambda r: (r.depth, r.stanza_id, r.architecture)):
        parent = builder.stanza(row.parent_stanza_id) if row.parent_stanza_id else tag_node
        builder.graph.add_edge(parent, builder.stanza(row.stanza_id), row.architecture)
    return builder.graph


async def lineage_graph(reader: Reader, ref: str, *, descendants: bool = False) -> LineageGraph:
    """The ancestors of REF (every architecture), or with ``descendants`` the images built on it."""
    resolved = await resolve_tag(reader, ref)
    roots = [stanza.id for stanza in await answering_stanzas(reader, resolved)]
    if descendants:
        return await _descendants_graph(reader, resolved, roots)
    if not roots:
        graph = LineageGraph()
        name = f"{resolved.repository}:{resolved.tag}"
        graph.add_node(GraphNode(name, name, NodeKind.IMAGE, focus=True))
        return graph
    return await _ancestors_graph(reader, resolved, roots)
