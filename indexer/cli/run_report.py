"""What ``indexer runs`` shows: each run's status, duration, counts and errors by kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from indexer.cli.render import Screen, plural, text_time
from indexer.errors import kind_words
from indexer.store.queries.runs import (
    ErrorKindCount,
    RunErrorRow,
    RunRow,
    TopError,
    error_kinds,
    latest_runs,
    run_errors,
    top_errors,
)
from indexer.store.read import Reader

__all__ = [
    "RunReport",
    "format_duration",
    "load_reports",
    "print_reports",
    "report_json",
    "reports_json",
]

#: error kinds named on a run's summary line; the rest are counted as "other"
KINDS_SHOWN = 4


@dataclass
class RunReport:
    """One run with its errors summarised."""

    run: RunRow
    kinds: list[ErrorKindCount] = field(default_factory=list)
    top: list[TopError] = field(default_factory=list)
    items: list[RunErrorRow] = field(default_factory=list)

    def duration_seconds(self, now: datetime) -> float:
        return ((self.run.finished_at or now) - self.run.started_at).total_seconds()


async def load_reports(
    reader: Reader, limit: int, *, with_items: bool, top: int = 5
) -> list[RunReport]:
    """The newest ``limit`` runs, newest first; ``with_items`` adds each run's item errors."""
    runs = await latest_runs(reader, limit)
    items = {run.id: await run_errors(reader, run.id) for run in runs if with_items}
    kinds = await error_kinds(reader, [run.id for run in runs])
    reports = []
    for run in runs:
        report = RunReport(run, kinds[run.id], items=items.get(run.id, []))
        if run.errors or report.kinds:
            report.top = await top_errors(reader, run.id, top)
        reports.append(report)
    return reports


def utcnow() -> datetime:
    return datetime.now(UTC)


def format_duration(seconds: float) -> str:
    """``12.3s``, ``4m05s``, ``2h03m``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def report_json(report: RunReport, now: datetime) -> dict[str, Any]:
    run = report.run
    return {
        "id": run.id,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_seconds": round(report.duration_seconds(now), 3),
        "status": run.status,
        "only": run.only,
        "full_reconcile": run.full_reconcile,
        "library_commit": run.library_commit,
        "library_files_fetched": run.library_files_fetched,
        "dockerfiles_fetched": run.dockerfiles_fetched,
        "tags_added": run.tags_added,
        "tags_changed": run.tags_changed,
        "tags_removed": run.tags_removed,
        "parents_resolved": run.parents_resolved,
        "parents_unresolved": run.parents_unresolved,
        "errors": run.errors,
        "errors_by_kind": [
            {"item_kind": k.item_kind, "error_kind": k.error_kind, "count": k.count}
            for k in report.kinds
        ],
        "top_errors": [
            {
                "item_kind": t.item_kind,
                "error_kind": t.error_kind,
                "message": t.message,
                "count": t.count,
                "example_item": t.example_item,
            }
            for t in report.top
        ],
        "requests": run.requests,
        "message": run.message,
        "error_items": [
            {
                "item_kind": e.item_kind,
                "item": e.item,
                "error_kind": e.error_kind,
                "message": e.message,
            }
            for e in report.items
        ],
    }


def reports_json(reports: list[RunReport], now: datetime | None = None) -> list[dict[str, Any]]:
    """``indexer runs --json``: one object per run, newest first."""
    now = now or utcnow()
    return [report_json(report, now) for report in reports]


def _what(item_kind: str, error_kind: str) -> str:
    """``dockerfile not found``: the item and the error kind in words."""
    return f"{item_kind.replace('-', ' ')} {kind_words(error_kind)}"


def _kinds_line(report: RunReport) -> str:
    shown = report.kinds[:KINDS_SHOWN]
    parts = [f"{_what(k.item_kind, k.error_kind)} {k.count}" for k in shown]
    rest = sum(k.count for k in report.kinds[KINDS_SHOWN:])
    if rest:
        parts.append(f"other {rest}")
    return ", ".join(parts)


def _summary_line(report: RunReport) -> str | None:
    """A line under the table for a run worth a second look; ``None`` for a clean run."""
    run = report.run
    notes = []
    if run.errors or report.kinds:
        count = run.errors or sum(k.count for k in report.kinds)
        notes.append(f"{plural(count, 'error')}: {_kinds_line(report)}")
    if run.message:
        notes.append(run.message)
    if not notes:
        return None
    return f"run {run.id} ({run.status}): " + "; ".join(notes)


def print_reports(
    reports: list[RunReport],
    *,
    show_errors: bool,
    now: datetime | None = None,
    wide: bool = False,
) -> None:
    """The runs as a table, then a line per run with errors or a message.

    ``show_errors`` adds each run's most frequent error messages.
    """
    now = now or utcnow()
    screen = Screen.stdout(wide=wide)
    screen.table(
        [
            "id",
            "started",
            "duration",
            "status",
            "only",
            "files",
            "dockerfiles",
            "tags +/~/-",
            "errors",
        ],
        (
            (
                r.run.id,
                text_time(r.run.started_at),
                format_duration(r.duration_seconds(now)) + ("" if r.run.finished_at else " so far"),
                r.run.status,
                ", ".join(r.run.only or []) or "all",
                r.run.library_files_fetched,
                r.run.dockerfiles_fetched,
                f"+{r.run.tags_added} ~{r.run.tags_changed} -{r.run.tags_removed}",
                r.run.errors,
            )
            for r in reports
        ),
    )
    for report in reports:
        line = _summary_line(report)
        if line:
            screen.line(line)
        if not show_errors:
            continue
        for top in report.top:
            screen.line(
                f"  {top.count}× {_what(top.item_kind, top.error_kind)}: {top.message}"
                f" (e.g. {top.example_item})"
            )
