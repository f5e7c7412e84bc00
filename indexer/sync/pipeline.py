"""`run_sync`: the one async entry point of a sync; wires settings to clients, stages and store.

One run, in order:

1. create the ``sync_runs`` row (the caller holds the single-run lock:
   :func:`indexer.schedule.run_locked_sync`);
2. open one `UpstreamHttp` (one aiohttp session, one semaphore of
   ``settings.concurrency``) for the whole run;
3. ask for the official-images branch head with ``If-None-Match`` (the ETag of the
   last clean library part). A failure here, or of the listing that follows, is fatal:
   the upstream is unreachable (the run is stored as failed and the error raised).
   Meanwhile, read the Hub's repository list (each repository's last push; see
   :mod:`indexer.sync.hub_stage`); without it (an error, a 404) every repository is
   paged, nothing is lost;
4. run, concurrently and sharing the semaphore: the library stage (skipped on 304;
   :mod:`indexer.sync.library_stage`), the Hub stage (:mod:`indexer.sync.hub_stage`)
   and the store threads (:mod:`indexer.store.writer`). A failure in one cancels the others;
5. once the library and the Hub are written (the registry's reading of step 6 goes
   on meanwhile), build what a first load dropped, and link every parent reference to
   the indexed tag it names and to the stanza that tag answers with per architecture
   (``link_parents``, once and set-based), when a write of this run or of a killed
   earlier one marked the links stale (``links.stale``);
6. read the registry's indexes that are not stored yet (most of them already during
   steps 4 and 5, each repository's once its Hub paging and its library file are
   written), then the layers where the annotations give no base
   (:mod:`indexer.sync.registry_stage`; within the pull budget);
7. store the counts and status on the run (:func:`_verdict`): ``ok``; ``partial``
   (scattered item errors); ``interrupted`` (the graceful stop: no request leaves any
   more, those in flight get a few seconds, what was fetched is written); ``failed``
   (a fatal error, raised again; or an upstream that never answered usably, or more
   than ``settings.max_item_error_share`` of the items lost: the run is written as far
   as it got, then `UpstreamUnreachableError` / `SyncFailedError` is raised, naming
   the upstream and the reason in one line).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from indexer.errors import (
    NotFoundError,
    RequestStoppedError,
    SyncFailedError,
    UpstreamError,
    UpstreamUnreachableError,
    describe,
)
from indexer.settings import Settings
from indexer.store.bulk_load import begin_load, end_load
from indexer.store.db import Database
from indexer.store.links import link_parents
from indexer.store.models import ImageRepository
from indexer.store.runs import finish_run, record_item_errors, start_run
from indexer.store.state import LINKS_STALE_KEY, delete_state, get_state
from indexer.store.writer import StoreAction, StoreThread
from indexer.sync.hub_stage import run_hub_stage
from indexer.sync.library_stage import COMMIT_KEY, run_library_stage, usable_etag
from indexer.sync.progress import ProgressDisplay, showing
from indexer.sync.registry_stage import Readiness, RegistryStage
from indexer.sync.run_context import INCREMENTAL_PAGE_SIZE, RunContext
from indexer.sync.summary import SyncSummary, SyncTally
from indexer.upstream.github import GitHubClient
from indexer.upstream.http import UpstreamHttp
from indexer.upstream.hub import HubClient
from indexer.upstream.registry import RegistryClient

__all__ = ["run_sync"]

log = logging.getLogger("indexer.sync")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _LibraryState:
    """What the branch head said: the commit, and whether it changed."""

    commit: str | None
    unchanged: bool


def _leaf(error: BaseException) -> BaseException:
    """The first real exception inside (nested) exception groups."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


#: fewer lost items than this never fail a run: in a small run (``--only`` one image) a
#: share says little, and one lost Hub paging is a scattered error
MIN_LOST_ITEMS = 3
#: writer jobs outstanding at most: a full page-through fetches Hub pages faster than they
#: are written, and the writer commits the jobs queued meanwhile together (see
#: :data:`indexer.store.writer.GROUP_JOBS`); the larger the transaction, the fewer times each
#: index page it touches is written out
WRITER_QUEUE = 64
#: the message of a run stopped by the first signal
STOPPED_MESSAGE = "stopped: in-flight work finished, the rest left"


def _verdict(
    settings: Settings, tally: SyncTally, http: UpstreamHttp, stop: asyncio.Event
) -> tuple[str, str | None, Exception | None]:
    """Status, message and the error to raise of a run whose stages all returned."""
    if stop.is_set():
        return "interrupted", STOPPED_MESSAGE, None
    unreachable = http.unreachable()
    if unreachable:
        first = unreachable[0]
        names = ", ".join(error.upstream for error in unreachable)
        message = str(first) if len(unreachable) == 1 else f"{names} unreachable; {first}"
        return "failed", message, UpstreamUnreachableError(first.upstream, first.reason)
    share = tally.lost_share
    if share > settings.max_item_error_share and tally.items_lost >= MIN_LOST_ITEMS:
        message = (
            f"lost {tally.items_lost} of {tally.items_tried} items ({share:.0%}, more than "
            f"max_item_error_share {settings.max_item_error_share:.0%}) to upstream failures: "
            f"{_top_errors(tally)}"
        )
        return "failed", message, SyncFailedError(message)
    return ("partial" if tally.error_count else "ok"), None, None


