"""The page process: Hub pages written in a process of their own, in the writer's order."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from indexer.store.db import normalize_database_url
from indexer.store.models import Tag
from indexer.store.page_process import PagePool, PageProcessError, PageWrite
from indexer.store.records import HubImageRecord, HubTagRecord
from indexer.store.state import LINKS_STALE_KEY, StaleLinksMark, delete_state, get_state, set_state
from indexer.store.writer import GROUP_PAGES, running_writer
from indexer.store.writes import write_hub_tags
from tests.databases import fetch_rows

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
#: a broken foreign key: through SQLAlchemy, or from asyncpg's COPY on PostgreSQL
_KEY_ERRORS = (IntegrityError, asyncpg.exceptions.IntegrityConstraintViolationError)


def _tags(prefix: str, count: int, *, digest: str = "a") -> list[HubTagRecord]:
    return [
        HubTagRecord(
            name=f"{prefix}-{index}",
            digest=f"sha256:{digest * 8}{index:056d}",
            media_type="application/vnd.oci.image.index.v1+json",
            last_updated=datetime(2026, 10, 30, index % 24, tzinfo=UTC),
            tag_status="active",
            images=(
                HubImageRecord("linux", "amd64", f"sha256:1{digest * 7}{index:056d}", size=index),
                HubImageRecord(
                    "linux",
                    "arm",
                    f"sha256:2{digest * 7}{index:056d}",
                    variant="v7",
                    status="active",
                    last_pushed=datetime(2026, 10, 29, tzinfo=UTC),
                ),
            ),
        )
        for index in range(count)
    ]


_HUB_ROWS = """
SELECT r.name, t.name, t.digest, t.media_type, t.last_updated, t.tag_status, t.first_seen,
       t.last_seen, t.removed_at, i.os, i.architecture, i.variant, i.bashbrew_arch, i.digest,
       i.size, i.status, i.last_pushed, h.digest, h.first_seen, h.last_seen
