"""The page process: the writer's Hub page writes, in a process of their own.

A first load writes hundreds of thousands of Hub tags and over a million platform
images; preparing those rows and handing them to the driver is most of a sync's CPU.
On the writer thread that work took turns for the one GIL with the fetching loop, so
each waited for the other. The writer thread hands pages of full page-throughs
(`PageWrite`: data, not a closure) to this process instead, which runs the very same
`indexer.store.writes.write_hub_tags` on a connection of its own, beside the fetching
loop instead of in turns with it. On SQLite that connection does not check foreign keys
(a lookup per row): the rows it writes reference the tags it has just inserted, and
the loader checks a page's repository once (`indexer.store.hub_rows`).

The writer thread stays in charge of the order: it commits its own transaction before
it sends a group of pages, and waits for their commit before it runs the next job. On
SQLite one process writes them, so transactions still come one at a time, in the order
queued. On PostgreSQL `PagePool` runs two: each waits for the server most of the time,
and a repository's pages always go to the same one, so they stay in order.

The protocol, over a pipe: the thread sends a group of pages (msgpack: whether links
must be marked stale, then per page the repository, its id if known, the run's time
and the tags); the process writes them in one transaction and answers each page's
`HubWriteResult` and whether it marked the links stale; or, when the transaction fails,
the exception (pickled), and ends. The thread may send the next group before it reads
the answer to the first: the process writes them one after the other, and marks the
links stale once. An empty message ends the process. The process is forked from a fork
server that imported this module once, so a run starts its page process in a moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import pickle
import signal
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

import msgspec
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncSession

from indexer.store.records import HubTagFacts, HubTagRecord
from indexer.store.state import mark_links_stale
from indexer.store.transactions import Transaction, store_transactions
from indexer.store.writes import HubWriteResult, RepositoryIds, write_hub_tags

__all__ = ["PagePool", "PageProcessError", "PageWrite", "SentPages", "write_pages"]

#: page processes on PostgreSQL: while one waits for the server, another prepares rows
POSTGRES_PAGE_PROCESSES = 2
#: how long a closing process may take to finish (seconds) before it is killed
CLOSE_TIMEOUT_SECONDS = 10.0

_DONE = b"D"
_FAILED = b"F"


@dataclass(frozen=True, slots=True)
class PageWrite:
    """One page of a repository's Hub tags, to be written by `write_hub_tags`."""

    repository: str
    records: Sequence[HubTagFacts]
    now: datetime
    #: the repository's id, when the caller knows it (else looked up, or created)
    repository_id: int | None = None


class PageProcessError(RuntimeError):
    """The page process ended without answering (killed, or crashed)."""


#: (mark links stale, [(repository, repository id, now, tags)])
_Request = tuple[bool, list[tuple[str, int | None, datetime, list[HubTagRecord]]]]
#: (marked, [(added, changed, unchanged)])
_Reply = tuple[bool, list[tuple[list[str], list[str], list[str]]]]

#: PostgreSQL: the page process' commits do not wait for the log to reach the disk. A
#: crash of the server can lose the last of them, never more than the writer's next
#: commit, which does wait: the list of repositories whose paging has not finished
#: cleanly (`indexer.sync.hub_stage`) is cleared that way only after their pages, so the
#: next run pages them again.
_ASYNC_COMMIT = text("SET LOCAL synchronous_commit = off")

_ENCODER = msgspec.msgpack.Encoder()
_REQUEST = msgspec.msgpack.Decoder(_Request)
_REPLY = msgspec.msgpack.Decoder(_Reply)


async def write_pages(
    session: AsyncSession, pages: Sequence[PageWrite], *, mark: bool, ids: RepositoryIds
) -> tuple[bool, list[HubWriteResult]]:
    """Write ``pages`` in ``session``'s transaction; with ``mark``, mark the links stale
    with the first page that adds a tag (a new tag can be a parent some build names).
    Answers whether it marked them, and each page's result."""
    marked = False
    results = []
    for page in pages:
        repository_id = page.repository_id or await ids.get(session, page.repository)
        result = await write_hub_tags(
            session, page.repository, page.records, now=page.now, repository_id=repository_id
        )
        if mark and result.added and not marked:
            await mark_links_stale(session)
            marked = True
        results.append(result)
    return marked, results