def _top_errors(tally: SyncTally) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in tally.errors.most_common(3))


async def _maintained_repositories(database: Database) -> list[str]:
    async with database.session() as session:
        rows = await session.scalars(
            select(ImageRepository.name).where(ImageRepository.maintained.is_(True))
        )
        return sorted(rows)


async def _save_pending_errors(ctx: RunContext) -> None:
    """After a failure the writer is gone: store the item errors it had not got yet."""
    errors = ctx.take_pending_errors()
    try:
        await record_item_errors(ctx.database, ctx.run_id, errors)
    except Exception:  # the run's own failure is what gets reported
        log.warning("could not store %d item errors of the failed run", len(errors))


async def _link_parents_if_stale(session: AsyncSession) -> int:
    """Relink every parent when a write of this run (or of a killed one) marked them stale."""
    if await get_state(session, LINKS_STALE_KEY) is None:
        return 0
    changed = await link_parents(session)
    await delete_state(session, LINKS_STALE_KEY)
    return changed


def _timed(action: StoreAction[T], seconds: dict[str, float], key: str) -> StoreAction[T]:
    """``action``, adding the seconds it runs (in the writer) to ``seconds[key]``."""

    async def timed(session: AsyncSession) -> T:
        started = time.perf_counter()
        try:
            return await action(session)
        finally:
            seconds[key] += time.perf_counter() - started

    return timed


async def _nothing(_session: AsyncSession) -> None:
    """An empty job: once it is done, every job queued before it is committed."""


async def _hub_times(ctx: RunContext) -> dict[str, datetime | None] | None:
    """The Hub's repository list (name to last push), or ``None`` where it cannot be read."""
    try:
        return await ctx.hub.repository_times()
    except UpstreamError as exc:
        level = logging.INFO if isinstance(exc, NotFoundError) else logging.WARNING
        log.log(
            level,
            "hub repository list not read (%s): every repository's tag pages are checked",
            exc,
        )
        return None


async def _stages(
    ctx: RunContext, *, only: Sequence[str], full_reconcile: bool | None
) -> _LibraryState:
    """Branch head and listing, then the library and Hub stages with the writer.

    The Hub's repository list is read alongside the branch head (it needs nothing
    from GitHub), so an unchanged night costs about one round trip.
    """
    hub_times = (
        asyncio.create_task(_hub_times(ctx)) if ctx.settings.hub_repository_listing else None
    )
    try:
        return await _stages_with(
            ctx, only=only, full_reconcile=full_reconcile, hub_times=hub_times
        )
    finally:
        if hub_times is not None and not hub_times.done():
            hub_times.cancel()
            await asyncio.wait([hub_times])


async def _stages_with(
    ctx: RunContext,
    *,
    only: Sequence[str],
    full_reconcile: bool | None,
    hub_times: asyncio.Task[dict[str, datetime | None] | None] | None,
) -> _LibraryState:
    settings = ctx.settings
    etag = await usable_etag(ctx)
    async with ctx.database.session() as session:
        stored_commit = await get_state(session, COMMIT_KEY)
    head = await ctx.github.branch_head(settings.branch, etag)
    listing = await ctx.github.library_listing(head.sha) if head is not None else None
    if listing is not None:
        repositories = sorted(entry.name for entry in listing if entry.type == "file")
    else:
        log.info("library unchanged since %s (304): library part skipped", stored_commit)
        repositories = await _maintained_repositories(ctx.database)
    if only:
        known = set(repositories)
        if listing is None:
            for name in only:
                if name not in known:
                    ctx.tally.not_listed.append(name)
                    await ctx.item_failed(
                        "library-file", name, "not-listed", f"{name} is not a maintained image"
                    )
        repositories = [name for name in only if name in known]

    registry = RegistryStage(ctx, ctx.registry) if ctx.registry is not None else None
    readiness = Readiness()

    async def library() -> None:
        if head is not None and listing is not None:
            await run_library_stage(ctx, head, listing, only=only, on_written=readiness.written)
        readiness.written(None)

    async def hub() -> None:
        try:
            await run_hub_stage(
                ctx,
                repositories,
                full_reconcile=full_reconcile,
                hub_times=hub_times,
                on_paged=readiness.paged,
            )
        finally:
            readiness.paged(None)

    async def library_and_hub() -> None:
        started = time.perf_counter()
        seconds = ctx.tally.seconds
        seconds.update(indexing=0.0, relinking=0.0)
        first_load = await ctx.writer.run_job(begin_load)
        flusher = asyncio.create_task(ctx.flush_errors_periodically())
        try:
            async with asyncio.TaskGroup() as stages:
                if registry is not None:
                    stages.create_task(registry.read_while_paging(readiness))
                async with asyncio.TaskGroup() as fetching:
                    fetching.create_task(library())
                    fetching.create_task(hub())
                # the library and the Hub are written; the registry's reading goes on
                await ctx.writer.run_job(_nothing)
                seconds["stages"] = time.perf_counter() - started
                seconds["writing"] = ctx.writer.busy_seconds
                written = time.perf_counter()
                if first_load:  # what it dropped, each built at once (store.bulk_load)
                    await ctx.writer.run_job(_timed(end_load, seconds, "indexing"))
                # parent_tag_id follows library files and new tags, parent_stanza_id
                # library files and repositories no longer maintained: each such write
                # marked the links stale in its own transaction, so this also finishes a
                # killed run's linking
                await ctx.writer.run_job(_timed(_link_parents_if_stale, seconds, "relinking"))
        finally:
            flusher.cancel()
            await asyncio.wait([flusher])
        await ctx.flush_errors()
        seconds["decoding"] = ctx.hub.decode_seconds + ctx.incremental_hub.decode_seconds
        if registry is not None and not ctx.stopping:
            await registry.finish(only)
            await ctx.flush_errors()
            seconds["registry"] = time.perf_counter() - written
        await ctx.reader.close()
        await ctx.writer.close()

    async with asyncio.TaskGroup() as group:
        group.create_task(ctx.writer.run())
        group.create_task(ctx.reader.run())
        group.create_task(library_and_hub())
    return _LibraryState(head.sha if head is not None else stored_commit, head is None)


