"""The replay upstream: a local aiohttp server answering like Docker Hub and GitHub from a corpus.

Use it for offline runs, tests and benchmarks::

    async with ReplayServer(corpus_dir, snapshot="dense-current") as replay:
        settings = settings.replace(**replay.upstreams())
        ...
        replay.switch_snapshot("current")
        assert replay.counters.requests["dockerfile"] == ...

What the Hub serves at each snapshot is :func:`hub_tags_for` (rules in
:mod:`indexer.replay.hub_view`), with the digests of the registry's bodies
(:mod:`indexer.replay.registry_images`); faults are described in :mod:`indexer.replay.faults`,
counters in :mod:`indexer.replay.counters`, URL layout in :mod:`indexer.replay.server`.
"""

from __future__ import annotations

from indexer.replay.corpus import (
    Corpus,
    CorpusError,
    HubPlatform,
    HubTag,
    LibraryBlob,
    Snapshot,
    UnknownSnapshotError,
    git_blob_sha,
)
from indexer.replay.counters import ENDPOINT_KINDS, EndpointKind, ReplayCounters, classify
from indexer.replay.faults import FaultSettings
from indexer.replay.hub_view import (
    HubImageView,
    HubTagView,
    definition_fingerprint,
    derived_digest,
    hub_tags_for,
)
from indexer.replay.library_tags import TagDefinition, tag_definitions
from indexer.replay.server import UNSET, ReplayServer, build_app

__all__ = [
    "ENDPOINT_KINDS",
    "UNSET",
    "Corpus",
    "CorpusError",
    "EndpointKind",
    "FaultSettings",
    "HubImageView",
    "HubPlatform",
    "HubTag",
    "HubTagView",
    "LibraryBlob",
    "ReplayCounters",
    "ReplayServer",
    "Snapshot",
    "TagDefinition",
    "UnknownSnapshotError",
    "build_app",
    "classify",
    "definition_fingerprint",
    "derived_digest",
    "git_blob_sha",
    "hub_tags_for",
    "tag_definitions",
]
