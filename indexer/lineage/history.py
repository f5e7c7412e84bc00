"""Digest intervals of a tag, and "what did it point at on date X".

An interval is ``[first_seen, last_seen]``: the sync that first saw the digest,
and the last moment the index knows it was still current. Intervals of one tag
tile the time line: a closed interval ends when a sync saw the tag move on, and
that is when the next one starts, so at a boundary the newer digest answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

__all__ = ["DigestInterval", "interval_at", "parse_moment"]


@dataclass(frozen=True, slots=True)
class DigestInterval:
    """The tag pointed at ``digest`` from ``first_seen`` until at least ``last_seen``."""

    digest: str
    first_seen: datetime
    last_seen: datetime
    #: the newest interval of a tag still on the Hub: it may go on after ``last_seen``
    current: bool = False

    def as_json(self) -> dict[str, object]:
        return {
            "digest": self.digest,
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
            "current": self.current,
        }


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_moment(text: str) -> datetime:
    """An ISO date (midnight UTC) or date-time (UTC unless it names a zone)."""
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an ISO date or date-time: {text!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def interval_at(intervals: Sequence[DigestInterval], moment: datetime) -> DigestInterval | None:
    """The interval the tag was in at ``moment``, or None when the index cannot tell.

    Before the first interval nothing is known. After the last ``last_seen`` the
    current interval still answers (the tag has not been seen to move since), a
    closed last interval (a tag removed from the Hub) does not.
    """
    ordered = sorted(intervals, key=lambda interval: interval.first_seen)
    found: DigestInterval | None = None
    for interval in ordered:
        if interval.first_seen <= moment:
            found = interval
    if found is None:
        return None
    if found.current or moment <= found.last_seen:
        return found
    return None
