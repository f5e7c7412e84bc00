"""Showing a running sync: a live rich display on a terminal, periodic log lines elsewhere.

The pipeline only counts (:class:`~indexer.sync.summary.SyncTally`, the HTTP
:class:`~indexer.upstream.http.RequestStats`); a display reads those counters on its
own clock (:func:`showing`), so the stages never wait for it. At the end
``finish(summary)`` prints the final report. While the live display runs, log
lines meant for the same terminal go through it (:func:`logging_through`), so they
print above the display instead of inside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Protocol, TextIO

from rich.console import Console
from rich.live import Live
from rich.table import Table

from indexer.sync.summary import SyncSummary, SyncTally, summary_lines
from indexer.upstream.http import RequestStats

__all__ = [
    "LogProgress",
    "ProgressDisplay",
    "RichProgress",
    "logging_through",
    "progress_for",
    "showing",
]

log = logging.getLogger("indexer.sync.progress")


class ProgressDisplay(Protocol):
    """Something that shows a run's counters while it runs, and its summary at the end."""

    #: seconds between two refreshes
    interval: float

    def start(self, tally: SyncTally, stats: RequestStats) -> None: ...

    def refresh(self) -> None: ...

    def stop(self) -> None: ...

    def finish(self, summary: SyncSummary) -> None: ...


class _Rate:
    """Requests per second over the last refresh interval."""

    def __init__(self) -> None:
        self._last_time = time.monotonic()
        self._last_count = 0
        self.value = 0.0

    def update(self, count: int) -> float:
        now = time.monotonic()
        elapsed = now - self._last_time
        if elapsed > 0:
            self.value = (count - self._last_count) / elapsed
        self._last_time, self._last_count = now, count
        return self.value


def _status_line(tally: SyncTally, stats: RequestStats, rate: float) -> str:
    return (
        f"library files {tally.library_files_written}/{tally.library_files_to_read}"
        f" · Dockerfiles {tally.dockerfiles_fetched + tally.dockerfiles_missing} fetched,"
        f" {tally.dockerfiles_from_cache} cached"
        f" · tag pages {tally.hub_pages} ({tally.hub_repositories_done}/"
        f"{tally.hub_repositories} repositories)"
        f" · tags +{tally.tags_added} ~{tally.tags_changed}"
        f" · errors {tally.error_count}"
        f" · requests {sum(stats.requests.values())} ({rate:.0f}/s)"
    )


class LogProgress:
    """Plain log lines, at most one every ``interval`` seconds (for files, pipes, cron)."""

    def __init__(self, interval: float = 5.0, *, logger: logging.Logger | None = None) -> None:
        self.interval = interval
        self._log = logger or log
        self._tally: SyncTally | None = None
        self._stats: RequestStats | None = None
        self._rate = _Rate()

    def start(self, tally: SyncTally, stats: RequestStats) -> None:
        self._tally, self._stats = tally, stats

    def refresh(self) -> None:
        if self._tally is None or self._stats is None:
            return
        rate = self._rate.update(sum(self._stats.requests.values()))
        self._log.info("sync: %s", _status_line(self._tally, self._stats, rate))

    def stop(self) -> None:
        self._tally = None

    def finish(self, summary: SyncSummary) -> None:
        for line in summary_lines(summary):
            self._log.info("%s", line)


class _ConsoleHandler(logging.Handler):
    """Prints log records through a rich console (above its live display, if any)."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self._console = console

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
            self._console.print(message, markup=False, highlight=False, soft_wrap=True)
        except Exception:  # logging must never break the run
            self.handleError(record)


def logging_through(console: Console) -> Callable[[], None]:
    """Route the root logger's handlers that write to ``console``'s terminal through it.

    Answers the function that puts the original handlers back. Handlers writing
    elsewhere (a file, a test's capture) are left alone.
    """
    root = logging.getLogger()
    terminal = {id(console.file), id(sys.stderr), id(sys.__stderr__)}
    replaced = [
        handler
        for handler in root.handlers
        if type(handler) is logging.StreamHandler and id(handler.stream) in terminal
    ]
    if not replaced:
        return lambda: None
    through = _ConsoleHandler(console)
    through.setFormatter(replaced[0].formatter)
    through.setLevel(min(handler.level for handler in replaced))
    for handler in replaced:
        root.removeHandler(handler)
    root.addHandler(through)

    def restore() -> None:
        root.removeHandler(through)
        for handler in replaced:
            root.addHandler(handler)

    return restore


class RichProgress:
    """A live table on a terminal, redrawn a few times a second."""

    def __init__(self, console: Console | None = None, interval: float = 0.25) -> None:
        self.interval = interval
        self._console = console or Console(stderr=True)
        self._live: Live | None = None
        self._tally: SyncTally | None = None
        self._stats: RequestStats | None = None
        self._rate = _Rate()
        self._started = time.monotonic()
        self._restore_logging: Callable[[], None] = lambda: None

    def _table(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        tally, stats = self._tally, self._stats
        if tally is None or stats is None:
            return table
        total = sum(stats.requests.values())
        table.add_row(
            "library files",
            f"{tally.library_files_written}/{tally.library_files_to_read} written"
            f" ({tally.library_files_fetched} fetched, {tally.library_files_listed} listed)",
        )
        table.add_row(
            "Dockerfiles",
            f"{tally.dockerfiles_fetched} fetched, {tally.dockerfiles_missing} missing,"
            f" {tally.dockerfiles_from_cache} cached, {tally.dockerfiles_failed} failed",
        )
        table.add_row(
            "tag pages",
            f"{tally.hub_pages} pages, {tally.hub_repositories_done}/{tally.hub_repositories}"
            f" repositories; tags +{tally.tags_added} ~{tally.tags_changed}"
            f" -{tally.tags_removed}",
        )
        table.add_row("errors", str(tally.error_count))
        table.add_row(
            "requests",
            f"{total} ({self._rate.update(total):.0f}/s), "
            f"{stats.bytes_received / 1e6:.1f} MB, {time.monotonic() - self._started:.0f}s",
        )
        return table

    def start(self, tally: SyncTally, stats: RequestStats) -> None:
        self._tally, self._stats = tally, stats
        self._started = time.monotonic()
        self._live = Live(self._table(), console=self._console, auto_refresh=False)
        self._restore_logging = logging_through(self._console)
        self._live.start()

    def refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._table(), refresh=True)

    def stop(self) -> None:
        if self._live is not None:
            self._live.update(self._table(), refresh=True)
            self._live.stop()
            self._live = None
        self._restore_logging()
        self._restore_logging = lambda: None

    def finish(self, summary: SyncSummary) -> None:
        for line in summary_lines(summary):
            self._console.print(line, highlight=False)


def progress_for(stream: TextIO | None = None) -> ProgressDisplay:
    """A rich display when ``stream`` (default stderr) is a terminal, else log lines."""
    target = stream if stream is not None else sys.stderr
    if target.isatty():
        return RichProgress(Console(file=target))
    return LogProgress()


@contextlib.asynccontextmanager
async def showing(
    display: ProgressDisplay | None, tally: SyncTally, stats: RequestStats
) -> AsyncIterator[None]:
    """Refresh ``display`` every ``display.interval`` seconds while the block runs."""
    if display is None:
        yield
        return

    async def tick() -> None:
        while True:
            await asyncio.sleep(display.interval)
            display.refresh()

    display.start(tally, stats)
    ticker = asyncio.create_task(tick())
    try:
        yield
    finally:
        ticker.cancel()
        await asyncio.wait([ticker])
        display.stop()
