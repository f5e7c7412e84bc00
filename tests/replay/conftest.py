"""Fixtures of the replay tests: one shared corpus, a fresh server and client per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from indexer.replay import Corpus, ReplayServer

LIBRARY = "/repos/docker-library/official-images"


@pytest.fixture(scope="session")
def corpus(corpus_dir: Path) -> Corpus:
    """The shared corpus, opened once so its caches serve every test."""
    return Corpus(corpus_dir)


@pytest_asyncio.fixture
async def replay(corpus: Corpus) -> AsyncIterator[ReplayServer]:
    """A replay server on a free port, serving ``dense-current``, no faults."""
    async with ReplayServer(corpus) as server:
        yield server


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp client session."""
    async with aiohttp.ClientSession() as client:
        yield client
