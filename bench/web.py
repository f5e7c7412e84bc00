"""Benchmark: render time and size of the web view's pages on the corpus database.

Usage::

    .venv/bin/python bench/web.py [--corpus DIR] [--database-url URL] [--postgres URL]
                                  [--iterations 100] [--json]

Without ``--database-url`` it first builds the corpus database: a fresh SQLite file
(and, with ``--postgres URL``, a fresh PostgreSQL database created next to the one
URL names), filled by one full sync of the replayed ``dense-current`` snapshot (PostgreSQL is then
``ANALYZE``d, as autovacuum does on a live database).
The web view (``indexer.web.create_app``) then runs on a local port and a client
asks each page ``--iterations`` times. For each backend it prints:

- the tag pages (``/t/...``): p50 and p99 of the full request (render plus HTTP on
  loopback; goal: p50 under 50 ms), HTML and JSON, and the p50 of this process's CPU
  time per request (server and client: the part of the figure that does not grow with
  the machine's load; the database server's own work is not in it);
- every page's size in bytes (goal: each under 200 KB).

Figures are noisy on a shared machine: quote them with the load (``uptime``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

import aiohttp  # noqa: E402 - after the path set-up above
import asyncpg  # noqa: E402
from aiohttp import web  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from indexer.replay import ReplayServer  # noqa: E402
from indexer.settings import Settings  # noqa: E402
from indexer.store.db import Database  # noqa: E402
from indexer.store.migrate import upgrade  # noqa: E402
from indexer.sync import run_sync  # noqa: E402
from indexer.web import create_app  # noqa: E402

SNAPSHOT = "dense-current"
#: tag pages timed: a leaf, bases with many images built on them, a SharedTag
TAG_PAGES = (
    "/t/python:3-slim",
    "/t/python:3.12",
    "/t/debian:trixie-slim",
    "/t/debian:bookworm",
    "/t/alpine:latest",
    "/t/node:lts-slim",
    "/t/ruby:latest",
)
OTHER_PAGES = ("/", "/r/python", "/r/debian", "/r/node", "/runs", "/search?q=pyhton:3.12-slm")
SIZE_GOAL = 200_000
P50_GOAL_MS = 50.0


def default_corpus() -> Path:
    configured = os.environ.get("INDEXER_CORPUS")
    return Path(configured) if configured else PROJECT_ROOT.parent / "shared" / "corpus"


async def build_corpus_database(corpus: Path, database_url: str) -> float:
    """Migrate ``database_url`` and fill it with one full sync; answers the sync's seconds."""
    await upgrade(database_url)
    async with ReplayServer(corpus, snapshot=SNAPSHOT) as replay:
        settings = Settings(
            database_url=database_url,
            **replay.upstreams(),
            concurrency=16,
        )
        database = Database(database_url)
        started = time.perf_counter()
        try:
            summary = await run_sync(settings, database)
        finally:
            await database.dispose()
    if summary.status not in ("ok", "partial"):
        raise RuntimeError(f"the corpus sync ended {summary.status}")
    seconds = time.perf_counter() - started
    if database_url.startswith("postgresql"):
        # a live database has statistics (autovacuum analyzes it); a just-filled one has none
        await _admin(database_url, "ANALYZE")
    return seconds


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def measure(database_url: str, iterations: int) -> dict[str, Any]:
    database = Database(database_url)
    runner = web.AppRunner(create_app(database), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    base = f"http://{host}:{port}"
    figures: dict[str, Any] = {"tag_pages": {}, "sizes": {}}
    try:
        async with aiohttp.ClientSession(base) as client:
            for path in (*TAG_PAGES, *OTHER_PAGES):
                async with client.get(path, allow_redirects=False) as response:
                    body = await response.read()
                figures["sizes"][path] = {"status": response.status, "bytes": len(body)}
            for path in TAG_PAGES:
                if figures["sizes"][path]["status"] != 200:
                    continue
                for kind, headers in (("html", {}), ("json", {"Accept": "application/json"})):
                    timings, cpu = [], []
                    for _ in range(iterations):
                        started, started_cpu = time.perf_counter(), time.process_time()
                        async with client.get(path, headers=headers) as response:
                            await response.read()
                        timings.append((time.perf_counter() - started) * 1000)
                        cpu.append((time.process_time() - started_cpu) * 1000)
                    figures["tag_pages"].setdefault(path, {})[kind] = {
                        "p50_ms": round(statistics.median(timings), 2),
                        "p99_ms": round(_percentile(timings, 0.99), 2),
                        "cpu_p50_ms": round(statistics.median(cpu), 2),
                    }
    finally:
        await runner.cleanup()
        await database.dispose()
    html_p50 = [v["html"]["p50_ms"] for v in figures["tag_pages"].values()]
    figures["tag_page_p50_ms"] = round(statistics.median(html_p50), 2) if html_p50 else None
    figures["largest_page_bytes"] = max(v["bytes"] for v in figures["sizes"].values())
    return figures


def report(backend: str, figures: dict[str, Any]) -> None:
    print(f"== {backend}: corpus sync {figures.get('sync_seconds', '-')} s")
    print(
        f"{'tag page':<28}{'html p50':>10}{'p99':>9}{'cpu p50':>9}"
        f"{'json p50':>10}{'p99':>9}{'cpu p50':>9}  (ms)"
    )
    for path, kinds in figures["tag_pages"].items():
        html, data = kinds["html"], kinds["json"]
        print(
            f"{path:<28}{html['p50_ms']:>10}{html['p99_ms']:>9}{html['cpu_p50_ms']:>9}"
            f"{data['p50_ms']:>10}{data['p99_ms']:>9}{data['cpu_p50_ms']:>9}"
        )
    p50 = figures["tag_page_p50_ms"]
    verdict = "ok" if p50 is not None and p50 < P50_GOAL_MS else "OVER"
    print(
        f"tag page p50 (median of the pages' p50): {p50} ms (goal < {P50_GOAL_MS:.0f}: {verdict})"
    )
    print(f"{'page':<36}{'status':>7}{'bytes':>10}")
    for path, size in figures["sizes"].items():
        flag = "" if size["bytes"] < SIZE_GOAL else "  OVER 200 KB"
        print(f"{path:<36}{size['status']:>7}{size['bytes']:>10}{flag}")
    print(f"largest page: {figures['largest_page_bytes']} bytes (goal < {SIZE_GOAL})")


async def _admin(url: str, sql: str) -> None:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def main_async(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    if args.database_url:
        results["given"] = await measure(args.database_url, args.iterations)
        return results
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'corpus.db'}"
        seconds = await build_corpus_database(args.corpus, url)
        results["sqlite"] = {
            "sync_seconds": round(seconds, 1),
            **await measure(url, args.iterations),
        }
    if args.postgres:
        name = f"indexer_bench_web_{uuid.uuid4().hex[:8]}"
        await _admin(args.postgres, f'CREATE DATABASE "{name}"')
        url = (
            make_url(args.postgres)
            .set(drivername="postgresql+asyncpg", database=name)
            .render_as_string(hide_password=False)
        )
        try:
            seconds = await build_corpus_database(args.corpus, url)
            results["postgresql"] = {
                "sync_seconds": round(seconds, 1),
                **await measure(url, args.iterations),
            }
        finally:
            await _admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument("--database-url", help="measure this database instead of building one")
    parser.add_argument("--postgres", help="also build and measure a PostgreSQL database")
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    results = asyncio.run(main_async(args))
    load = os.getloadavg()
    if args.json:
        print(json.dumps({"load": load, **results}, indent=2))
        return
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for backend, figures in results.items():
        report(backend, figures)


if __name__ == "__main__":
    main()
