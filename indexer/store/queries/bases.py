"""Base distributions of builds: their ancestor chains turned into :class:`ChainNode` lists."""

from __future__ import annotations

from collections.abc import Mapping

from indexer.lineage.distribution import BaseDistribution, ChainNode, detect_distribution
from indexer.store.queries.chains import Chain
from indexer.store.queries.lookup import StanzaSummary, stanza_summaries
from indexer.store.read import Reader

__all__ = ["base_distributions", "chain_names"]


async def chain_names(reader: Reader, chains: Mapping[int, Chain]) -> dict[int, StanzaSummary]:
    """The stanzas met on ``chains`` (so each ancestor is known by all its Tags)."""
    ids = {link.stanza_id for chain in chains.values() for link in chain.links}
    return await stanza_summaries(reader, [i for i in ids if i is not None])


def _nodes(
    own: ChainNode, chain: Chain | None, names: Mapping[int, StanzaSummary]
) -> list[ChainNode]:
    nodes = [own]
    for link in chain.links if chain else ():
        summary = names.get(link.stanza_id) if link.stanza_id is not None else None
        nodes.append(ChainNode(link.ref, summary.tags if summary else ()))
    return nodes


async def base_distributions(
    reader: Reader,
    own_by_build: Mapping[int, ChainNode],
    chains: Mapping[int, Chain],
) -> dict[int, BaseDistribution | None]:
    """The base distribution of each build: ``own_by_build`` names the image each build makes."""
    names = await chain_names(reader, chains)
    return {
        build_id: detect_distribution(_nodes(own, chains.get(build_id), names))
        for build_id, own in own_by_build.items()
    }
