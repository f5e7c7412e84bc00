"""The store's writer thread: jobs in order; the jobs queued together commit together."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from indexer.store.records import HubImageRecord, HubTagRecord
from indexer.store.state import get_state, set_state
from indexer.store.writer import running_writer
from indexer.store.writes import write_hub_tags
from tests.databases import fetch_rows


class _BoomError(Exception):
    pass


def _setter(key: str, gate: threading.Event | None = None) -> object:
    async def job(session: AsyncSession) -> str:
        await set_state(session, key, "1")
        if gate is not None:
            gate.wait(10)  # holds the thread until the next job is queued,
            await asyncio.sleep(0)  # then lets its loop take it in
        return key

    return job


async def _fail(session: AsyncSession) -> None:
    await set_state(session, "failing", "1")
    raise _BoomError


async def _read(session: AsyncSession) -> list[str | None]:
    return [await get_state(session, key) for key in ("a", "b", "c")]


@pytest.mark.asyncio
async def test_jobs_run_in_order_and_see_the_earlier_ones(database_url: str) -> None:
    gate = threading.Event()
    async with running_writer(database_url) as writer:
        first = await writer.submit(_setter("a", gate))  # type: ignore[arg-type]
        second = await writer.submit(_setter("b"))  # type: ignore[arg-type]
        third = await writer.submit(_read)
        gate.set()
        assert await first == "a"
        assert await second == "b"
        assert await third == ["1", "1", None]
    assert sorted(await fetch_rows(database_url, "SELECT key FROM sync_state")) == [("a",), ("b",)]


@pytest.mark.asyncio
async def test_a_failing_job_fails_the_jobs_it_would_have_committed_with(
    database_url: str,
) -> None:
    gate = threading.Event()
    with pytest.raises(_BoomError):
        async with running_writer(database_url) as writer:
            done = await writer.submit(_setter("c"))  # type: ignore[arg-type]
            await done  # committed alone, before the others were queued
            grouped = await writer.submit(_setter("a", gate))  # type: ignore[arg-type]
            failing = await writer.submit(_fail)
            gate.set()
            with pytest.raises(_BoomError):
                await grouped
            with pytest.raises(_BoomError):
                await failing
    # the failure rolled back the job queued with it; the earlier commit stays
    assert await fetch_rows(database_url, "SELECT key FROM sync_state") == [("c",)]


def _new_tags(page: int, count: int) -> list[HubTagRecord]:
    return [
        HubTagRecord(
            name=f"t{page}-{index}",
            digest=f"sha256:{page:032d}{index:032d}",
            media_type="application/vnd.oci.image.index.v1+json",
            last_updated=datetime(2026, 10, 30, tzinfo=UTC),
            tag_status="active",
            images=(HubImageRecord("linux", "amd64", f"sha256:{index:032d}{page:032d}", size=1),),
        )
        for index in range(count)
    ]


@pytest.mark.asyncio
async def test_postgresql_statistics_follow_a_large_load_of_tags(database_url: str) -> None:
    """The Hub's tables are analysed as a sync fills them (so plans see their real size)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("statistics and plans of PostgreSQL")
    async with running_writer(database_url) as writer:
        for page in range(3):
            tags = _new_tags(page, 2500)

            async def write(session: AsyncSession, tags: list[HubTagRecord] = tags) -> None:
                await write_hub_tags(session, "python", tags)

            await writer.run_job(write)
    rows = await fetch_rows(
        database_url, "SELECT reltuples FROM pg_class WHERE oid = 'tags'::regclass"
    )
    assert rows[0][0] >= 5000  # never analysed: -1
