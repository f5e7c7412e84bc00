"""sync_state helpers: the stale-links mark."""

from __future__ import annotations

import pytest

from indexer.store.db import Database
from indexer.store.state import LINKS_STALE_KEY, StaleLinksMark, delete_state, get_state


@pytest.mark.asyncio
async def test_the_stale_links_mark_is_written_once_per_run(database_url: str) -> None:
    database = Database(database_url)
    mark = StaleLinksMark()
    try:
        async with database.session() as session:
            assert await get_state(session, LINKS_STALE_KEY) is None
            await mark(session)
        async with database.session() as session:
            assert await get_state(session, LINKS_STALE_KEY) == "1"
            # the run's own relink deletes it; the same run does not write it again
            await delete_state(session, LINKS_STALE_KEY)
        async with database.session() as session:
            await mark(session)
        async with database.session() as session:
            assert await get_state(session, LINKS_STALE_KEY) is None
            await StaleLinksMark()(session)  # the next run's mark
        async with database.session() as session:
            assert await get_state(session, LINKS_STALE_KEY) == "1"
    finally:
        await database.dispose()
