"""The Hub stage: page each repository's tags, newest first, and write them page by page.

Pagers (twice as many as request slots) take repositories from a bounded queue and
follow the Hub's ``next`` links (``ordering=last_updated``). Each page is handed to the
writer as its own job (``write_hub_tags``): the pages of a full page-through go on to the
writer's page process (:mod:`indexer.store.page_process`), which writes them beside the
fetching loop instead of taking turns with it for the GIL.

Two modes per repository:

- **incremental**: pages of at most ``INCREMENTAL_PAGE_SIZE`` tags; after each page the
  pager waits for the write's answer, and once a page holds only tags already stored
  unchanged, everything older is known and paging stops. Allowed only when the
  repository has a watermark (``image_repositories.hub_reconciled_at``: the last clean
  complete page-through) and its previous paging finished cleanly.
- **full page-through**: pages of ``settings.hub_page_size`` tags, every one of them
  (written without waiting, so the pager keeps fetching); then tags gone from the Hub
  are marked removed (never deleted) and the watermark advances, in one transaction.
  Chosen when there is no watermark, when it is older than
  ``settings.full_reconcile_days``, when forced, or when the repository's previous
  paging did not finish cleanly.

"Did not finish cleanly" survives a crash: the names of the repositories a run is
about to page are stored in ``sync_state`` (``hub.unfinished``) before paging and taken
out at the end only for those that finished cleanly. A run killed halfway leaves them
listed, so the next run pages them completely instead of stopping early on pages the
killed run already wrote.

**Unchanged repositories are not paged at all.** When the Hub's repository list could
be read (``settings.hub_repository_listing``; :meth:`HubClient.repository_times`, two
requests for the whole namespace), a repository whose ``last_updated`` (its last push)
equals the one stored when its tag pages were last read cleanly
(``image_repositories.hub_last_updated``) is skipped, unless a full page-through is due.
The time is stored only after a clean paging, in one transaction at the end of the
stage, so a failed or killed paging leaves the repository to be paged again. Without the list (disabled, or
the Hub did not answer it) every repository is paged as above.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from indexer.errors import UpstreamError
from indexer.store.models import ImageRepository, utcnow
from indexer.store.page_process import PageWrite, write_pages
from indexer.store.state import StaleLinksMark, get_state, set_state
from indexer.store.writer import StoreAction
from indexer.store.writes import (
    HubWriteResult,
    RepositoryIds,
    reconcile_hub_tags,
)
from indexer.sync.run_context import RunContext

__all__ = ["UNFINISHED_KEY", "HubPlan", "plan_hub_paging", "run_hub_stage"]

log = logging.getLogger(__name__)

#: sync_state: JSON list of repositories whose last Hub paging did not finish cleanly
UNFINISHED_KEY = "hub.unfinished"
#: pagers per request slot: an incremental pager spends about half its time waiting for
#: the writer's verdict on its page, so twice the slots keep the requests flowing
PAGERS_PER_SLOT = 2


@dataclass(frozen=True, slots=True)
class HubPlan:
    """How one repository is paged this run."""

    name: str
    #: page to the end and reconcile (else stop at the first all-unchanged page)
    full: bool
    #: the repository's id, when the index has it already
    repository_id: int | None = None
    #: the Hub's last push time of the repository, from this run's repository list
    hub_time: datetime | None = None
    #: the last push is the one already read: nothing to page
    unchanged: bool = False


def _load_unfinished(value: str | None) -> set[str]:
    if not value:
        return set()
    try:
        names = json.loads(value)
    except ValueError:
        return set()
    return {str(name) for name in names} if isinstance(names, list) else set()


async def plan_hub_paging(
    ctx: RunContext,
    repositories: Sequence[str],
    *,
    full_reconcile: bool | None,
    now: datetime,
    hub_times: Mapping[str, datetime | None] | None = None,
) -> tuple[list[HubPlan], set[str]]:
    """Each repository's mode, and the repositories left unfinished by earlier runs.

    ``hub_times``: the Hub's repository list of this run (name to last push), if read.
    """
    names = sorted(set(repositories))
    async with ctx.database.session() as session:
        known = {
            name: (repository_id, watermark, last_read)
            for name, repository_id, watermark, last_read in await session.execute(
                select(
                    ImageRepository.name,
                    ImageRepository.id,
                    ImageRepository.hub_reconciled_at,
                    ImageRepository.hub_last_updated,
                ).where(ImageRepository.name.in_(names))
            )
        }
        unfinished = _load_unfinished(await get_state(session, UNFINISHED_KEY))
    max_age = timedelta(days=ctx.settings.full_reconcile_days)
    plans = []
    for name in names:
        repository_id, watermark, last_read = known.get(name, (None, None, None))
        full = (
            full_reconcile is True
            or watermark is None
            or name in unfinished
            or (full_reconcile is None and now - watermark > max_age)
        )
        hub_time = hub_times.get(name) if hub_times is not None else None
        unchanged = not full and hub_time is not None and hub_time == last_read
        plans.append(HubPlan(name, full, repository_id, hub_time, unchanged))
    return plans, unfinished


def _write_page(
    ids: RepositoryIds, page: PageWrite, links: StaleLinksMark
) -> StoreAction[HubWriteResult]:
    """An incremental page, written on the writer thread (the pager waits for its verdict)."""

    async def write(session: AsyncSession) -> HubWriteResult:
        marked, (result,) = await write_pages(session, [page], mark=not links.marked, ids=ids)
        links.marked = links.marked or marked
        return result

    return write


def _reconcile(
    ids: RepositoryIds, repository: str, present: set[str], now: datetime
) -> StoreAction[list[str]]:
    async def write(session: AsyncSession) -> list[str]:
        repository_id = await ids.get(session, repository)
        return await reconcile_hub_tags(session, repository_id, present, now=now)

    return write


def _count_page(ctx: RunContext) -> Callable[[HubWriteResult], None]:
    def count(result: HubWriteResult) -> None:
        ctx.tally.tags_added += len(result.added)
        ctx.tally.tags_changed += len(result.changed)

    return count


@dataclass
class _HubRun:
    """What the pagers of one run share."""

    now: datetime
    ids: RepositoryIds
    #: told the name of each repository whose paging finished cleanly, once it is written
    on_paged: Callable[[str], None] | None = None
    #: repositories that finished cleanly
    clean: set[str] = field(default_factory=set)


async def _page_repository(ctx: RunContext, plan: HubPlan, run: _HubRun) -> bool:
    """Page one repository; answers whether it finished cleanly."""
    tally = ctx.tally
    present: set[str] = set()
    writes: list[asyncio.Future[HubWriteResult]] = []
    clean = True
    try:
        client = ctx.hub if plan.full else ctx.incremental_hub
        async with aclosing(client.pages(plan.name)) as pages:
            async for page in pages:
                if ctx.stopping:
                    clean = False
                    break
                tally.hub_pages += 1
                records = page.results
                if plan.full:  # the rows of whole repositories: the page process writes them
                    writes.append(
                        await ctx.writer.submit_page(
                            PageWrite(plan.name, records, run.now, plan.repository_id),
                            ctx.links_stale,
                            on_commit=_count_page(ctx),
                        )
                    )
                    present.update(record.name for record in records)
                    continue
                future = await ctx.writer.submit(
                    _write_page(run.ids, PageWrite(plan.name, records, run.now), ctx.links_stale),
                    on_commit=_count_page(ctx),
                )
                result = await future
                if not result.added and not result.changed:
                    tally.hub_stopped_early += 1
                    break
    except UpstreamError as exc:
        clean = False
        await ctx.item_error("hub-page", exc.url or plan.name, exc)
    await asyncio.gather(*writes)
    if plan.full and clean:
        removed = await ctx.writer.run_job(_reconcile(run.ids, plan.name, present, run.now))
        tally.tags_removed += len(removed)
        tally.hub_full_page_throughs += 1
    tally.hub_repositories_done += 1
    return clean


async def _pager(ctx: RunContext, queue: asyncio.Queue[HubPlan | None], run: _HubRun) -> None:
    while (plan := await queue.get()) is not None:
        if not ctx.stopping and await _page_repository(ctx, plan, run):
            run.clean.add(plan.name)
            if run.on_paged is not None:
                run.on_paged(plan.name)


def _store_unfinished(names: set[str]) -> StoreAction[None]:
    async def write(session: AsyncSession) -> None:
        await set_state(session, UNFINISHED_KEY, json.dumps(sorted(names)) if names else None)

    return write


_REPOSITORIES = cast(Table, ImageRepository.__table__)
#: one statement for every repository (executemany), not one per repository
_SET_HUB_TIME = (
    update(_REPOSITORIES)
    .where(_REPOSITORIES.c.id == bindparam("b_id"))
    .values(hub_last_updated=bindparam("b_moment"))
)


def _store_hub_times(ids: RepositoryIds, times: dict[str, datetime]) -> StoreAction[None]:
    """Store the last push times of the repositories whose paging finished cleanly."""

    async def write(session: AsyncSession) -> None:
        rows = [
            {"b_id": await ids.get(session, name), "b_moment": moment}
            for name, moment in sorted(times.items())
        ]
        await session.execute(_SET_HUB_TIME, rows)

    return write


async def run_hub_stage(
    ctx: RunContext,
    repositories: Sequence[str],
    *,
    full_reconcile: bool | None,
    hub_times: Awaitable[Mapping[str, datetime | None] | None] | None = None,
    on_paged: Callable[[str], None] | None = None,
) -> None:
    """Page the Hub tags of ``repositories`` and write them.

    ``hub_times``: the Hub's repository list of this run, when it is being read
    (answers ``None`` when it could not be). ``on_paged``: told the name of each
    repository whose paging finished cleanly, once its pages are committed.
    """
    now = utcnow()
    times = await hub_times if hub_times is not None else None
    plans, unfinished = await plan_hub_paging(
        ctx, repositories, full_reconcile=full_reconcile, now=now, hub_times=times
    )
    ctx.tally.hub_repositories = len(plans)
    unchanged = [plan for plan in plans if plan.unchanged]
    ctx.tally.hub_unchanged = ctx.tally.hub_repositories_done = len(unchanged)
    plans = [plan for plan in plans if not plan.unchanged]
    if not plans:
        return
    started = unfinished | {plan.name for plan in plans}
    await ctx.writer.run_job(_store_unfinished(started))
    pagers = max(1, min(PAGERS_PER_SLOT * ctx.settings.concurrency, len(plans)))
    queue: asyncio.Queue[HubPlan | None] = asyncio.Queue(maxsize=pagers)
    known = {plan.name: plan.repository_id for plan in plans if plan.repository_id is not None}
    run = _HubRun(now, RepositoryIds(known), on_paged)
    async with asyncio.TaskGroup() as group:
        if any(plan.full for plan in plans):
            group.create_task(ctx.writer.start_pages())
        group.create_task(ctx.feed(queue, plans, pagers))
        for _ in range(pagers):
            group.create_task(_pager(ctx, queue, run))
    await ctx.writer.run_job(_store_unfinished(started - run.clean))
    read = {
        plan.name: plan.hub_time
        for plan in plans
        if plan.name in run.clean and plan.hub_time is not None
    }
    if read:
        await ctx.writer.run_job(_store_hub_times(run.ids, read))
    log.info(
        "hub: %d repositories paged, %d cleanly, %d full page-throughs, %d unchanged",
        len(plans),
        len(run.clean),
        ctx.tally.hub_full_page_throughs,
        ctx.tally.hub_unchanged,
    )
