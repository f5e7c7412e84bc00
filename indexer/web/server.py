"""``indexer serve``: run the web view until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable

from aiohttp import web

from indexer.errors import IndexerError
from indexer.settings import Settings
from indexer.store.db import Database
from indexer.web.app import create_app

__all__ = ["serve"]


async def serve(settings: Settings, host: str, port: int, *, ready: Callable[[str], None]) -> None:
    """Serve the index at ``host:port`` (0: any free port) and call ``ready`` with its URL."""
    database = Database(settings.database_url)
    runner: web.AppRunner | None = None
    try:
        await database.check()
        runner = web.AppRunner(create_app(database), handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            raise IndexerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        bound = runner.addresses[0]
        shown = f"[{bound[0]}]" if ":" in str(bound[0]) else bound[0]
        ready(f"http://{shown}:{bound[1]}/")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        if runner is not None:
            await runner.cleanup()
        await database.dispose()
