"""Process-wide start-up shared by the entry points (the CLI, and the benchmarks that time it)."""

from __future__ import annotations

import ctypes
import gc
import sys

__all__ = ["freeze_startup_objects", "limit_malloc_arenas"]

#: glibc's ``mallopt`` parameter for the most arenas (``MALLOC_ARENA_MAX``)
_M_ARENA_MAX = -8
#: arenas for a sync process: the fetching loop's and the store threads' allocations
SYNC_MALLOC_ARENAS = 2


def freeze_startup_objects() -> None:
    """Keep every object alive now (modules, classes, constants) out of garbage collection.

    They live as long as the process, yet every full collection walked them all:
    about a hundred thousand objects once SQLAlchemy and the store are imported. A
    query that builds thousands of rows triggers such a collection now and then, and it,
    not the database, made the slowest answers of ``children`` and ``explain``. Objects
    made later are collected as usual.
    """
    gc.freeze()


def limit_malloc_arenas(arenas: int = SYNC_MALLOC_ARENAS) -> bool:
    """At most ``arenas`` malloc arenas for the threads started from now on (glibc's
    ``MALLOC_ARENA_MAX``); answers whether the C library took it.

    glibc gives threads that allocate at once arenas of their own, up to eight per core,
    and memory freed in one arena serves only that arena. In a sync the fetching loop
    decodes pages while the store threads build, send and drop rows: on PostgreSQL at
    Docker Hub scale the process' peak memory was several times what it ever held at
    once. Called by the commands that sync, before their threads start.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (or no such function)
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))
