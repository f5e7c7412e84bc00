"""The mutable state one replay server answers from: corpus, snapshot, faults, counters."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from aiohttp import web

from indexer.replay.corpus import Corpus, Snapshot
from indexer.replay.counters import ReplayCounters
from indexer.replay.faults import FaultPlan, FaultSettings, TokenBucket
from indexer.replay.hub_render import HubPages

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
        synthetic_tags: int = 0,
    ) -> None:
        self.corpus = corpus if isinstance(corpus, Corpus) else Corpus(corpus)
        self.snapshot: Snapshot = self.corpus.snapshot(snapshot)
        self.counters = ReplayCounters()
        self.hub_pages = HubPages(self.corpus, synthetic_tags=synthetic_tags)
        self.plan = FaultPlan(seed)
        self.faults = faults
        self.bucket: TokenBucket | None = (
            TokenBucket(faults.rate_limit) if faults.rate_limit is not None else None
        )

    def switch_snapshot(self, name: str) -> Snapshot:
        """Serve ``name`` from now on (``UnknownSnapshotError`` if there is no such folder)."""
        self.snapshot = self.corpus.snapshot(name)
        return self.snapshot

    def set_faults(self, **changes: Any) -> FaultSettings:
        """Change some fault knobs (the others keep their values); a new rate resets the bucket."""
        faults = dataclasses.replace(self.faults, **changes)
        if "rate_limit" in changes:
            self.bucket = TokenBucket(faults.rate_limit) if faults.rate_limit is not None else None
        self.faults = faults
        return faults


#: where the application keeps its :class:`ReplayState`
STATE_KEY = web.AppKey("replay_state", ReplayState)
