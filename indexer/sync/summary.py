"""What a sync run counts while it runs (`SyncTally`) and what it reports at the end (`SyncSummary`)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from indexer.store.runs import RunCounts

__all__ = ["SyncSummary", "SyncTally", "summary_lines"]


@dataclass
class SyncTally:
    """Live counters of one run; the stages add to them, the progress display reads them."""

    #: library files in the listing that this run considers (all, or the --only ones)
    library_files_listed: int = 0
    #: library files this run reads (new or changed blob, or builds to retry)
    library_files_to_read: int = 0
    library_files_fetched: int = 0
    library_files_from_cache: int = 0
    library_files_written: int = 0
    stanzas_written: int = 0
    builds_written: int = 0
    parents_resolved: int = 0
    parents_unresolved: int = 0
    #: checks BuildKit would report (and still build) on the builds written, and their builds
    build_warnings: int = 0
    builds_with_warnings: int = 0
    #: distinct Dockerfiles the builds read need
    dockerfiles_needed: int = 0
    dockerfiles_from_cache: int = 0
    #: fetched from upstream with an answer (200)
    dockerfiles_fetched: int = 0
    #: upstream answered 404 (stored as missing)
    dockerfiles_missing: int = 0
    #: could not be had this run (retried next run)
    dockerfiles_failed: int = 0
    #: builds whose GitRepo host is not allowed (never requested)
    unsupported_builds: int = 0
    hub_repositories: int = 0
    hub_repositories_done: int = 0
    hub_pages: int = 0
    hub_full_page_throughs: int = 0
    hub_stopped_early: int = 0
    #: repositories whose last push on the Hub was the one already read: not paged
    hub_unchanged: int = 0
    tags_added: int = 0
    tags_changed: int = 0
    tags_removed: int = 0
    repositories_unmaintained: int = 0
    #: ``--only`` names the library does not list (each also an item error)
    not_listed: list[str] = field(default_factory=list)
    #: registry indexes read (pulls), platform manifests read for the layer check
    registry_indexes_read: int = 0
    registry_manifests_read: int = 0
    #: indexes (and manifests) left for the next run: the pull budget reached its reserve
    registry_left_for_later: int = 0
    #: item errors by error kind
    errors: Counter[str] = field(default_factory=Counter)
    #: items not had because of an upstream failure other than 404 (retried next run)
    items_lost: int = 0
    #: where the time went, in seconds: ``stages`` (listing, fetching and writing, up to
    #: the last write), ``decoding`` (Hub pages, CPU), ``writing`` (the writer thread's
    #: transactions), ``indexing`` (the indexes and keys a first load builds after its rows),
    #: ``relinking`` (the final ``link_parents``), ``registry`` (its stage)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def items_tried(self) -> int:
        """Library files read, Dockerfiles fetched and Hub repositories paged (or tried)."""
        dockerfiles = max(0, self.dockerfiles_needed - self.dockerfiles_from_cache)
        repositories = max(0, self.hub_repositories - self.hub_unchanged)
        return self.library_files_to_read + dockerfiles + repositories

    @property
    def lost_share(self) -> float:
        """The share of the items tried that were lost (0 when nothing was tried)."""
        tried = self.items_tried
        return min(1.0, self.items_lost / tried) if tried else 0.0

    def copy(self) -> SyncTally:
        """An independent copy (for the summary)."""
        return dataclasses.replace(
            self,
            errors=Counter(self.errors),
            not_listed=list(self.not_listed),
            seconds=dict(self.seconds),
        )

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["errors"] = dict(sorted(self.errors.items()))
        data["seconds"] = {key: round(value, 3) for key, value in sorted(self.seconds.items())}
        return data


@dataclass(frozen=True)
class SyncSummary:
    """The outcome of one finished sync run."""

    run_id: int
    #: ok, partial, failed or interrupted
    status: str
    library_commit: str | None
    #: the branch head was unchanged (304): no library file was looked at
    library_unchanged: bool
    duration_seconds: float
    tally: SyncTally
    #: HTTP traffic (``RequestStats.as_dict()``)
    requests: Mapping[str, Any]
    message: str | None = None

    @property
    def errors(self) -> int:
        return self.tally.error_count

    def run_counts(self) -> RunCounts:
        """The counts stored on the sync run row."""
        tally = self.tally
        return RunCounts(
            library_commit=self.library_commit,
            library_files_fetched=tally.library_files_fetched,
            dockerfiles_fetched=tally.dockerfiles_fetched,
            tags_added=tally.tags_added,
            tags_changed=tally.tags_changed,
            tags_removed=tally.tags_removed,
            parents_resolved=tally.parents_resolved,
            parents_unresolved=tally.parents_unresolved,
            errors=tally.error_count,
            requests=self.requests,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "library_commit": self.library_commit,
            "library_unchanged": self.library_unchanged,
            "duration_seconds": round(self.duration_seconds, 3),
            "counts": self.tally.as_dict(),
            "requests": dict(self.requests),
            "message": self.message,
        }


def _counts(mapping: object) -> str:
    if not isinstance(mapping, Mapping) or not mapping:
        return "none"
    return ", ".join(f"{key} {value}" for key, value in mapping.items())


def summary_lines(summary: SyncSummary) -> list[str]:
    """The final report of a run as plain text lines."""
    tally = summary.tally
    requests = summary.requests
    total = requests.get("requests_total", 0)
    seconds = summary.duration_seconds
    rate = total / seconds if seconds > 0 else 0.0
    commit = (summary.library_commit or "?")[:12]
    library = (
        f"library {commit}: unchanged (304), skipped"
        if summary.library_unchanged
        else (
            f"library {commit}: {tally.library_files_listed} files listed, "
            f"{tally.library_files_to_read} read ({tally.library_files_fetched} fetched, "
            f"{tally.library_files_from_cache} from cache), {tally.stanzas_written} stanzas, "
            f"{tally.builds_written} builds written"
        )
    )
    lines = [
        f"sync run {summary.run_id}: {summary.status} in {seconds:.1f}s",
        library,
        (
            f"dockerfiles: {tally.dockerfiles_needed} needed, {tally.dockerfiles_from_cache} "
            f"from cache, {tally.dockerfiles_fetched} fetched, {tally.dockerfiles_missing} "
            f"missing (404), {tally.dockerfiles_failed} failed; "
            f"{tally.unsupported_builds} builds on unsupported GitRepo hosts"
        ),
        (
            f"parents: {tally.parents_resolved} resolved, "
            f"{tally.parents_unresolved} unresolved (of the builds written); "
            f"{tally.build_warnings} BuildKit warnings on {tally.builds_with_warnings} builds"
        ),
        (
            f"hub: {tally.hub_repositories_done}/{tally.hub_repositories} repositories, "
            f"{tally.hub_pages} pages ({tally.hub_full_page_throughs} complete page-throughs, "
            f"{tally.hub_stopped_early} stopped early), {tally.hub_unchanged} unchanged "
            f"since the last read (not paged); tags {tally.tags_added} added, "
            f"{tally.tags_changed} changed, {tally.tags_removed} removed"
        ),
        (
            f"registry: {tally.registry_indexes_read} indexes and "
            f"{tally.registry_manifests_read} layer manifests read, "
            f"{tally.registry_left_for_later} left for the next run (pull budget)"
        ),
        f"errors: {tally.error_count} ({_counts(dict(sorted(tally.errors.items())))})",
        (
            f"requests: {total} ({_counts(requests.get('requests'))}), {rate:.1f}/s, "
            f"retries: {_counts(requests.get('retries'))}, "
            f"{int(requests.get('bytes_received', 0)) / 1e6:.2f} MB received"
        ),
    ]
    if tally.repositories_unmaintained:
        lines.append(f"repositories no longer maintained: {tally.repositories_unmaintained}")
    if summary.message:
        lines.append(f"note: {summary.message}")
    return lines
