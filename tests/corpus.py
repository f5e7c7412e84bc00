"""Where the shared corpus is, for tests and benchmarks: ``$INDEXER_CORPUS`` or ``../shared/corpus``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def corpus_path() -> Path | None:
    """The corpus folder, or ``None`` when it is absent."""
    configured = os.environ.get("INDEXER_CORPUS")
    candidate = Path(configured) if configured else PROJECT_ROOT.parent / "shared" / "corpus"
    return candidate if (candidate / "library").is_dir() else None


def require_corpus() -> Path:
    """The corpus folder; skips the calling test with a clear reason when it is absent."""
    path = corpus_path()
    if path is None:
        pytest.skip("corpus not found: set INDEXER_CORPUS or provide ../shared/corpus")
    return path
