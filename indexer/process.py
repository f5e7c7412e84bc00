"""Process-wide start-up shared by the entry points (the CLI, and the benchmarks that time it)."""

from __future__ import annotations

import gc

__all__ = ["freeze_startup_objects"]


def freeze_startup_objects() -> None:
    """Keep every object alive now (modules, classes, constants) out of garbage collection.

    They live as long as the process, yet every full collection walked them all:
    about a hundred thousand objects once SQLAlchemy and the store are imported. A
    query that builds thousands of rows triggers such a collection now and then, and it,
    not the database, made the slowest answers of ``children`` and ``explain``. Objects
    made later are collected as usual.
    """
    gc.freeze()