# --- the process ---------------------------------------------------------------------


def _pickled(error: BaseException) -> bytes:
    try:
        return pickle.dumps(error)
    except Exception:  # an exception that does not pickle: its text
        return pickle.dumps(RuntimeError(f"{type(error).__name__}: {error}"))


async def _answer(
    transaction: Transaction, ids: RepositoryIds, message: bytes, *, marked_before: bool
) -> tuple[bytes, bool]:
    """The reply to one group, and whether it marked the links stale."""
    mark, pages = _REQUEST.decode(message)
    async with transaction() as session:
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(_ASYNC_COMMIT)
        marked, results = await write_pages(
            session,
            [
                PageWrite(repository, records, now, repository_id)
                for repository, repository_id, now, records in pages
            ],
            mark=mark and not marked_before,
            ids=ids,
        )
    reply = (marked, [(result.added, result.changed, result.unchanged) for result in results])
    return _ENCODER.encode(reply), marked


async def _serve_async(connection: Connection, url: URL) -> None:
    ids = RepositoryIds()
    # a group sent before the answer to an earlier one was read may still ask to mark
    # the links: marked once, they stay marked for the run
    marked = False
    async with store_transactions(url, bulk=True) as transaction:
        while message := connection.recv_bytes():
            try:
                reply, marked_now = await _answer(transaction, ids, message, marked_before=marked)
            except Exception as exc:  # handed to the writer thread, which fails the run
                connection.send_bytes(_FAILED + _pickled(exc))
                return
            marked = marked or marked_now
            connection.send_bytes(_DONE + reply)


def _serve(connection: Connection, url: str) -> None:
    """The process' main: answer groups of pages until an empty message (or EOF).

    Ctrl-C reaches every process of the terminal's group: the sync's first one finishes
    the work in flight, so this process must not die of it; the writer ends it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        asyncio.run(_serve_async(connection, make_url(url)))
    except EOFError:  # the writer is gone
        pass
    finally:
        connection.close()


class PageProcess:
    """The writer thread's handle on its page process, started with the first pages."""

    def __init__(self, url: URL) -> None:
        self._url = url
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None
        #: held while the process starts (`start` may run on another thread)
        self._starting = threading.Lock()

    def start(self) -> None:
        """Start the process, unless it runs. The first start in a Python process also
        starts the fork server, which imports this module: a caller that knows pages
        will come starts it on a spare thread, instead of the writer waiting for it at
        the first page."""
        with self._starting:
            if self._connection is not None:
                return
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])
            ours, theirs = context.Pipe()
            process = context.Process(
                target=_serve,
                args=(theirs, self._url.render_as_string(hide_password=False)),
                name="indexer-store-pages",
                daemon=True,
            )
            process.start()
            theirs.close()
            self._process, self._connection = process, ours

    def _started(self) -> Connection:
        self.start()
        assert self._connection is not None
        return self._connection

    def send(self, pages: Sequence[PageWrite], *, mark: bool) -> None:
        """Send ``pages`` to be written in one transaction (see `write_pages`)."""
        connection = self._started()
        request = (
            mark,
            [(page.repository, page.repository_id, page.now, page.records) for page in pages],
        )
        try:
            connection.send_bytes(_ENCODER.encode(request))
        except OSError as exc:
            raise PageProcessError(self._ended()) from exc

    async def answered(self) -> None:
        """Wait, on the running loop, until an answer (or the end of the process) can be
        read without blocking."""
        connection = self._connection
        if connection is None or connection.poll():
            return
        loop = asyncio.get_running_loop()
        readable: asyncio.Future[None] = loop.create_future()

        def ready() -> None:
            if not readable.done():
                readable.set_result(None)

        loop.add_reader(connection.fileno(), ready)
        try:
            await readable
        finally:
            loop.remove_reader(connection.fileno())

    def receive(self) -> tuple[bool, list[HubWriteResult]]:
        """The answer to `send`: whether the links were marked stale, and each page's
        result; raises what the transaction raised, or `PageProcessError`."""
        assert self._connection is not None
        try:
            reply = self._connection.recv_bytes()
        except (EOFError, OSError) as exc:
            raise PageProcessError(self._ended()) from exc
        if reply[:1] == _FAILED:
            error = pickle.loads(reply[1:])
            self.close()
            raise error
        marked, results = _REPLY.decode(reply[1:])
        return marked, [
            HubWriteResult(tuple(added), tuple(changed), tuple(unchanged))
            for added, changed, unchanged in results
        ]

    def _ended(self) -> str:
        process = self._process
        if process is not None:
            process.join(CLOSE_TIMEOUT_SECONDS)
        code = process.exitcode if process is not None else None
        return f"the page process ended without answering (exit code {code})"

    def close(self) -> None:
        """End the process after its current group (killed if it does not end in time)."""
        with self._starting:
            process, connection = self._process, self._connection
            self._process = self._connection = None
        if process is None or connection is None:
            return
        with contextlib.suppress(OSError):  # already gone
            connection.send_bytes(b"")
        process.join(CLOSE_TIMEOUT_SECONDS)
        if process.is_alive():
            process.kill()
            process.join()
        connection.close()

    def kill(self) -> None:
        """Stop the process at once (from any thread): a cancelled run."""
        process = self._process
        if process is not None and process.is_alive():
            process.kill()


