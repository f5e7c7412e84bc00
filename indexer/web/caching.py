"""Caching headers keyed to the last sync: what a page shows changes only when a sync ends.

The ETag is made of the latest sync run (id, status, end) and the representation
(HTML or JSON); a conditional request whose ``If-None-Match`` names it answers ``304``
without rendering. While a sync is running pages change as it writes, so they carry
no ETag then. Every answer says ``Cache-Control: no-cache`` (keep it, but ask again).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from indexer.store import queries
from indexer.store.read import Reader

__all__ = ["SyncMark", "etag_for", "last_sync_mark"]


@dataclass(frozen=True, slots=True)
class SyncMark:
    """The latest sync run, as far as caching cares."""

    run_id: int
    status: str
    finished_at: datetime | None

    @property
    def settled(self) -> bool:
        """No sync is writing: pages stay as they are until the next run."""
        return self.finished_at is not None and self.status != "running"

    @property
    def last_modified(self) -> str | None:
        return format_datetime(self.finished_at, usegmt=True) if self.finished_at else None


async def last_sync_mark(reader: Reader) -> SyncMark | None:
    runs = await queries.latest_runs(reader, 1)
    if not runs:
        return None
    run = runs[0]
    return SyncMark(run.id, run.status, run.finished_at)


def etag_for(mark: SyncMark | None, representation: str, version: str) -> str | None:
    """A weak ETag for pages read after ``mark``; None while a sync is running."""
    if mark is not None and not mark.settled:
        return None
    key = f"{version}|{representation}|" + (
        f"{mark.run_id}|{mark.status}|{mark.finished_at}" if mark else "empty"
    )
    return 'W/"' + hashlib.sha256(key.encode()).hexdigest()[:24] + '"'
