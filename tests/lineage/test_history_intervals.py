"""Which digest a tag pointed at on a date (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from indexer.lineage.history import DigestInterval, interval_at, parse_moment

JAN = datetime(2026, 1, 30, 3, tzinfo=UTC)
MAR = datetime(2026, 3, 19, 3, tzinfo=UTC)
APR = datetime(2026, 4, 1, 3, tzinfo=UTC)
OLD = DigestInterval("sha256:old", JAN, MAR)
NEW = DigestInterval("sha256:new", MAR, APR, current=True)


@pytest.mark.parametrize(
    ("moment", "digest"),
    [
        (datetime(2026, 1, 1, tzinfo=UTC), None),
        (JAN, "sha256:old"),
        (datetime(2026, 2, 15, tzinfo=UTC), "sha256:old"),
        (MAR, "sha256:new"),
        (datetime(2026, 6, 1, tzinfo=UTC), "sha256:new"),
    ],
)
def test_interval_at(moment: datetime, digest: str | None) -> None:
    found = interval_at([NEW, OLD], moment)
    assert (found.digest if found else None) == digest


def test_a_closed_last_interval_answers_nothing_after_it() -> None:
    closed = DigestInterval("sha256:new", MAR, APR, current=False)
    assert interval_at([OLD, closed], datetime(2026, 6, 1, tzinfo=UTC)) is None
    assert interval_at([OLD, closed], APR) == closed


def test_parse_moment() -> None:
    assert parse_moment("2026-03-19") == datetime(2026, 3, 19, tzinfo=UTC)
    assert parse_moment("2026-03-19T04:05:06Z") == datetime(2026, 3, 19, 4, 5, 6, tzinfo=UTC)
    assert parse_moment("2026-03-19T06:05:06+02:00") == datetime(2026, 3, 19, 4, 5, 6, tzinfo=UTC)
    assert parse_moment("2026-03-19 04:05") == datetime(2026, 3, 19, 4, 5, tzinfo=UTC)
    with pytest.raises(ValueError, match="ISO"):
        parse_moment("yesterday")


def test_json_uses_z_times() -> None:
    assert NEW.as_json() == {
        "digest": "sha256:new",
        "first_seen": "2026-03-19T03:00:00Z",
        "last_seen": "2026-04-01T03:00:00Z",
        "current": True,
    }