@dataclass(frozen=True, slots=True)
class SentPages:
    """A group of pages sent to the pool, whose answer has not been read yet."""

    #: how many pages
    pages: int
    #: page indexes by process
    shares: dict[int, list[int]]


class PagePool:
    """The writer's page processes: one on SQLite (one writer at a time),
    `POSTGRES_PAGE_PROCESSES` on PostgreSQL, where each waits for the server most of the
    time.

    A repository's pages always go to the same process, so they are written in order; the
    pages of different repositories touch different rows and keys. A group whose pages
    go to several processes is sent to all before any answer is awaited, and fails as a
    whole when one part fails (the run ends then).
    """

    def __init__(self, url: URL) -> None:
        count = POSTGRES_PAGE_PROCESSES if url.drivername.startswith("postgresql") else 1
        self._processes = [PageProcess(url) for _ in range(count)]

    def start(self) -> None:
        for process in self._processes:
            process.start()

    def send(self, pages: Sequence[PageWrite], *, mark: bool) -> SentPages:
        """Send ``pages`` to be written (see `write_pages`), each process' share in one
        transaction; the answer is read by `receive`. Groups sent before the answer to
        an earlier one was read are written after it, in the order sent."""
        shares: dict[int, list[int]] = {}
        for index, page in enumerate(pages):
            slot = zlib.crc32(page.repository.encode()) % len(self._processes)
            shares.setdefault(slot, []).append(index)
        for slot, indexes in shares.items():
            self._processes[slot].send([pages[index] for index in indexes], mark=mark)
        return SentPages(len(pages), shares)

    async def answered(self, sent: SentPages) -> None:
        """Wait until the answer to ``sent`` (the oldest group not received) is there."""
        for slot in sent.shares:
            await self._processes[slot].answered()

    def receive(self, sent: SentPages) -> tuple[bool, list[HubWriteResult]]:
        """The answer to ``sent``, the oldest group not received yet: whether the links
        were marked stale, and each page's result. A group whose pages went to several
        processes fails as a whole when one part fails."""
        marked = False
        results: dict[int, HubWriteResult] = {}
        failure: BaseException | None = None
        for slot, indexes in sent.shares.items():
            try:
                share_marked, share_results = self._processes[slot].receive()
            except Exception as exc:  # the others' answers are still read
                failure = failure or exc
                continue
            marked = marked or share_marked
            results.update(zip(indexes, share_results, strict=True))
        if failure is not None:
            raise failure
        return marked, [results[index] for index in range(sent.pages)]

    def close(self) -> None:
        for process in self._processes:
            process.close()

    def kill(self) -> None:
        for process in self._processes:
            process.kill()
