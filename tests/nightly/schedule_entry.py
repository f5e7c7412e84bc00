"""``indexer schedule``'s entry point with a fake sync, in a process of its own.

``python -m tests.nightly.schedule_entry DATABASE_URL [--batches N] [--batch-seconds S]
[--ignore-stop]`` runs :func:`indexer.schedule.run_schedule` exactly as the command does
(signal handlers included), with one run at start and no further fire time soon.
Exits with the scheduler's status.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from apscheduler.triggers.cron import CronTrigger

from indexer.schedule import run_schedule
from indexer.settings import Settings
from tests.nightly.fakes import FakeSync


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-seconds", type=float, default=0.2)
    parser.add_argument("--ignore-stop", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    fake = FakeSync(
        batches=args.batches, batch_seconds=args.batch_seconds, honour_stop=not args.ignore_stop
    )
    return asyncio.run(
        run_schedule(
            Settings(database_url=args.url),
            sync=fake,
            run_now=True,
            trigger=CronTrigger(year=2099, timezone="UTC"),
            catch_up=False,
        )
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
