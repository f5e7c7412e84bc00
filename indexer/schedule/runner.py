"""One sync under the single-run lock, and the contract between its callers and the pipeline.

Both ``indexer sync`` and ``indexer schedule`` run a sync through
:func:`run_locked_sync`: it takes the lock (:func:`indexer.store.lock.sync_lock`),
closes runs a dead process left ``running``, calls the sync function, and records
a cancelled run as ``interrupted``.

The sync function (production: :func:`indexer.sync.pipeline.run_sync`) is called as::

    await sync(settings, database, only=only, full_reconcile=full_reconcile, stop=stop)

``stop: asyncio.Event | None`` is the graceful stop (first SIGTERM/SIGINT). The
pipeline promises, when it is set (possibly before the call):

* take no new work; let the batch in flight finish and commit (check the event
  between batches, never in the middle of a transaction);
* record its run with status ``interrupted`` and the counts so far
  (``finish_run(..., status="interrupted")``);
* return normally (its summary); no exception.

A second signal cancels the task running the sync (``CancelledError`` at an
``await``). The pipeline must let that propagate; a run it left ``running`` is
marked ``interrupted`` here (:data:`~indexer.store.audit.CANCELLED_MESSAGE`) while
the lock is still held. The sync function never takes the lock itself.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar, cast, overload

from indexer.settings import Settings
from indexer.store.audit import CANCELLED_MESSAGE, close_abandoned_runs
from indexer.store.db import Database
from indexer.store.lock import sync_lock
from indexer.store.models import utcnow

__all__ = ["SyncFunction", "production_sync", "run_locked_sync"]

logger = logging.getLogger(__name__)

R_co = TypeVar("R_co", covariant=True)
R = TypeVar("R")

#: where the production sync function lives (imported lazily: the scheduler does not need it)
PIPELINE_MODULE = "indexer.sync.pipeline"


class SyncFunction(Protocol[R_co]):
    """What runs one sync: ``indexer.sync.pipeline.run_sync`` or a test's fake."""

    async def __call__(
        self,
        settings: Settings,
        database: Database,
        *,
        only: Sequence[str],
        full_reconcile: bool | None,
        stop: asyncio.Event | None,
    ) -> R_co: ...


def production_sync() -> SyncFunction[Any]:
    """``indexer.sync.pipeline.run_sync``, imported on first use.

    Raises ``ModuleNotFoundError`` when the pipeline is not part of this build. A
    ``run_sync`` without the ``stop`` keyword is adapted: it then cannot stop
    gracefully, so the first signal waits for the whole run.
    """
    run_sync: Any = importlib.import_module(PIPELINE_MODULE).run_sync
    if "stop" in inspect.signature(run_sync).parameters:
        return cast("SyncFunction[Any]", run_sync)

    async def without_stop(
        settings: Settings,
        database: Database,
        *,
        only: Sequence[str],
        full_reconcile: bool | None,
        stop: asyncio.Event | None,
    ) -> Any:
        return await run_sync(settings, database, only=only, full_reconcile=full_reconcile)

    return without_stop


@overload
async def run_locked_sync(
    settings: Settings,
    database: Database,
    *,
    only: Sequence[str] = (),
    wait: bool = False,
    stop: asyncio.Event | None = None,
    full_reconcile: bool | None = None,
    poll_seconds: float = 1.0,
    sync: SyncFunction[R],
) -> R: ...


@overload
async def run_locked_sync(
    settings: Settings,
    database: Database,
    *,
    only: Sequence[str] = (),
    wait: bool = False,
    stop: asyncio.Event | None = None,
    full_reconcile: bool | None = None,
    poll_seconds: float = 1.0,
    sync: None = None,
) -> Any: ...


async def run_locked_sync(
    settings: Settings,
    database: Database,
    *,
    only: Sequence[str] = (),
    wait: bool = False,
    stop: asyncio.Event | None = None,
    full_reconcile: bool | None = None,
    poll_seconds: float = 1.0,
    sync: SyncFunction[Any] | None = None,
) -> Any:
    """Run one sync while holding the single-run lock; answer what the sync function answers.

    Raises :class:`~indexer.errors.SyncLockedError` when another sync holds the lock
    and ``wait`` is false; with ``wait`` it tries again every ``poll_seconds``.
    ``stop`` is handed to the sync function (module docstring); ``sync`` defaults to
    :func:`production_sync`.
    """
    function = sync if sync is not None else production_sync()
    async with sync_lock(database, wait=wait, poll_seconds=poll_seconds):
        abandoned = await close_abandoned_runs(database)
        if abandoned:
            logger.warning(
                "marked %d run(s) left running by a dead process as interrupted: %s",
                len(abandoned),
                ", ".join(map(str, abandoned)),
            )
        try:
            return await function(
                settings, database, only=tuple(only), full_reconcile=full_reconcile, stop=stop
            )
        except asyncio.CancelledError:
            try:
                await asyncio.shield(
                    close_abandoned_runs(database, message=CANCELLED_MESSAGE, finished_at=utcnow())
                )
            except Exception:
                logger.exception("could not record the cancelled run as interrupted")
            raise
