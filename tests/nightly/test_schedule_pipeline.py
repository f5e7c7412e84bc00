"""The real thing: ``indexer schedule --run-now`` with the real pipeline, stopped by SIGTERM.

The first signal must let the pipeline finish what it has in flight, record the run
as ``interrupted`` and exit 0; a later ``indexer sync --only …`` completes the work,
and the contract views of those repositories then equal an uninterrupted run's.
"""

from __future__ import annotations

import asyncio
import signal
import tempfile

import pytest

from indexer.replay import ReplayServer
from tests.corpus import PROJECT_ROOT
from tests.nightly.fakes import eventually
from tests.nightly.replayed import (
    Views,
    differences,
    indexer_command,
    read_views,
    run_statuses,
    sync,
)

pytestmark = [pytest.mark.corpus, pytest.mark.slow]


@pytest.mark.asyncio
async def test_sigterm_stops_a_real_scheduled_sync_gracefully(
    database_url: str, replay: ReplayServer, reference_views: Views
) -> None:
    # the scheduled run syncs every repository the replay serves: stop it early, while the
    # library files are being read, and compare only the --only repositories afterwards
    args, env = indexer_command(database_url, replay, "schedule", "--run-now")
    env["INDEXER_SCHEDULE"] = "0 3 1 1 *"  # no other fire time during the test
    replay.counters.reset()
    with tempfile.TemporaryFile() as stderr:
        process = await asyncio.create_subprocess_exec(
            *args, cwd=PROJECT_ROOT, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=stderr
        )
        try:
            await eventually(
                lambda: (
                    replay.counters.requests["library_file"] >= 3 or process.returncode is not None
                ),
                within=60,
            )
            assert process.returncode is None, "the scheduler ended before the signal"
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(60):
                status = await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        stderr.seek(0)
        log = stderr.read().decode()
    assert status == 0, log[-3000:]
    assert "SIGTERM: finishing the current batch" in log
    assert "sync run 1 ended: interrupted" in log
    assert await run_statuses(database_url) == [(1, "interrupted")]

    await sync(database_url, replay)
    assert differences(await read_views(database_url), reference_views) == {}
