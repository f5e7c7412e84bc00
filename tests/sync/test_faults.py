"""A sync through 5xx answers, truncated bodies and a rate limit ends as a clean one does."""

from __future__ import annotations

import pytest

from indexer.replay import Corpus, ReplayServer
from tests.sync.helpers import replay_settings, sync_once, view_rows

pytestmark = pytest.mark.corpus

#: small images with several Hub pages each (10 tags a page), ubuntu built by oci-import
ONLY = ("ghost", "zookeeper", "httpd", "ubuntu", "bonita")


@pytest.mark.asyncio
async def test_faults_and_rate_limits_end_in_the_same_content_as_a_clean_run(
    database_url: str, second_database_url: str, corpus: Corpus
) -> None:
    async with ReplayServer(
        corpus,
        snapshot="dense-current",
        fail_rate=0.1,
        truncate_rate=0.1,
        rate_limit=25,
        seed=7,
    ) as replay:
        # rendered beforehand, so the requests come as fast as the crawler sends them
        # and overrun the rate limit (a cold server answers the Hub's lists slowly)
        await replay.warm()
        settings = replay_settings(replay, database_url, hub_page_size=10, max_tries=12)
        faulty = await sync_once(settings, only=ONLY)
        faults = dict(replay.counters.faults)
        statuses = {
            status
            for kind_statuses in replay.counters.statuses.values()
            for status in kind_statuses
        }
    # the crawler paces itself by the rate-limit headers, so 429s are rare (the 429
    # path itself is tested in tests/upstream/test_pacing.py)
    assert faults["fail"] > 0 and faults["truncate"] > 0
    assert faults.get("rate_limit", 0) <= 5
    assert 200 in statuses
    assert faulty.requests["retries"]  # the crawler did retry
    assert faulty.requests["gave_up"] == {}

    async with ReplayServer(corpus, snapshot="dense-current") as replay:
        clean = await sync_once(
            replay_settings(replay, second_database_url, hub_page_size=10), only=ONLY
        )
    assert faulty.status == clean.status
    assert faulty.errors == clean.errors  # only what the corpus lacks, in both
    assert await view_rows(database_url) == await view_rows(second_database_url)
