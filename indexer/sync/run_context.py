"""What every stage of one sync run shares: settings, clients, store threads, tally, error log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from indexer.errors import (
    BodyTooLargeError,
    ForbiddenTargetError,
    IndexerError,
    NotFoundError,
    RequestStoppedError,
    UpstreamError,
)
from indexer.settings import Settings
from indexer.store.db import Database
from indexer.store.runs import ItemError, add_item_errors
from indexer.store.state import StaleLinksMark
from indexer.store.writer import StoreThread
from indexer.sync.summary import SyncTally
from indexer.upstream.github import GitHubClient
from indexer.upstream.http import RequestStats
from indexer.upstream.hub import HubClient
from indexer.upstream.registry import RegistryClient

__all__ = ["INCREMENTAL_PAGE_SIZE", "RunContext", "error_kind"]

log = logging.getLogger("indexer.sync")

T = TypeVar("T")

#: tags per Hub page when paging stops at the first unchanged page: on a quiet night
#: most repositories need one page, so a small one is cheaper to fetch and compare
INCREMENTAL_PAGE_SIZE = 25
#: item errors written in one transaction
ERROR_BATCH = 100
#: the longest a recorded item error waits to be written
ERROR_FLUSH_SECONDS = 1.0


def error_kind(error: BaseException) -> str:
    """The short kind stored with an item error."""
    return error.kind if isinstance(error, IndexerError) else type(error).__name__


async def each(items: Iterable[T] | AsyncIterable[T]) -> AsyncIterator[T]:
    """``items``, plain or asynchronous, as an asynchronous iterator."""
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


@dataclass
class RunContext:
    """One sync run's shared objects, built by :func:`indexer.sync.pipeline.run_sync`."""

    settings: Settings
    database: Database
    run_id: int
    github: GitHubClient
    #: Hub pages of ``settings.hub_page_size`` tags (complete page-throughs)
    hub: HubClient
    #: Hub pages of at most :data:`INCREMENTAL_PAGE_SIZE` tags (incremental paging)
    incremental_hub: HubClient
    stats: RequestStats
    #: every write of the run, in order
    writer: StoreThread
    #: fetch-cache lookups (reads only)
    reader: StoreThread
    tally: SyncTally
    #: manifests by digest (the registry stage)
    registry: RegistryClient | None = None
    #: set: take no new work, finish what is in flight (a graceful stop)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    #: marks the parent links stale in the first write job that needs it (writer only)
    links_stale: StaleLinksMark = field(default_factory=StaleLinksMark)
    _pending_errors: list[ItemError] = field(default_factory=list)

    @property
    def stopping(self) -> bool:
        """True once a graceful stop was asked for."""
        return self.stop.is_set()

    async def feed(
        self, queue: asyncio.Queue[T | None], items: Iterable[T] | AsyncIterable[T], workers: int
    ) -> None:
        """Put ``items`` on ``queue`` until a graceful stop, then one ``None`` per worker."""
        async for item in each(items):
            if self.stopping:
                break
            await queue.put(item)
        for _ in range(workers):
            await queue.put(None)

    async def item_failed(self, item_kind: str, item: str, kind: str, message: str) -> None:
        """Record a failed item on the run and go on.

        Errors are written in short transactions of their own, a batch at a time: at
        once when :data:`ERROR_BATCH` are pending, else within
        :data:`ERROR_FLUSH_SECONDS` (:meth:`flush_errors_periodically`).
        """
        self.tally.errors[kind] += 1
        log.debug("%s %s: %s", item_kind, item, message)
        self._pending_errors.append(
            ItemError(item_kind=item_kind, item=item, error_kind=kind, message=message)
        )
        if len(self._pending_errors) >= ERROR_BATCH:
            await self.flush_errors()

    def take_pending_errors(self) -> list[ItemError]:
        """The item errors not yet handed to the writer (they are forgotten here)."""
        errors, self._pending_errors = self._pending_errors, []
        return errors

    async def flush_errors(self) -> None:
        """Hand the pending item errors to the writer (one transaction)."""
        errors = self.take_pending_errors()
        if not errors:
            return
        run_id = self.run_id

        async def write(session: AsyncSession) -> None:
            await add_item_errors(session, run_id, errors)

        try:
            await self.writer.submit(write)
        except BaseException:
            self._pending_errors[:0] = errors  # not handed over: keep them
            raise

    async def flush_errors_periodically(self) -> None:
        """Flush pending item errors every :data:`ERROR_FLUSH_SECONDS` (until cancelled)."""
        while True:
            await asyncio.sleep(ERROR_FLUSH_SECONDS)
            await self.flush_errors()

    async def item_error(self, item_kind: str, item: str, error: BaseException) -> None:
        """:meth:`item_failed` for an exception.

        A request cut off by the graceful stop is not the item's error: it is left for
        the next run without a record. An upstream failure other than a definite
        answer (404, too large, a refused target) counts the item as lost (:attr:`SyncTally.items_lost`).
        """
        if isinstance(error, RequestStoppedError):
            return
        if isinstance(error, UpstreamError) and not isinstance(
            error, NotFoundError | ForbiddenTargetError | BodyTooLargeError
        ):
            self.tally.items_lost += 1
        message = str(error) or type(error).__name__
        await self.item_failed(item_kind, item, error_kind(error), message)
