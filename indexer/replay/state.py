"""The mutable state one replay server answers from: corpus, snapshot, faults, counters."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

from aiohttp import web

from indexer.replay.corpus import Corpus, Snapshot
from indexer.replay.counters import ReplayCounters
from indexer.replay.faults import FaultPlan, FaultSettings, TokenBucket
from indexer.replay.hub_render import HubPages
from indexer.replay.registry_images import RegistryAccess, RegistryOptions, published_images

__all__ = ["STATE_KEY", "ReplayState"]


class ReplayState:
    """Everything the handlers read; switched and tuned while the server runs."""

    def __init__(
        self,
        corpus: Corpus | Path,
        *,
        snapshot: str,
        faults: FaultSettings,
        seed: int,
        registry: RegistryOptions | None = None,
        registry_access: RegistryAccess | None = None,
        synthetic_tags: int = 0,
    ) -> None:
        self.corpus = corpus if isinstance(corpus, Corpus) else Corpus(corpus)
        self.snapshot: Snapshot = self.corpus.snapshot(snapshot)
        self.counters = ReplayCounters()
        self.published = published_images(self.corpus, registry)
        self.hub_pages = HubPages(self.corpus, self.published, synthetic_tags=synthetic_tags)
        self.registry_access = registry_access or RegistryAccess()
        #: manifest GETs counted against ``registry_access.pull_limit``
        self.pulls_taken = 0
        self.plan = FaultPlan(seed)
        self.faults = faults
        self.bucket: TokenBucket | None = faults.bucket()

    async def registry_body(self, repository: str, reference: str) -> tuple[str, bytes, str] | None:
        """``(media type, body, digest)`` of a manifest of ``repository`` by tag or digest."""
        snapshot = self.snapshot.name
        tags = await asyncio.to_thread(self.published.tags, snapshot, repository)
        if reference.startswith("sha256:"):
            digest = reference
        elif reference in tags:
            digest = tags[reference].view.digest
        else:
            return None
        found = self.published.body(digest)
        if found is None:
            return None
        return found[0], found[1], digest

    def set_registry_access(self, **changes: Any) -> RegistryAccess:
        """Change some registry knobs; a new pull limit starts a fresh window."""
        self.registry_access = dataclasses.replace(self.registry_access, **changes)
        if "pull_limit" in changes:
            self.pulls_taken = 0
        return self.registry_access

    def switch_snapshot(self, name: str) -> Snapshot:
        """Serve ``name`` from now on (``UnknownSnapshotError`` if there is no such folder)."""
        self.snapshot = self.corpus.snapshot(name)
        return self.snapshot

    def set_faults(self, **changes: Any) -> FaultSettings:
        """Change some fault knobs (the others keep their values); a new rate resets the bucket."""
        faults = dataclasses.replace(self.faults, **changes)
        if "rate_limit" in changes or "rate_burst" in changes:
            self.bucket = faults.bucket()
        self.faults = faults
        return faults


#: where the application keeps its :class:`ReplayState`
STATE_KEY = web.AppKey("replay_state", ReplayState)
