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

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from indexer.lineage.history import DigestInterval, interval_at
from indexer.store.models import SyncError, SyncRun, Tag, TagHistory
from indexer.store.queries.lookup import resolve_tag
from indexer.store.queries.show import iso

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


def _hub_page_failed(repository: str) -> Any:
    """The run recorded a ``hub-page`` error for ``repository`` (by name or page URL)."""
    return (
        select(SyncError.id)
        .where(
            SyncError.run_id == SyncRun.id,
            SyncError.item_kind == "hub-page",
            or_(
                SyncError.item == repository,
                SyncError.item.like(f"%/repositories/{repository}/tags%"),
            ),
        )
        .exists()
    )


async def latest_confirmation(session: AsyncSession, repository: str) -> datetime | None:
    """Start of the latest finished ok/partial run that covered ``repository`` and paged
    its Hub tags without error."""
    runs = await session.execute(
        select(SyncRun.started_at, SyncRun.only)
        .where(
            SyncRun.status.in_(CONFIRMING_STATUSES),
            SyncRun.finished_at.is_not(None),
            ~_hub_page_failed(repository),
        )
        .order_by(SyncRun.started_at.desc())
    )
    for started_at, only in runs:
        if _covers(only, repository):
            return started_at
    return None


async def tag_history(
    session: AsyncSession, ref: str, *, at: datetime | None = None
) -> HistoryView:
    """The digest intervals of REF, with a truthful ``last_seen`` for the current one."""
    resolved = await resolve_tag(session, ref)
    removed_at = await session.scalar(select(Tag.removed_at).where(Tag.id == resolved.tag_id))
    rows = (
        await session.execute(
            select(TagHistory.digest, TagHistory.first_seen, TagHistory.last_seen)
            .where(TagHistory.tag_id == resolved.tag_id)
            .order_by(TagHistory.first_seen)
        )
    ).all()
    intervals = [DigestInterval(digest, first, last) for digest, first, last in rows]
    if intervals and removed_at is not None:
        newest = intervals[-1]
        intervals[-1] = replace(newest, last_seen=max(newest.last_seen, removed_at))
    elif intervals:
        confirmed = await latest_confirmation(session, resolved.repository)
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