FROM tags t JOIN image_repositories r ON r.id = t.repository_id
LEFT JOIN hub_images i ON i.tag_id = t.id
LEFT JOIN tag_history h ON h.tag_id = t.id
"""


async def _hub_rows(database_url: str, repository: str) -> list[tuple[Any, ...]]:
    rows = await fetch_rows(database_url, _HUB_ROWS + " WHERE r.name = :name", name=repository)
    return sorted(tuple(str(value) for value in row[1:]) for row in rows)


def _writer(repository: str, records: list[HubTagRecord], now: datetime) -> Any:
    async def write(session: AsyncSession) -> None:
        await write_hub_tags(session, repository, records, now=now)

    return write


@pytest.mark.asyncio
async def test_pages_written_by_the_process_equal_those_written_on_the_thread(
    database_url: str,
) -> None:
    first, second = _tags("t", 30), _tags("t", 40, digest="b")  # 30 changed, 10 new
    later = datetime(2026, 12, 1, tzinfo=UTC)
    links = StaleLinksMark()
    async with running_writer(database_url) as writer:
        await writer.run_job(_writer("on-thread", first, NOW))
        await writer.run_job(_writer("on-thread", second, later))
        added = await (await writer.submit_page(PageWrite("in-process", first, NOW), links))
        result = await (await writer.submit_page(PageWrite("in-process", second, later), links))
    assert len(added.added) == 30
    assert (len(result.added), len(result.changed), len(result.unchanged)) == (10, 30, 0)
    in_process = await _hub_rows(database_url, "in-process")
    assert len(in_process) == 30 * 2 * 2 + 10 * 2  # two images, changed tags two intervals
    assert in_process == await _hub_rows(database_url, "on-thread")


async def _count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Tag)) or 0)


def _holding(gate: threading.Event) -> Any:
    """A job that holds the writer thread until ``gate`` opens (the jobs after it queue)."""

    async def hold(session: AsyncSession) -> None:
        await set_state(session, "held", "1")
        gate.wait(10)

    return hold


@pytest.mark.asyncio
async def test_jobs_and_pages_take_turns_in_the_order_queued(database_url: str) -> None:
    gate = threading.Event()
    links = StaleLinksMark()
    async with running_writer(database_url) as writer:
        held = await writer.submit(_holding(gate))
        pages = [
            await writer.submit_page(PageWrite("python", _tags(f"p{page}", 5), NOW), links)
            for page in range(2)
        ]
        between = await writer.submit(_count)
        last = await writer.submit_page(PageWrite("python", _tags("p2", 5), NOW), links)
        after = await writer.submit(_count)
        gate.set()
        await held
        assert [len((await page).added) for page in pages] == [5, 5]
        assert await between == 10  # committed by the process before the job ran
        assert len((await last).added) == 5
        assert await after == 15


@pytest.mark.asyncio
async def test_the_first_page_that_adds_a_tag_marks_the_links_stale_once(
    database_url: str,
) -> None:
    links = StaleLinksMark()
    async with running_writer(database_url) as writer:
        await (await writer.submit_page(PageWrite("python", [], NOW), links))
        assert not links.marked  # nothing added: nothing to relink
        await (await writer.submit_page(PageWrite("python", _tags("a", 3), NOW), links))
        assert links.marked
        assert await writer.run_job(_state(LINKS_STALE_KEY)) is not None
        await writer.run_job(_forget(LINKS_STALE_KEY))
        await (await writer.submit_page(PageWrite("python", _tags("b", 3), NOW), links))
        assert await writer.run_job(_state(LINKS_STALE_KEY)) is None  # once per run


def _state(key: str) -> Any:
    async def read(session: AsyncSession) -> str | None:
        return await get_state(session, key)

    return read


def _forget(key: str) -> Any:
    async def forget(session: AsyncSession) -> None:
        await delete_state(session, key)

    return forget


@pytest.mark.asyncio
async def test_a_failing_group_of_pages_fails_the_writer_and_commits_none(
    database_url: str,
) -> None:
    gate = threading.Event()
    links = StaleLinksMark()
    with pytest.raises(_KEY_ERRORS):
        async with running_writer(database_url) as writer:
            held = await writer.submit(_holding(gate))
            good = await writer.submit_page(PageWrite("python", _tags("good", 3), NOW), links)
            # no such repository: its tags break the foreign key
            bad = await writer.submit_page(
                PageWrite("python", _tags("bad", 3), NOW, repository_id=999_999), links
            )
            gate.set()
            await held
            with pytest.raises(_KEY_ERRORS):
                await good  # in the same transaction as the failing page
            with pytest.raises(_KEY_ERRORS):
                await bad
    assert await fetch_rows(database_url, "SELECT name FROM tags") == []
    assert await fetch_rows(database_url, "SELECT key FROM sync_state") == [("held",)]


@pytest.mark.asyncio
async def test_a_killed_page_process_is_an_error_not_a_hang(database_url: str) -> None:
    pool = PagePool(normalize_database_url(database_url))
    try:
        marked, results = pool.receive(
            pool.send([PageWrite("python", _tags("a", 2), NOW)], mark=True)
        )
        assert marked
        assert [len(result.added) for result in results] == [2]
        pool.kill()
        with pytest.raises(PageProcessError, match="ended without answering"):
            pool.receive(pool.send([PageWrite("python", _tags("b", 2), NOW)], mark=False))
    finally:
        pool.close()
    assert len(await fetch_rows(database_url, "SELECT name FROM tags")) == 2


@pytest.mark.asyncio
async def test_the_pool_answers_a_group_of_several_repositories_in_order(
    database_url: str,
) -> None:
    """On PostgreSQL the repositories' pages go to two processes; a repository's pages
    stay in order (its second page sees its first), and the answers in the group's."""
    pool = PagePool(normalize_database_url(database_url))
    pages = [
        PageWrite(repository, _tags(repository, count), NOW)
        for repository, count in (("alpine", 2), ("debian", 3), ("python", 4), ("ruby", 5))
    ]
    changed = PageWrite("debian", _tags("debian", 3, digest="c"), NOW)
    try:
        marked, results = pool.receive(pool.send([*pages, changed], mark=False))
    finally:
        pool.close()
    assert not marked
    assert [len(result.added) for result in results] == [2, 3, 4, 5, 0]
    assert len(results[-1].changed) == 3
    assert len(await fetch_rows(database_url, "SELECT name FROM tags")) == 14


@pytest.mark.asyncio
async def test_a_group_sent_before_the_answer_to_the_last_is_written_after_it(
    database_url: str,
) -> None:
    """Two groups in flight: the second is written after the first (it sees its tags),
    and the links are marked once although both groups asked for it."""
    pool = PagePool(normalize_database_url(database_url))
    try:
        first = pool.send([PageWrite("python", _tags("a", 3), NOW)], mark=True)
        second = pool.send([PageWrite("python", _tags("a", 4, digest="b"), NOW)], mark=True)
        first_marked, (first_result,) = pool.receive(first)
        second_marked, (second_result,) = pool.receive(second)
    finally:
        pool.close()
    assert (first_marked, len(first_result.added)) == (True, 3)
    assert not second_marked
    assert (len(second_result.added), len(second_result.changed)) == (1, 3)


@pytest.mark.asyncio
async def test_a_failing_group_fails_the_group_in_flight_behind_it(database_url: str) -> None:
    gate = threading.Event()
    links = StaleLinksMark()
    with pytest.raises(_KEY_ERRORS):
        async with running_writer(database_url, queue_size=64) as writer:
            held = await writer.submit(_holding(gate))
            # no such repository: the first group fails
            pages = [
                await writer.submit_page(
                    PageWrite("python", _tags(f"p{page}", 1), NOW, repository_id=999_999), links
                )
                for page in range(GROUP_PAGES)
            ]
            behind = await writer.submit_page(PageWrite("python", _tags("r", 2), NOW), links)
            gate.set()
            await held
            for page in pages:
                with pytest.raises(_KEY_ERRORS):
                    await page
            with pytest.raises(_KEY_ERRORS):
                await behind  # sent, never written: the process ended with the first
    assert await fetch_rows(database_url, "SELECT name FROM tags") == []
