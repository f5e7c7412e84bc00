"""``indexer history REF [--at DATE]``: the digests a tag has pointed at, with first and last seen.

The store writes ``tag_history`` only when a digest changes (a no-change sync writes
nothing), so the newest interval's stored ``last_seen`` is stale. For a tag still
on the Hub that interval's ``last_seen`` is the later of the stored value and the
start of the latest finished sync run with status ok or partial that covered the
repository (all repositories, or ``only`` naming it) and recorded no ``hub-page``
error for it: that run paged the repository's Hub tags and saw the digest
unchanged. The newest interval of a tag removed from the Hub ends when a sync saw
it gone (``tags.removed_at``), just as an interval closed by a digest change ends
when a sync saw the new digest. ``v_tag_history`` computes the same in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from indexer.lineage.history import DigestInterval, interval_at
from indexer.store.queries.lookup import resolve_tag
from indexer.store.read import Reader
from indexer.store.read.values import iso, json_value, stored_time, time_value

__all__ = ["CONFIRMING_STATUSES", "HistoryView", "latest_confirmation", "tag_history"]

#: finished runs whose start confirms every tag of the repositories they covered
CONFIRMING_STATUSES = ("ok", "partial")


@dataclass(frozen=True, slots=True)
class HistoryView:
    """A tag's digest intervals, oldest first, and the answer for ``at`` when one was asked."""

    repository: str
    tag: str
    removed_at: datetime | None
    intervals: list[DigestInterval]
    at: datetime | None = None
    at_interval: DigestInterval | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "repository": self.repository,
            "tag": self.tag,
            "removed_at": iso(self.removed_at),
            "intervals": [interval.as_json() for interval in self.intervals],
        }
        if self.at is not None:
            data["at"] = iso(self.at)
            data["digest_at"] = self.at_interval.digest if self.at_interval else None
        return data


def _covers(only: Any, repository: str) -> bool:
    return only is None or (isinstance(only, list) and repository in only)


#: the runs that confirm a repository's tags, newest first: finished ok/partial runs that
#: recorded no ``hub-page`` error for it (by name or page URL)
_CONFIRMING_RUNS = f"""
SELECT r.started_at, r.only FROM sync_runs r
WHERE r.status IN ({", ".join(f"'{status}'" for status in CONFIRMING_STATUSES)})
  AND r.finished_at IS NOT NULL
  AND NOT EXISTS (
      SELECT 1 FROM sync_errors e
      WHERE e.run_id = r.id AND e.item_kind = 'hub-page'
        AND (e.item = :repository OR e.item LIKE :page_pattern))
ORDER BY r.started_at DESC
"""


async def latest_confirmation(reader: Reader, repository: str) -> datetime | None:
    """Start of the latest finished ok/partial run that covered ``repository`` and paged
    its Hub tags without error."""
    runs = await reader.rows(
        _CONFIRMING_RUNS,
        {"repository": repository, "page_pattern": f"%/repositories/{repository}/tags%"},
    )
    for started_at, only in runs:
        if _covers(json_value(only), repository):
            return time_value(started_at)
    return None


async def tag_history(reader: Reader, ref: str, *, at: datetime | None = None) -> HistoryView:
    """The digest intervals of REF, with a truthful ``last_seen`` for the current one."""
    resolved = await resolve_tag(reader, ref)
    ((stored_removed_at,),) = await reader.rows(
        "SELECT removed_at FROM tags WHERE id = :tag_id", {"tag_id": resolved.tag_id}
    )
    removed_at = time_value(stored_removed_at)
    rows = await reader.rows(
        "SELECT digest, first_seen, last_seen FROM tag_history WHERE tag_id = :tag_id"
        " ORDER BY first_seen",
        {"tag_id": resolved.tag_id},
    )
    intervals = [
        DigestInterval(digest, stored_time(first), stored_time(last))
        for digest, first, last in rows
    ]
    if intervals and removed_at is not None:
        newest = intervals[-1]
        intervals[-1] = replace(newest, last_seen=max(newest.last_seen, removed_at))
    elif intervals:
        confirmed = await latest_confirmation(reader, resolved.repository)
        newest = intervals[-1]
        last_seen = max(newest.last_seen, confirmed) if confirmed else newest.last_seen
        intervals[-1] = replace(newest, last_seen=last_seen, current=True)
    return HistoryView(
        repository=resolved.repository,
        tag=resolved.tag,
        removed_at=removed_at,
        intervals=intervals,
        at=at,
        at_interval=interval_at(intervals, at) if at is not None else None,
    )
