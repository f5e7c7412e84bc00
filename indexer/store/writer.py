"""Store threads: a thread of its own applies jobs to the store, in order, in transactions.

The generic API: `StoreThread.run_job` (or `submit`) takes a job, an async function of
a session, and runs it inside a transaction on the thread (the jobs queued while one
runs join it and commit together: a job's writes commit with it or not at all, and a
job's result is handed back only after its commit); the store's writes
(:mod:`indexer.store.writes`, :mod:`indexer.store.links`) are such functions.

The pipeline runs two: the **writer** (every write of the run, in order) and the
**reader** (fetch-cache lookups, so they wait neither for the busy fetching loop nor
behind writes). A stage hands a job (an async function of a session) to
`StoreThread.submit` and gets a future for its result. At most ``queue_size`` jobs
are outstanding: that bound is the pipeline's backpressure, so a stage producing
faster than the database takes waits at ``submit`` instead of piling records up.

Hub pages can go a step further (`StoreThread.submit_page`): a page is data, and the
writer sends the pages queued together to its page process (two on PostgreSQL, by
repository; :mod:`indexer.store.page_process`), which writes them with its own GIL. The
writer commits its own jobs before it sends pages, and waits for the pages' commit
before its next job. Between jobs it keeps a second group of pages waiting in the
pipe while the process writes the first (`GROUPS_IN_FLIGHT`), and reads the answers as
they come while it waits for jobs, so the process goes from one group to the next
without waiting for the writer.

Why threads with loops of their own: a database round trip through an async driver is
a handful of hops between the event loop and the driver; on the fetching loop, busy
with hundreds of requests, each hop waits its turn behind them, and a transaction of
ten statements took tens of milliseconds. On a store thread's own loop the hops are
immediate, the loops run side by side, and fetches are never queued behind writes
(:mod:`indexer.store.transactions`: how each backend is driven there).

One writer means one write transaction at a time (but for the page processes'
side by side on PostgreSQL, on different repositories' rows), which SQLite needs anyway
and which keeps PostgreSQL free of lock-order deadlocks. A job that raises fails its future
*and* the thread: a database error is not an item error, so it ends the run (the
task group cancels the other stages).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from indexer.store.db import normalize_database_url
from indexer.store.page_process import PagePool, PageWrite, SentPages
from indexer.store.state import StaleLinksMark
from indexer.store.transactions import Transaction, store_transactions
from indexer.store.writes import HubWriteResult

__all__ = ["StoreAction", "StoreThread", "running_writer"]

log = logging.getLogger(__name__)

T = TypeVar("T")
#: a job: runs inside one transaction; its result is handed back through the future
StoreAction = Callable[[AsyncSession], Awaitable[T]]
#: the most jobs committed together (and reported back in one hand-over)
GROUP_JOBS = 64
#: the most pages sent to the page process together
GROUP_PAGES = 24
#: groups of pages sent and not answered yet: the next group waits in the pipe while
#: the process writes one, so it starts on it at once. Those groups' pages stay less
#: than the pipeline's bound on outstanding jobs, so the pagers go on fetching.
GROUPS_IN_FLIGHT = 2
#: no more jobs join a transaction after it has run this long (seconds)
GROUP_SECONDS = 1.0
#: how long a cancelled run waits for a store thread to roll back and stop
STOP_TIMEOUT_SECONDS = 10.0


@dataclass
class _Job:
    #: run on the thread; ``None``: a page for the page process
    action: StoreAction[Any] | None
    future: asyncio.Future[Any]
    #: called on the submitting loop with the result, after the transaction committed
    on_commit: Callable[[Any], None] | None = None
    page: PageWrite | None = None
    #: the run's mark of stale links, set by the first page that adds a tag
    links: StaleLinksMark | None = None


@dataclass
class _Flight:
    """A group of pages sent to the page processes, not answered yet."""

    jobs: list[_Job]
    sent: SentPages
    #: the runs' marks of stale links the group's pages carry
    marks: list[StaleLinksMark]


class _Nothing:
    """No job held back (the next one is awaited from the inbox)."""


_NOTHING = _Nothing()


def _consume_exception(future: asyncio.Future[Any]) -> None:
    """Mark a failed future's exception as seen (the thread itself re-raises it)."""
    if not future.cancelled():
        future.exception()