async def run_sync(
    settings: Settings,
    database: Database,
    *,
    only: Sequence[str] = (),
    progress: ProgressDisplay | None = None,
    full_reconcile: bool | None = None,
    stop: asyncio.Event | None = None,
) -> SyncSummary:
    """One incremental sync of the official images (all, or the ``only`` ones).

    ``full_reconcile``: ``True`` pages every repository's Hub tags to the end and
    marks the vanished ones removed; ``None`` does that when a repository's last
    complete page-through is older than ``settings.full_reconcile_days``; ``False``
    only where a repository was never paged completely.

    ``stop`` (the graceful stop, see :mod:`indexer.schedule.runner`): once set, no new
    repository is started, what is in flight is finished and committed, and the run
    is stored as ``interrupted``; the summary is returned as usual.

    The caller holds the single-run lock (:func:`indexer.schedule.run_locked_sync`).
    Answers the summary of the run (``ok``, ``partial`` or ``interrupted``). A fatal
    error is stored on the run (``failed``) and raised again; a cancellation is let
    through untouched (the caller records the run as interrupted).
    """
    names = tuple(dict.fromkeys(name.strip() for name in only if name.strip()))
    run_id = await start_run(database, only=names, full_reconcile=full_reconcile is True)
    return await _run(
        settings,
        database,
        run_id,
        only=names,
        progress=progress,
        full_reconcile=full_reconcile,
        stop=stop if stop is not None else asyncio.Event(),
    )


async def _run(
    settings: Settings,
    database: Database,
    run_id: int,
    *,
    only: Sequence[str],
    progress: ProgressDisplay | None,
    full_reconcile: bool | None,
    stop: asyncio.Event,
) -> SyncSummary:
    tally = SyncTally()
    started = time.monotonic()
    state = _LibraryState(None, unchanged=False)
    status, message = "ok", None
    failure: BaseException | None = None
    async with UpstreamHttp(settings, stop=stop) as http:
        ctx = RunContext(
            settings=settings,
            database=database,
            run_id=run_id,
            github=GitHubClient(http, settings),
            hub=HubClient(http, settings),
            incremental_hub=HubClient(
                http,
                settings.replace(hub_page_size=min(settings.hub_page_size, INCREMENTAL_PAGE_SIZE)),
            ),
            stats=http.stats,
            writer=StoreThread(database.url, name="writer", queue_size=WRITER_QUEUE),
            reader=StoreThread(
                database.url, name="reader", queue_size=max(8, settings.concurrency)
            ),
            tally=tally,
            registry=RegistryClient(http, settings),
            stop=stop,
        )
        try:
            async with showing(progress, tally, http.stats):
                state = await _stages(ctx, only=only, full_reconcile=full_reconcile)
        except Exception as exc:
            leaf = _leaf(exc)
            await _save_pending_errors(ctx)
            if stop.is_set() and isinstance(leaf, RequestStoppedError):
                status, message = "interrupted", STOPPED_MESSAGE  # stopped before the listing
            else:
                failure = leaf
                status = "failed"
                message = describe(leaf)
        else:
            status, message, failure = _verdict(settings, tally, http, stop)
        summary = SyncSummary(
            run_id=run_id,
            status=status,
            library_commit=state.commit,
            library_unchanged=state.unchanged,
            duration_seconds=time.monotonic() - started,
            tally=tally.copy(),
            requests=http.stats.as_dict(),
            message=message,
        )
    await finish_run(database, run_id, status=status, counts=summary.run_counts(), message=message)
    log.info("sync run %d: %s", run_id, status)
    if progress is not None:
        progress.finish(summary)
    if failure is not None:
        raise failure
    return summary
