"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import require_corpus


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The shared corpus folder (the test is skipped when it is absent)."""
    return require_corpus()
