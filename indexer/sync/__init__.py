"""The sync pipeline behind ``indexer sync``: upstream clients -> stages -> store.

::

    summary = await run_sync(settings, database, only=("python",), progress=progress_for())

Modules: :mod:`~indexer.sync.pipeline` (the entry point and its wiring),
:mod:`~indexer.sync.library_stage`, :mod:`~indexer.sync.dockerfile_stage`,
:mod:`~indexer.sync.hub_stage`, :mod:`~indexer.store.writer` (the writer and reader threads),
:mod:`~indexer.sync.records` (parser and upstream objects to store records),
:mod:`~indexer.sync.progress` and :mod:`~indexer.sync.summary`.
"""

from __future__ import annotations

from indexer.sync.pipeline import run_sync
from indexer.sync.progress import LogProgress, ProgressDisplay, RichProgress, progress_for
from indexer.sync.summary import SyncSummary, SyncTally, summary_lines

__all__ = [
    "LogProgress",
    "ProgressDisplay",
    "RichProgress",
    "SyncSummary",
    "SyncTally",
    "progress_for",
    "run_sync",
    "summary_lines",
]
