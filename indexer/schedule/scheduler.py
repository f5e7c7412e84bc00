"""``indexer schedule``: sync on a cron schedule (UTC) in the foreground, one run at a time.

One APScheduler ``AsyncIOScheduler`` job, registered under :data:`SYNC_JOB_ID` with
``replace_existing=True``, ``max_instances=1`` and ``coalesce=True``: a run still
going at the next fire time makes that fire time skipped, never a second run, and
fire times missed together run once. Each run goes through
:func:`~indexer.schedule.runner.run_locked_sync`, so a sync started elsewhere
(another scheduler, a manual ``indexer sync``) makes the scheduled one skip.

Signals (SIGTERM, SIGINT): the first stops scheduling and sets the shared ``stop``
event: the running sync finishes its batch, records itself ``interrupted`` and the
process exits 0. The second cancels the running sync (recorded ``interrupted`` as
well) and the process exits 130.

Logging: one line when the scheduler starts, one per run start and end (or skip),
one per signal; APScheduler's own chatter is kept at WARNING.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger

from indexer.errors import IndexerError, SyncLockedError
from indexer.schedule.runner import SyncFunction, run_locked_sync
from indexer.schedule.trigger import crontab_trigger, missed_fire_time
from indexer.settings import Settings
from indexer.store.audit import last_run_started, latest_run_since
from indexer.store.db import Database
from indexer.store.models import SyncRun, utcnow

__all__ = ["EXIT_CANCELLED", "SYNC_JOB_ID", "NightlyScheduler", "run_schedule"]

logger = logging.getLogger(__name__)

#: the one job's id: re-registering replaces it, never duplicates it
SYNC_JOB_ID = "indexer-sync"
#: exit status after a second signal cancelled a run
EXIT_CANCELLED = 130
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "never"


def describe_run(run: SyncRun | None, elapsed: float) -> str:
    """One line about a finished run, for the log."""
    if run is None:
        return f"ended after {elapsed:.1f}s without recording a run"
    line = (
        f"run {run.id} ended: {run.status} in {elapsed:.1f}s; "
        f"{run.library_files_fetched} library files, {run.dockerfiles_fetched} dockerfiles "
        f"fetched; tags +{run.tags_added} ~{run.tags_changed} -{run.tags_removed}; "
        f"{run.errors} errors"
    )
    return f"{line} ({run.message})" if run.message else line


class NightlyScheduler:
    """The scheduler of ``indexer schedule``: a cron job running one locked sync at a time.

    ``trigger`` defaults to ``settings.schedule`` read as a crontab in UTC (tests pass a
    faster one). ``stop`` is the event handed to every run.
    """

    def __init__(
        self,
        settings: Settings,
        database: Database,
        *,
        sync: SyncFunction[Any],
        trigger: BaseTrigger | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.sync = sync
        self.trigger = trigger if trigger is not None else crontab_trigger(settings.schedule)
        self.stop = asyncio.Event()
        #: runs started / skipped because another sync held the lock
        self.runs_started = 0
        self.runs_skipped = 0
        #: a second signal cancelled a run
        self.cancelled = False
        self._signals = 0
        self._run: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = asyncio.Event()
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        quiet = logging.getLogger("apscheduler")
        if quiet.level == logging.NOTSET:  # its per-run INFO lines; keep its warnings
            quiet.setLevel(logging.WARNING)

    @property
    def running_sync(self) -> bool:
        return self._run is not None and not self._run.done()

    def next_run_time(self) -> datetime | None:
        job = self._scheduler.get_job(SYNC_JOB_ID)
        return job.next_run_time if job is not None else None

    async def missed_run(self) -> datetime | None:
        """A fire time within ``misfire_grace_seconds`` that no run served (process was down)."""
        return missed_fire_time(
            self.trigger,
            last_started=await last_run_started(self.database),
            now=utcnow(),
            grace=timedelta(seconds=self.settings.misfire_grace_seconds),
        )

    def start(self, *, run_now: bool = False) -> None:
        """Register the job (replacing one of the same id) and start; ``run_now`` runs at once."""
        first: dict[str, Any] = {"next_run_time": datetime.now(UTC)} if run_now else {}
        self._scheduler.add_job(
            self._job,
            trigger=self.trigger,
            id=SYNC_JOB_ID,
            name="indexer sync",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=self.settings.misfire_grace_seconds,
            replace_existing=True,
            **first,
        )
        if not self._scheduler.running:
            self._scheduler.start()

    def request_stop(self, reason: str = "stop requested") -> None:
        """The first call stops gracefully; the second cancels the running sync."""
        self._signals += 1
        if self._signals == 1:
            if self.running_sync:
                logger.warning(
                    "%s: finishing the current batch, then stopping (again to cancel the run)",
                    reason,
                )
            else:
                logger.info("%s: stopping", reason)
            self.stop.set()
            if self._scheduler.running:
                self._scheduler.pause()
            self._stopping.set()
            return
        if self._run is not None and not self._run.done():
            logger.warning("%s again: cancelling the running sync", reason)
            self.cancelled = True
            self._run.cancel()

    async def wait_stopped(self) -> int:
        """Wait for a stop request and the running sync; shut down; answer the exit status."""
        await self._stopping.wait()
        await self._idle.wait()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        # AsyncIOScheduler.shutdown is deferred to the loop: let it run
        await asyncio.sleep(0)
        await self._idle.wait()
        logger.info("scheduler stopped")
        return EXIT_CANCELLED if self.cancelled else 0

    async def _job(self) -> None:
        """The APScheduler job: one run in a task of its own, so a second signal can cancel it."""
        if self.stop.is_set():
            return
        self._idle.clear()
        task = asyncio.create_task(self._run_once(), name="indexer-sync-run")
        self._run = task
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
        finally:
            self._run = None
            self._idle.set()

    async def _run_once(self) -> None:
        started_at = utcnow()
        clock = time.monotonic()
        self.runs_started += 1
        logger.info("sync starting")
        try:
            await run_locked_sync(self.settings, self.database, stop=self.stop, sync=self.sync)
        except SyncLockedError as exc:
            self.runs_skipped += 1
            logger.warning("sync skipped: %s", exc)
            return
        except asyncio.CancelledError:
            logger.warning("sync cancelled after %.1fs", time.monotonic() - clock)
            raise
        except IndexerError as exc:  # recorded on the run: one line, no traceback
            logger.error(  # noqa: TRY400 - the error is the message; a traceback says nothing
                "sync failed after %.1fs: %s; next at %s",
                time.monotonic() - clock,
                exc,
                _utc(self.next_run_time()),
            )
            return
        except Exception:
            logger.exception("sync failed after %.1fs", time.monotonic() - clock)
            return
        run = await latest_run_since(self.database, started_at)
        logger.info(
            "sync %s; next at %s",
            describe_run(run, time.monotonic() - clock),
            _utc(self.next_run_time()),
        )


async def run_schedule(
    settings: Settings,
    *,
    sync: SyncFunction[Any],
    run_now: bool = False,
    trigger: BaseTrigger | None = None,
    catch_up: bool = True,
    handle_signals: bool = True,
) -> int:
    """Serve ``indexer schedule`` until stopped by a signal; answer the exit status.

    ``run_now`` runs one sync at start; ``catch_up`` does the same when a fire time
    within ``misfire_grace_seconds`` passed while no scheduler ran.
    """
    database = Database(settings.database_url)
    try:
        await database.check()
        scheduler = NightlyScheduler(settings, database, sync=sync, trigger=trigger)
        if not run_now and catch_up and (missed := await scheduler.missed_run()) is not None:
            logger.info("catching up the sync missed at %s", _utc(missed))
            run_now = True
        loop = asyncio.get_running_loop()
        if handle_signals:
            for signum in STOP_SIGNALS:
                loop.add_signal_handler(signum, scheduler.request_stop, signal.Signals(signum).name)
        try:
            scheduler.start(run_now=run_now)
            logger.info(
                "scheduler started: cron %r (UTC), next sync at %s",
                settings.schedule,
                _utc(scheduler.next_run_time()),
            )
            return await scheduler.wait_stopped()
        finally:
            if handle_signals:
                for signum in STOP_SIGNALS:
                    with contextlib.suppress(ValueError, RuntimeError):
                        loop.remove_signal_handler(signum)
    finally:
        await database.dispose()
