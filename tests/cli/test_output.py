"""Text output: fitted to a terminal, whole with --wide, tab-separated when piped; words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from indexer.cli.migrate import migration_message
from indexer.cli.query_output import ancestor_lines, at_answer
from indexer.cli.render import Screen, fit_widths, plural, text_time
from indexer.errors import RetryableUpstreamError, describe, kind_words
from indexer.lineage.history import DigestInterval, interval_at
from indexer.store.migrate import MigrationResult
from indexer.store.queries import HistoryView, PlatformInfo

COLUMNS = ["image", "architectures", "aliases"]
ROWS = [
    ["python:3.12.7-slim-bookworm", "amd64, arm64v8", "3.12.7-slim-bookworm, 3.12-slim, slim"],
    ["node:22-bookworm-slim", "amd64", "22-bookworm-slim, 22-slim, lts-slim, current-slim"],
]


def test_fit_widths_narrows_the_widest_columns_first() -> None:
    assert fit_widths([10, 40, 30], [5, 6, 6], 80) == [10, 40, 30]
    assert fit_widths([10, 40, 30], [5, 6, 6], 70) == [10, 30, 30]
    assert fit_widths([10, 40, 30], [5, 6, 6], 50) == [10, 20, 20]
    assert fit_widths([10, 40, 30], [5, 6, 6], 10) == [5, 6, 6]
    assert sum(fit_widths([3, 97, 51, 12], [3, 6, 6, 6], 77)) == 77


def test_piped_tables_are_tab_separated_with_a_header(capsys: pytest.CaptureFixture[str]) -> None:
    Screen(terminal=False, width=0).table(COLUMNS, ROWS)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "image\tarchitectures\taliases"
    assert [line.split("\t") for line in lines[1:]] == ROWS


@pytest.mark.parametrize("width", [40, 60, 80])
def test_terminal_tables_fit_the_width(width: int, capsys: pytest.CaptureFixture[str]) -> None:
    Screen(terminal=True, width=width).table(COLUMNS, ROWS, keep=("image",))
    lines = capsys.readouterr().out.splitlines()
    assert all(len(_plain(line)) <= width for line in lines)
    assert any("…" in line for line in lines)
    if width >= 60:  # room for the kept column whole
        assert "python:3.12.7-slim-bookworm" in lines[1]


def test_wide_shows_every_value_whole(capsys: pytest.CaptureFixture[str]) -> None:
    Screen(terminal=True, width=40, wide=True).table(COLUMNS, ROWS)
    out = capsys.readouterr().out
    assert "…" not in out
    for row in ROWS:
        for value in row:
            assert value in out


def test_fields_wrap_under_their_value_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    chain = " → ".join(["buildpack-deps:trixie", "buildpack-deps:trixie-scm", "debian:trixie"])
    Screen(terminal=True, width=50).field("ancestors", chain)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > 1
    assert lines[0].startswith("  ancestors   buildpack-deps:trixie")
    assert all(line.startswith(" " * 14) for line in lines[1:])
    assert all(len(line) <= 50 for line in lines)
    Screen(terminal=False, width=0).field("ancestors", chain)
    assert capsys.readouterr().out == f"  ancestors   {chain}\n"


def _plain(line: str) -> str:
    return line.replace("\x1b[1m", "").replace("\x1b[0m", "")


def _platform(arch: str, ancestors: list[str], note: str | None = None) -> PlatformInfo:
    return PlatformInfo(
        architecture=arch,
        parent=ancestors[0] if ancestors else None,
        froms=None,
        git_repo="https://github.com/example/app.git",
        git_commit="a" * 40,
        directory=".",
        file="Dockerfile",
        builder="buildkit",
        error=None,
        stanza="3.23",
        ancestors=ancestors,
        ancestors_note=note,
    )


def test_equal_chains_are_grouped_across_architectures() -> None:
    unresolved = "parent of alpine:3.23 ({arch}) is unresolved: Dockerfile not found (404): http://x/{arch}/Dockerfile"
    platforms = [
        _platform(arch, ["alpine:3.23"], unresolved.format(arch=arch))
        for arch in ("amd64", "arm64v8", "s390x")
    ]
    assert ancestor_lines(platforms) == [
        "alpine:3.23 (parent of alpine:3.23 is unresolved: Dockerfile not found (404))"
    ]
    platforms = [
        _platform("amd64", ["debian:trixie-slim", "scratch"]),
        _platform("arm64v8", ["debian:trixie-slim", "scratch"]),
        _platform("arm32v5", ["debian:bookworm-slim", "scratch"]),
    ]
    assert ancestor_lines(platforms) == [
        "amd64, arm64v8: debian:trixie-slim → scratch",
        "arm32v5: debian:bookworm-slim → scratch",
    ]


def test_times_plurals_and_error_words() -> None:
    moment = datetime(2026, 8, 20, 10, 13, 59, 123456, tzinfo=UTC)
    assert text_time(moment) == "2026-08-20 10:13Z"
    assert text_time("2026-08-20T10:13:59.5+00:00") == "2026-08-20 10:13Z"
    assert text_time("2026-08-20T12:13:00+02:00") == "2026-08-20 10:13Z"
    assert text_time(None) == "-"
    assert plural(1, "image") == "1 image"
    assert plural(0, "image") == "0 images"
    assert plural(2, "entry", "entries") == "2 entries"
    assert kind_words("upstream-retryable") == "upstream failed"
    assert kind_words("some-new-kind") == "some new kind"
    failure = RetryableUpstreamError("gave up after 1 try: connection failed", url="http://x")
    assert describe(failure) == "upstream failed: gave up after 1 try: connection failed (http://x)"
    assert describe(OSError("disk full")) == "system error: disk full"
    assert "Error" not in describe(failure)


A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64


def _history(at: datetime, *, current: bool = True) -> HistoryView:
    first = DigestInterval(A, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
    last = DigestInterval(
        B, datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC), current
    )
    intervals = [first, last]
    return HistoryView("python", "3", None, intervals, at, interval_at(intervals, at))


def test_history_at_says_why() -> None:
    assert at_answer(_history(datetime(2026, 1, 15, tzinfo=UTC))) == f"2026-01-15 00:00Z: {A}"
    after = at_answer(_history(datetime(2026, 6, 1, tzinfo=UTC)))
    assert after == (
        f"2026-06-01 00:00Z: {B} (after the last sighting, 2026-03-01 00:00Z; no change seen since)"
    )
    before = at_answer(_history(datetime(2025, 6, 1, tzinfo=UTC)))
    assert before == "2025-06-01 00:00Z: unknown (before the first sighting, 2026-01-01 00:00Z)"
    gone = at_answer(_history(datetime(2026, 6, 1, tzinfo=UTC), current=False))
    assert gone is not None and "unknown (after the last sighting" in gone


def test_migration_messages() -> None:
    assert migration_message(MigrationResult("0006", "0006", ())) == (
        "database schema already at revision 0006 (the newest)"
    )
    assert migration_message(MigrationResult(None, "0006", ("0001", "0006"))) == (
        "database schema upgraded from an empty database to revision 0006 (2 revisions: 0001, 0006)"
    )
    assert migration_message(MigrationResult("0005", "0006", ("0006",))) == (
        "database schema upgraded from revision 0005 to revision 0006 (1 revision: 0006)"
    )
