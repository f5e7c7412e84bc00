"""Take the sync lock in a process of its own (for the lock tests).

``python -m tests.nightly.hold_lock DATABASE_URL [--hold S] [--wait] [--go FILE --ready FILE]``

Prints ``locked`` once it holds the lock (or ``refused: …`` and exits 3), holds it
for ``--hold`` seconds, releases it and prints ``released``. With ``--ready``/``--go``
it first creates the ready file, then waits for the go file, so that several
processes try at the same moment.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from indexer.errors import SyncLockedError
from indexer.store.db import Database
from indexer.store.lock import sync_lock

EXIT_REFUSED = 3


async def hold(url: str, seconds: float, *, wait: bool) -> int:
    database = Database(url)
    try:
        async with sync_lock(database, wait=wait, poll_seconds=0.05, heartbeat_seconds=0.2):
            print("locked", flush=True)
            await asyncio.sleep(seconds)
        print("released", flush=True)
    except SyncLockedError as exc:
        print(f"refused: {exc}", flush=True)
        return EXIT_REFUSED
    finally:
        await database.dispose()
    return 0


async def warm_up(url: str) -> None:
    """Connect once, so imports and driver set-up are done before the start line."""
    database = Database(url)
    await database.check()
    await database.dispose()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--hold", type=float, default=60.0)
    parser.add_argument("--wait", action="store_true")
    parser.add_argument("--ready", type=Path)
    parser.add_argument("--go", type=Path)
    args = parser.parse_args(argv)
    asyncio.run(warm_up(args.url))
    if args.ready is not None:
        args.ready.touch()
    while args.go is not None and not args.go.exists():
        time.sleep(0.005)
    return asyncio.run(hold(args.url, args.hold, wait=args.wait))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