class StoreThread:
    """A store thread fed through a bounded number of outstanding jobs."""

    def __init__(self, database_url: URL, *, name: str = "writer", queue_size: int = 32) -> None:
        self.name = name
        self._database_url = database_url
        self._slots = asyncio.Semaphore(queue_size)
        self._ready = asyncio.Event()
        self._main_loop: asyncio.AbstractEventLoop | None = None
        self._writer_loop: asyncio.AbstractEventLoop | None = None
        self._inbox: asyncio.Queue[_Job | None] | None = None
        self._consumer: asyncio.Task[None] | None = None
        #: a job taken from the inbox that ends a group, run next
        self._held: _Job | _Nothing | None = _NOTHING
        self._stop_requested = threading.Event()
        self._pages = PagePool(database_url)
        self._in_flight: collections.deque[_Flight] = collections.deque()
        #: when the oldest group in flight was sent (`busy_seconds` counts from there)
        self._flying_since = 0.0
        self.transactions = 0
        #: seconds the thread had a transaction going: its own jobs', or pages' in the
        #: page processes (from sending the first of a run of groups to the last answer)
        self.busy_seconds = 0.0

    # --- the submitting side (the pipeline's loop) -------------------------------

    async def submit(
        self, action: StoreAction[T], *, on_commit: Callable[[T], None] | None = None
    ) -> asyncio.Future[T]:
        """Queue ``action`` (waiting while too many are outstanding); answer its future."""
        return await self._queue(action, on_commit)

    async def submit_page(
        self,
        page: PageWrite,
        links: StaleLinksMark,
        *,
        on_commit: Callable[[HubWriteResult], None] | None = None,
    ) -> asyncio.Future[HubWriteResult]:
        """Queue a Hub page for the page process, as `submit` does a job; the first page
        that adds a tag marks the links stale (``links``: once per run)."""
        return await self._queue(None, on_commit, page, links)

    async def _queue(
        self,
        action: StoreAction[Any] | None,
        on_commit: Callable[[Any], None] | None,
        page: PageWrite | None = None,
        links: StaleLinksMark | None = None,
    ) -> asyncio.Future[Any]:
        """Post a job once the thread is ready and a slot is free; answer its future."""
        await self._ready.wait()
        await self._slots.acquire()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_consume_exception)
        self._post(_Job(action, future, on_commit, page, links))
        return future

    async def start_pages(self) -> None:
        """Pages will come (`submit_page`): start the page process now, on a spare
        thread, so that the writer does not wait for it at the first page."""
        await asyncio.to_thread(self._pages.start)

    async def run_job(
        self, action: StoreAction[T], *, on_commit: Callable[[T], None] | None = None
    ) -> T:
        """Queue ``action`` and wait for its result."""
        return await (await self.submit(action, on_commit=on_commit))

    async def close(self) -> None:
        """No more jobs: the thread ends after the queued ones."""
        await self._ready.wait()
        self._post(None)

    def _post(self, job: _Job | None) -> None:
        assert self._writer_loop is not None and self._inbox is not None
        self._writer_loop.call_soon_threadsafe(self._inbox.put_nowait, job)

    def _settle_all(
        self, done: list[tuple[_Job, Any]], failed: tuple[_Job, BaseException] | None
    ) -> None:
        """On the submitting loop: settle a batch of committed jobs (and a failed one)."""
        for job, result in done:
            self._settle(job, result, None)
        if failed is not None:
            self._settle(failed[0], None, failed[1])

    def _fail_all(self, jobs: list[_Job], failed: _Job | None, error: BaseException) -> None:
        """On the submitting loop: a transaction failed, so none of its jobs committed."""
        for job in jobs:
            self._settle(job, None, error)
        if failed is not None:
            self._settle(failed, None, error)

    def _settle(self, job: _Job, result: Any, error: BaseException | None) -> None:
        """On the submitting loop: free the slot, run ``on_commit``, settle the future."""
        self._slots.release()
        if job.future.done():
            return
        if error is not None:
            job.future.set_exception(error)
            return
        self.transactions += 1
        if job.on_commit is not None:
            job.on_commit(result)
        job.future.set_result(result)

    async def run(self) -> None:
        """Run the thread until :meth:`close` (or a failing job, which is raised)."""
        main_loop = asyncio.get_running_loop()
        self._main_loop = main_loop
        finished: asyncio.Future[None] = main_loop.create_future()

        def report(error: BaseException | None) -> None:
            if finished.done():
                return
            if error is None:
                finished.set_result(None)
            else:
                finished.set_exception(error)

        def thread_main() -> None:
            try:
                asyncio.run(self._consume())
            except BaseException as exc:  # handed to the pipeline's loop
                main_loop.call_soon_threadsafe(report, exc)
            else:
                main_loop.call_soon_threadsafe(report, None)

        thread = threading.Thread(
            target=thread_main, name=f"indexer-store-{self.name}", daemon=True
        )
        thread.start()
        try:
            await finished
        except asyncio.CancelledError:
            self._stop_consumer()
            thread.join(STOP_TIMEOUT_SECONDS)
            raise
        thread.join(STOP_TIMEOUT_SECONDS)

    def _stop_consumer(self) -> None:
        """Ask the thread to stop (also when it has not finished starting)."""
        self._stop_requested.set()
        self._pages.kill()
        if self._writer_loop is not None and self._consumer is not None:
            self._writer_loop.call_soon_threadsafe(self._consumer.cancel)

    # --- the store thread ----------------------------------------------------------

    async def _consume(self) -> None:
        """The thread's loop: apply jobs in order, the jobs queued meanwhile together."""
        assert self._main_loop is not None
        self._writer_loop = asyncio.get_running_loop()
        self._inbox = asyncio.Queue()
        self._consumer = asyncio.current_task()
        if self._stop_requested.is_set():
            return
        inbox = self._inbox
        try:
            async with store_transactions(self._database_url) as transaction:
                self._main_loop.call_soon_threadsafe(self._ready.set)
                job = await inbox.get()
                while job is not None:
                    if job.page is None:
                        self._land_all()  # a job sees the pages queued before it
                        following = await self._run_group(job, transaction)
                    else:
                        following = self._send_pages(job)
                    job = await self._next_job() if isinstance(following, _Nothing) else following
                self._land_all()
        finally:
            self._pages.close()

    async def _next_job(self) -> _Job | None:
        """The next job from the inbox; meanwhile the answers to the pages in flight are
        read as they come (their jobs' slots are what the pagers wait for)."""
        assert self._inbox is not None
        inbox = self._inbox
        while self._in_flight and inbox.empty():
            getting = asyncio.ensure_future(inbox.get())
            answered = asyncio.ensure_future(self._pages.answered(self._in_flight[0].sent))
            try:
                await asyncio.wait((getting, answered), return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiting in (getting, answered):
                    waiting.cancel()
                await asyncio.wait((getting, answered))
            if not answered.cancelled():
                answered.exception()  # a broken pipe: `_land_oldest` raises the error
            if not getting.cancelled():
                return getting.result()
            self._land_oldest()
        return await inbox.get()

    def _next_of_kind(self, first: _Job, group: list[Any]) -> _Job | _Nothing | None:
        """The next queued job if it may join ``first``'s group (same kind, group not
        full); else `_NOTHING`, or the job (or close) that ends the group, held back."""
        assert self._inbox is not None
        if len(group) >= (GROUP_JOBS if first.page is None else GROUP_PAGES) or self._inbox.empty():
            return _NOTHING
        job = self._inbox.get_nowait()
        if job is None or (job.page is None) != (first.page is None):
            self._held = job
            return _NOTHING
        return job

    async def _run_group(self, job: _Job, transaction: Transaction) -> _Job | _Nothing | None:
        """Run ``job`` and the jobs queued meanwhile (at most `GROUP_JOBS`, started within
        `GROUP_SECONDS`) in one transaction; answers the job held back, if any.

        Every commit is a round trip (and on PostgreSQL a flush of its log), and every
        hand-over between the threads a wake-up and a wait for the GIL: the jobs queued
        meanwhile commit together and are reported together."""
        assert self._main_loop is not None and job.action is not None
        self._held = _NOTHING
        done: list[tuple[_Job, Any]] = []
        current: _Job | None = job
        started = time.perf_counter()
        try:
            async with transaction() as session:
                while current is not None:
                    assert current.action is not None
                    done.append((current, await current.action(session)))
                    if time.perf_counter() - started > GROUP_SECONDS:
                        break
                    following = self._next_of_kind(job, done)
                    current = None if isinstance(following, _Nothing) else following
        except Exception as exc:
            ran = done and done[-1][0] is current
            failed = None if current is None or ran else current
            self._main_loop.call_soon_threadsafe(self._fail_all, [j for j, _ in done], failed, exc)
            raise
        finally:
            self.busy_seconds += time.perf_counter() - started
        self._main_loop.call_soon_threadsafe(self._settle_all, done, None)
        return self._held

    def _send_pages(self, job: _Job) -> _Job | _Nothing | None:
        """Send ``job``'s page and the pages queued behind it (at most `GROUP_PAGES`) to the
        page processes, one transaction there, first reading the oldest answer if
        `GROUPS_IN_FLIGHT` groups are sent; answers the job held back, if any."""
        assert self._main_loop is not None
        self._held = _NOTHING
        jobs = [job]
        while not isinstance(following := self._next_of_kind(job, jobs), _Nothing):
            assert following is not None
            jobs.append(following)
        marks = list({id(j.links): j.links for j in jobs if j.links is not None}.values())
        try:
            while len(self._in_flight) >= GROUPS_IN_FLIGHT:
                self._land_oldest()
            sent = self._pages.send(
                [j.page for j in jobs if j.page is not None],
                mark=any(not links.marked for links in marks),
            )
        except Exception as exc:  # these pages are not written, nor those in flight
            self._fail_in_flight(jobs, exc)
            raise
        if not self._in_flight:
            self._flying_since = time.perf_counter()
        self._in_flight.append(_Flight(jobs, sent, marks))
        return self._held

    def _land_oldest(self) -> None:
        """Read the answer to the oldest group in flight (waiting for it) and settle its
        jobs; a failed group fails the groups sent after it too (the process has ended)."""
        assert self._main_loop is not None
        flight = self._in_flight.popleft()
        try:
            marked, results = self._pages.receive(flight.sent)
        except Exception as exc:
            self._fail_in_flight(flight.jobs, exc)
            raise
        finally:
            if not self._in_flight:
                self.busy_seconds += time.perf_counter() - self._flying_since
        if marked:
            for links in flight.marks:
                links.marked = True
        self._main_loop.call_soon_threadsafe(
            self._settle_all, list(zip(flight.jobs, results, strict=True)), None
        )

    def _land_all(self) -> None:
        while self._in_flight:
            self._land_oldest()

    def _fail_in_flight(self, jobs: list[_Job], error: BaseException) -> None:
        """``jobs`` failed with ``error``, and so did every group still in flight."""
        assert self._main_loop is not None
        failed = [*jobs, *(j for flight in self._in_flight for j in flight.jobs)]
        self._in_flight.clear()
        self._main_loop.call_soon_threadsafe(self._fail_all, failed, None, error)


@asynccontextmanager
async def running_writer(
    database_url: URL | str, *, name: str = "writer", queue_size: int = 32
) -> AsyncIterator[StoreThread]:
    """A started `StoreThread` on ``database_url``; on a clean exit its queued jobs finish.

    For callers outside a sync run (tests that fill databases, benchmarks): they write
    through the same thread and the same jobs as the pipeline.
    """
    url = normalize_database_url(database_url) if isinstance(database_url, str) else database_url
    writer = StoreThread(url, name=name, queue_size=queue_size)
    task = asyncio.create_task(writer.run())
    try:
        yield writer
    except BaseException:
        task.cancel()
        await asyncio.wait([task])
        raise
    if not task.done():
        with contextlib.suppress(RuntimeError):  # the thread ended meanwhile: raised below
            await writer.close()
    await task
