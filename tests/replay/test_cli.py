"""``indexer replay``: the click command."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner

from indexer.cli.replay import replay_command
from tests.corpus import PROJECT_ROOT

ENV_NAMES = (
    "INDEXER_HUB_URL",
    "INDEXER_GITHUB_API_URL",
    "INDEXER_GITHUB_RAW_URL",
    "INDEXER_REGISTRY_URL",
    "INDEXER_REGISTRY_AUTH_URL",
)


def test_help_and_usage_errors(tmp_path: Path, corpus_dir: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(replay_command, ["--help"])
    assert result.exit_code == 0
    assert "--snapshot" in result.output
    assert "--rate-limit" in result.output
    result = runner.invoke(replay_command, [str(tmp_path)])
    assert result.exit_code == 1
    assert "not a corpus folder" in result.output
    result = runner.invoke(replay_command, [str(corpus_dir), "--snapshot", "nope"])
    assert result.exit_code == 1
    assert "unknown snapshot" in result.output


@pytest.mark.asyncio
async def test_serves_and_prints_exports(corpus_dir: Path) -> None:
    script = "from indexer.cli.replay import replay_command; replay_command()"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        str(corpus_dir),
        "--snapshot",
        "current",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    try:
        assert process.stdout is not None
        exports = {}
        for _ in ENV_NAMES:
            line = (await asyncio.wait_for(process.stdout.readline(), 10)).decode().strip()
            name, _, value = line.removeprefix("export ").partition("=")
            exports[name] = value
        assert set(exports) == set(ENV_NAMES)
        url = f"{exports['INDEXER_GITHUB_API_URL']}/repos/docker-library/official-images/commits/master"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert (await response.json())["sha"] == "37079fb336f572a88700cf32e5e1f6be54a04e8f"
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
