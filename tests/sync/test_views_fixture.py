"""A corpus sync gives, view by view, exactly the rows recorded before the writer changed."""

from __future__ import annotations

import pytest

from indexer.replay import ReplayServer
from tests.sync.helpers import replay_settings, sync_once
from tests.sync.view_fixture import VIEWS, load_fixture, normalised_views

pytestmark = [pytest.mark.corpus, pytest.mark.slow]


@pytest.mark.asyncio
async def test_corpus_sync_views_equal_the_recorded_fixture(
    database_url: str, replay: ReplayServer
) -> None:
    await sync_once(replay_settings(replay, database_url))
    found = await normalised_views(database_url)
    expected = load_fixture()
    assert set(expected) == set(VIEWS)
    for view in VIEWS:
        if found[view] == expected[view]:
            continue
        have = {tuple(row) for row in found[view]}
        want = {tuple(row) for row in expected[view]}
        missing, extra = sorted(want - have, key=repr)[:5], sorted(have - want, key=repr)[:5]
        pytest.fail(
            f"{view}: {len(found[view])} rows, {len(expected[view])} expected; "
            f"missing {missing}, extra {extra}"
        )
