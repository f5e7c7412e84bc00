"""Nightly operation: the cron scheduler, one locked sync at a time, and its stop signals.

- :mod:`indexer.schedule.runner`: :func:`run_locked_sync` (used by ``indexer sync`` and
  the scheduler) and the sync function contract, including the ``stop`` event;
- :mod:`indexer.schedule.trigger`: the UTC crontab trigger and missed-run catch-up;
- :mod:`indexer.schedule.scheduler`: ``indexer schedule`` (:func:`run_schedule`).

The lock itself is :mod:`indexer.store.lock`; the run audit helpers are
:mod:`indexer.store.audit`.
"""

from __future__ import annotations

from indexer.schedule.runner import SyncFunction, production_sync, run_locked_sync
from indexer.schedule.scheduler import EXIT_CANCELLED, SYNC_JOB_ID, NightlyScheduler, run_schedule
from indexer.schedule.trigger import crontab_trigger, missed_fire_time

__all__ = [
    "EXIT_CANCELLED",
    "SYNC_JOB_ID",
    "NightlyScheduler",
    "SyncFunction",
    "crontab_trigger",
    "missed_fire_time",
    "production_sync",
    "run_locked_sync",
    "run_schedule",
]
