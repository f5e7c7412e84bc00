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

Why threads with loops of their own: a database round trip through an async driver is
a handful of hops between the event loop and the driver; on the fetching loop, busy
with hundreds of requests, each hop waits its turn behind them, and a transaction of
ten statements took tens of milliseconds. On a store thread's own loop the hops are
immediate, the loops run side by side, and fetches are never queued behind writes.

On SQLite a store thread goes one step further: it drives the standard library's
``sqlite3`` through a synchronous SQLAlchemy session (`_SyncSessionBridge` lends it
the few ``AsyncSession`` methods the store's functions call). aiosqlite would only move
each statement to yet another thread and back; here the thread is already ours, and
``sqlite3`` releases the GIL while SQLite works. PostgreSQL keeps its async driver
(asyncpg) on the thread's loop.

One writer means one write transaction at a time, which SQLite needs anyway and which
keeps PostgreSQL free of lock-order deadlocks. A job that raises fails its future
*and* the thread: a database error is not an item error, so it ends the run (the
task group cancels the other stages).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Result, ScalarResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from indexer.store.db import (
    SQLITE_BUSY_TIMEOUT_MS,
    Database,
    configure_sqlite,
    normalize_database_url,
)

__all__ = ["StoreAction", "StoreThread", "running_writer"]

log = logging.getLogger(__name__)

T = TypeVar("T")
#: a job: runs inside one transaction; its result is handed back through the future
StoreAction = Callable[[AsyncSession], Awaitable[T]]
#: a factory of transactions (an open session, committed on exit)
Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]
#: the most jobs committed together (and reported back in one hand-over)
GROUP_JOBS = 64
#: no more jobs join a transaction after it has run this long (seconds)
GROUP_SECONDS = 1.0
#: how long a cancelled run waits for a store thread to roll back and stop
STOP_TIMEOUT_SECONDS = 10.0


@dataclass
class _Job:
    action: StoreAction[Any]
    future: asyncio.Future[Any]
    #: called on the submitting loop with the result, after the transaction committed
    on_commit: Callable[[Any], None] | None = None


class _SyncSessionBridge:
    """The ``AsyncSession`` methods the store's writes use, over a synchronous ``Session``.

    Each coroutine runs its statement at once and never suspends.
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    async def execute(self, statement: Any, params: Any = None, **options: Any) -> Result[Any]:
        return self._session.execute(statement, params, **options)

    async def scalar(self, statement: Any, params: Any = None, **options: Any) -> Any:
        return self._session.scalar(statement, params, **options)

    async def scalars(
        self, statement: Any, params: Any = None, **options: Any
    ) -> ScalarResult[Any]:
        return self._session.scalars(statement, params, **options)

    async def run_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return fn(self._session, *args, **kwargs)

    def get_bind(self) -> Any:
        return self._session.get_bind()


#: page cache of a store thread's SQLite connection, in KiB (SQLite's default is 2 MiB): the
#: indexes a Hub page writes to (tag names, digests) are spread over the whole file
STORE_CACHE_KIB = 65536


#: WAL pages after which a commit of a store thread copies the log into the database
#: (SQLite's default is 1,000, 4 MiB: about every commit of a run of Hub pages, and each
#: copied the index pages that every one of those commits touches again)
STORE_CHECKPOINT_PAGES = 16384


def _store_connection(dbapi_connection: Any, _record: Any) -> None:
    """A store thread's SQLite connection: the common settings, a larger page cache and
    less frequent checkpoints."""
    configure_sqlite(dbapi_connection, _record)
    dbapi_connection.execute(f"PRAGMA cache_size=-{STORE_CACHE_KIB}")
    dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={STORE_CHECKPOINT_PAGES}")


def _sqlite_engine(url: URL) -> Engine:
    """A synchronous engine (stdlib ``sqlite3``) on the SQLite file of ``url``."""
    engine = create_engine(
        url.set(drivername="sqlite"),
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )
    event.listen(engine, "connect", _store_connection)
    return engine


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
        self._stop_requested = threading.Event()
        self.transactions = 0
        #: seconds the thread spent in transactions (jobs and commits)
        self.busy_seconds = 0.0

    # --- the submitting side (the pipeline's loop) -------------------------------

    async def submit(
        self, action: StoreAction[T], *, on_commit: Callable[[T], None] | None = None
    ) -> asyncio.Future[T]:
        """Queue ``action`` (waiting while too many are outstanding); answer its future."""
        await self._ready.wait()
        await self._slots.acquire()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_consume_exception)
        self._post(_Job(action, future, on_commit))
        return future

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
        if self._writer_loop is not None and self._consumer is not None:
            self._writer_loop.call_soon_threadsafe(self._consumer.cancel)

    # --- the store thread ----------------------------------------------------------

    async def _consume(self) -> None:
        """The thread's loop: apply jobs in order; the jobs queued meanwhile share one
        transaction (at most `GROUP_JOBS` of them, started within `GROUP_SECONDS`)."""
        assert self._main_loop is not None
        main_loop = self._main_loop
        self._writer_loop = asyncio.get_running_loop()
        self._inbox = asyncio.Queue()
        self._consumer = asyncio.current_task()
        if self._stop_requested.is_set():
            return
        inbox = self._inbox
        async with self._transactions() as transaction:
            main_loop.call_soon_threadsafe(self._ready.set)
            job = await inbox.get()
            while job is not None:
                # every commit is a round trip (and on PostgreSQL a flush of its log), and
                # every hand-over between the threads a wake-up and a wait for the GIL:
                # the jobs queued meanwhile commit together and are reported together
                done: list[tuple[_Job, Any]] = []
                started = time.perf_counter()
                try:
                    async with transaction() as session:
                        while job is not None:
                            done.append((job, await job.action(session)))
                            full = len(done) >= GROUP_JOBS
                            if (
                                full
                                or inbox.empty()
                                or time.perf_counter() - started > GROUP_SECONDS
                            ):
                                break
                            job = inbox.get_nowait()
                except Exception as exc:
                    failed = (
                        job if job is not None and (not done or done[-1][0] is not job) else None
                    )
                    main_loop.call_soon_threadsafe(
                        self._fail_all, [j for j, _ in done], failed, exc
                    )
                    raise
                finally:
                    self.busy_seconds += time.perf_counter() - started
                main_loop.call_soon_threadsafe(self._settle_all, done, None)
                job = await inbox.get() if job is not None else None

    @asynccontextmanager
    async def _transactions(self) -> AsyncIterator[Transaction]:
        """A factory of transactions for this thread, and its clean-up."""
        url = self._database_url
        if url.drivername.startswith("sqlite"):
            engine = _sqlite_engine(url)

            @asynccontextmanager
            async def sqlite_transaction() -> AsyncIterator[AsyncSession]:
                with Session(engine) as session, session.begin():
                    yield cast(AsyncSession, _SyncSessionBridge(session))

            try:
                yield sqlite_transaction
            finally:
                engine.dispose()
            return
        # the thread's one connection is checked out back to back, one transaction
        # after another: a liveness ping before each would cost a round trip per job
        database = Database(url.render_as_string(hide_password=False), pool_pre_ping=False)
        try:
            yield database.session
        finally:
            await database.dispose()


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
