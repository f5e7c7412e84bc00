"""Benchmark: a full sync of the corpus against the replay upstream, then a no-change sync.

Usage::

    .venv/bin/python bench/sync.py [--corpus DIR] [--latency-ms 20] [--concurrency 16]
                                   [--postgres URL] [--json]
    .venv/bin/python bench/sync.py --rate 100 [--burst 20] [--fail-rate 0.1]
                                   [--truncate-rate 0.02] [--seed N] [--json]

With ``--rate R`` it measures the pacing instead (SQLite only): the replay allows R
requests/s (token bucket, ``--burst`` tokens, default R/5) and may inject 5xx answers
and truncated bodies; it prints the full sync's achieved requests/s as a share of R
(goal at least 0.8), its 429 answers (goal under 5% of the requests) and rate-limit
events, and with faults, whether that run plus one rerun ends equal to a clean sync
(the contract views compared row by row).

The replay server (snapshot ``dense-current``, ``--latency-ms`` per request) runs in a
child process, so it does not share the crawler's CPU. The sync runs into a fresh
SQLite file (and, with ``--postgres URL``, also into a fresh PostgreSQL database
created next to the one URL names). For each backend it prints:

- the full sync: wall time, requests, requests per second, peak RSS of this process,
  and the ratio of wall time to the ideal ``requests x latency / concurrency``
  (goals: ratio at most 1.5 at concurrency 16, peak RSS under 300 MB);
- the no-change second sync: requests, rows written (every internal table except
  ``sync_runs``/``sync_errors``/``sync_state`` compared row by row; goal 0), and its
  wall time as a fraction of the full sync (goal under 5%);
- for comparison, the same no-change sync without the Hub's repository list
  (``hub_repository_listing = false``: the first tag page of every repository).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from sqlalchemy import select  # noqa: E402 - after the path set-up above

from indexer.settings import Settings  # noqa: E402
from indexer.store.db import Database  # noqa: E402
from indexer.store.migrate import upgrade  # noqa: E402
from indexer.store.models import Base  # noqa: E402
from indexer.sync import run_sync  # noqa: E402

#: tables a no-change sync may write to
AUDIT_TABLES = frozenset({"sync_runs", "sync_errors", "sync_state"})

_REPLAY_CODE = """
import asyncio, json, sys
from pathlib import Path
from indexer.replay import ReplayServer

async def serve():
    faults = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    async with ReplayServer(Path(sys.argv[1]), snapshot=sys.argv[2],
                            latency_ms=float(sys.argv[3]), **faults) as server:
        if faults:
            await server.warm()
        print(server.url, flush=True)
        await asyncio.Event().wait()

asyncio.run(serve())
"""
#: the contract views a faulty run (plus a rerun) and a clean one must agree on
COMPARED_VIEWS = ("v_tags", "v_parents", "v_ancestors", "v_tag_images")


@dataclass
class RunFigures:
    """What one sync run measured."""

    wall_seconds: float
    requests: int
    requests_per_second: float
    status: str
    errors: int


@dataclass
class BackendFigures:
    """Both runs on one backend."""

    backend: str
    full: RunFigures
    ideal_seconds: float
    ratio: float
    peak_rss_mb: float
    second: RunFigures
    rows_written: int
    second_fraction: float
    #: the no-change sync without the Hub's repository list
    without_list: RunFigures
    without_list_rows_written: int
    without_list_fraction: float


def default_corpus() -> Path:
    configured = os.environ.get("INDEXER_CORPUS")
    return Path(configured) if configured else PROJECT_ROOT.parent / "shared" / "corpus"


@contextmanager
def replay_process(
    corpus: Path, snapshot: str, latency_ms: float, faults: dict[str, Any] | None = None
) -> Iterator[str]:
    """A replay server in a child process (``faults``: its fault options); yields its URL."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    extra = [json.dumps(faults)] if faults else []
    child = subprocess.Popen(
        [sys.executable, "-c", _REPLAY_CODE, str(corpus), snapshot, str(latency_ms), *extra],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError("the replay server did not start")
        yield url
    finally:
        child.terminate()
        child.wait(timeout=10)


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def table_rows(database: Database) -> dict[str, set[str]]:
    """A digest of every row of every internal table (audit tables left out)."""
    digests: dict[str, set[str]] = {}
    async with database.session() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in AUDIT_TABLES:
                continue
            rows: set[str] = set()
            result = await session.stream(select(table))
            async for row in result:
                rows.add(hashlib.sha1(repr(tuple(row)).encode(), usedforsecurity=False).hexdigest())
            digests[table.name] = rows
    return digests


def rows_changed(before: dict[str, set[str]], after: dict[str, set[str]]) -> int:
    """Rows added, changed or deleted between two digests."""
    return sum(len(before[name] ^ after[name]) for name in before)


async def timed_sync(settings: Settings, database: Database) -> tuple[RunFigures, Any]:
    started = time.perf_counter()
    summary = await run_sync(settings, database)
    wall = time.perf_counter() - started
    requests = int(summary.requests.get("requests_total", 0))
    figures = RunFigures(
        wall_seconds=round(wall, 3),
        requests=requests,
        requests_per_second=round(requests / wall, 1) if wall else 0.0,
        status=summary.status,
        errors=summary.errors,
    )
    return figures, summary


def replay_settings(database_url: str, replay_url: str, args: argparse.Namespace) -> Settings:
    """Settings that sync ``database_url`` from the replay server at ``replay_url``."""
    return Settings(
        database_url=database_url,
        hub_url=f"{replay_url}/hub",
        github_api_url=f"{replay_url}/github-api",
        github_raw_url=f"{replay_url}/github-raw",
        registry_url=f"{replay_url}/registry",
        registry_auth_url=f"{replay_url}/registry-auth",
        concurrency=args.concurrency,
    )


async def bench_backend(
    backend: str, database_url: str, replay_url: str, args: argparse.Namespace
) -> BackendFigures:
    await upgrade(database_url)
    settings = replay_settings(database_url, replay_url, args)
    database = Database(database_url)
    try:
        full, _ = await timed_sync(settings, database)
        peak = peak_rss_mb()
        before = await table_rows(database)
        second, _ = await timed_sync(settings, database)
        after = await table_rows(database)
        without_list, _ = await timed_sync(settings.replace(hub_repository_listing=False), database)
        after_without = await table_rows(database)
    finally:
        await database.dispose()
    ideal = full.requests * args.latency_ms / 1000 / args.concurrency
    return BackendFigures(
        backend=backend,
        full=full,
        ideal_seconds=round(ideal, 3),
        ratio=round(full.wall_seconds / ideal, 2) if ideal else 0.0,
        peak_rss_mb=round(peak, 1),
        second=second,
        rows_written=rows_changed(before, after),
        second_fraction=round(second.wall_seconds / full.wall_seconds, 4),
        without_list=without_list,
        without_list_rows_written=rows_changed(after, after_without),
        without_list_fraction=round(without_list.wall_seconds / full.wall_seconds, 4),
    )


async def _admin(url: str, sql: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def bench_postgres(
    admin_url: str, replay_url: str, args: argparse.Namespace
) -> BackendFigures:
    from sqlalchemy.engine import make_url

    name = f"indexer_bench_{uuid.uuid4().hex[:8]}"
    await _admin(admin_url, f'CREATE DATABASE "{name}"')
    url = (
        make_url(admin_url)
        .set(drivername="postgresql+asyncpg", database=name)
        .render_as_string(hide_password=False)
    )
    try:
        return await bench_backend("postgresql", url, replay_url, args)
    finally:
        await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def report(figures: BackendFigures, args: argparse.Namespace) -> None:
    full, second = figures.full, figures.second
    print(f"== {figures.backend} (latency {args.latency_ms} ms, concurrency {args.concurrency})")
    print(
        f"full sync:   {full.wall_seconds:.2f}s wall, {full.requests} requests, "
        f"{full.requests_per_second:.0f} req/s, status {full.status} ({full.errors} item errors)"
    )
    print(
        f"             ideal {figures.ideal_seconds:.2f}s -> ratio {figures.ratio:.2f} "
        f"(goal <= 1.5); peak RSS {figures.peak_rss_mb:.0f} MB (goal < 300)"
    )
    print(
        f"second sync: {second.wall_seconds:.3f}s wall, {second.requests} requests, "
        f"{figures.rows_written} rows written (goal 0), "
        f"{figures.second_fraction:.1%} of the full sync (goal < 5%)"
    )
    other = figures.without_list
    print(
        f"  (without the Hub repository list: {other.wall_seconds:.3f}s wall, "
        f"{other.requests} requests, {figures.without_list_rows_written} rows written, "
        f"{figures.without_list_fraction:.1%} of the full sync)"
    )


async def warm_up(replay_url: str, args: argparse.Namespace) -> None:
    """One unmeasured sync, so the replay server has rendered its answers and the OS
    has the corpus in its page cache: the benchmark measures the crawler, not them."""
    with tempfile.TemporaryDirectory(prefix="indexer-bench-warm-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'warm.db'}"
        await upgrade(url)
        settings = replay_settings(url, replay_url, args)
        database = Database(url)
        try:
            await run_sync(settings, database)
        finally:
            await database.dispose()


async def main_async(args: argparse.Namespace) -> list[BackendFigures]:
    results = []
    with replay_process(args.corpus, args.snapshot, args.latency_ms) as replay_url:
        await warm_up(replay_url, args)
        with tempfile.TemporaryDirectory(prefix="indexer-bench-") as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
            results.append(await bench_backend("sqlite", url, replay_url, args))
        if args.postgres:
            results.append(await bench_postgres(args.postgres, replay_url, args))
    return results


@dataclass
class PacingFigures:
    """A full sync against a rate-limited (and maybe faulty) replay."""

    rate: float
    burst: float
    wall_seconds: float
    requests: int
    requests_per_second: float
    share_of_rate: float
    answers_429: int
    share_429: float
    rate_limit_events: int
    status: str
    errors: int
    #: with faults: the rerun's status, and whether the two runs end equal to a clean sync
    rerun_status: str | None = None
    equal_to_clean: bool | None = None


async def view_rows(database_url: str) -> dict[str, list[tuple[str | None, ...]]]:
    """The rows of the compared contract views, sorted, values as text."""
    from sqlalchemy import text

    database = Database(database_url)
    rows: dict[str, list[tuple[str | None, ...]]] = {}
    try:
        async with database.session() as session:
            for view in COMPARED_VIEWS:
                result = await session.execute(text(f"SELECT * FROM {view}"))
                rows[view] = sorted(
                    tuple(None if value is None else str(value) for value in row) for row in result
                )
    finally:
        await database.dispose()
    return rows


async def _fresh_sync(url: str, replay_url: str, args: argparse.Namespace) -> Any:
    await upgrade(url)
    database = Database(url)
    try:
        return await timed_sync(replay_settings(url, replay_url, args), database)
    finally:
        await database.dispose()


async def pacing_async(args: argparse.Namespace) -> PacingFigures:
    burst = args.burst if args.burst is not None else max(1.0, args.rate / 5)
    faults = {
        "rate_limit": args.rate,
        "rate_burst": burst,
        "fail_rate": args.fail_rate,
        "truncate_rate": args.truncate_rate,
        "seed": args.seed,
    }
    faulty = args.fail_rate > 0 or args.truncate_rate > 0
    with tempfile.TemporaryDirectory(prefix="indexer-bench-rate-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'paced.db'}"
        with replay_process(args.corpus, args.snapshot, args.latency_ms, faults) as replay_url:
            full, summary = await _fresh_sync(url, replay_url, args)
            rerun_status = None
            if faulty:
                database = Database(url)
                try:
                    rerun, _ = await timed_sync(replay_settings(url, replay_url, args), database)
                finally:
                    await database.dispose()
                rerun_status = rerun.status
        equal = None
        if faulty:
            clean_url = f"sqlite+aiosqlite:///{Path(folder) / 'clean.db'}"
            with replay_process(args.corpus, args.snapshot, 0.0) as clean_replay:
                await _fresh_sync(clean_url, clean_replay, args)
            equal = await view_rows(url) == await view_rows(clean_url)
    statuses = summary.requests.get("statuses", {})
    answers_429 = int(statuses.get("429", 0))
    return PacingFigures(
        rate=args.rate,
        burst=burst,
        wall_seconds=full.wall_seconds,
        requests=full.requests,
        requests_per_second=full.requests_per_second,
        share_of_rate=round(full.requests_per_second / args.rate, 3),
        answers_429=answers_429,
        share_429=round(answers_429 / full.requests, 4) if full.requests else 0.0,
        rate_limit_events=int(summary.requests.get("rate_limited", 0)),
        status=full.status,
        errors=full.errors,
        rerun_status=rerun_status,
        equal_to_clean=equal,
    )


def report_pacing(figures: PacingFigures, args: argparse.Namespace) -> None:
    print(
        f"== pacing (rate {figures.rate:g}/s, burst {figures.burst:g}, latency "
        f"{args.latency_ms} ms, concurrency {args.concurrency}, fail {args.fail_rate:g}, "
        f"truncate {args.truncate_rate:g})"
    )
    print(
        f"full sync: {figures.wall_seconds:.2f}s wall, {figures.requests} requests, "
        f"{figures.requests_per_second:.1f} req/s = {figures.share_of_rate:.0%} of the rate "
        f"(goal >= 80%); status {figures.status} ({figures.errors} item errors)"
    )
    print(
        f"429 answers: {figures.answers_429} = {figures.share_429:.1%} of the requests "
        f"(goal < 5%); rate-limit events (gate closings): {figures.rate_limit_events}"
    )
    if figures.equal_to_clean is not None:
        verdict = "equal" if figures.equal_to_clean else "NOT equal"
        print(
            f"rerun: {figures.rerun_status}; the faulty run plus the rerun end {verdict} "
            f"to a clean sync ({', '.join(COMPARED_VIEWS)})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument("--snapshot", default="dense-current")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--postgres", metavar="URL", help="also bench PostgreSQL (admin URL; a database is created)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--rate", type=float, help="measure pacing: the replay allows this many requests/s"
    )
    parser.add_argument("--burst", type=float, help="the rate limit's burst (default rate/5)")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="share answered 5xx")
    parser.add_argument("--truncate-rate", type=float, default=0.0, help="share of bodies cut")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault draws")
    args = parser.parse_args()
    if not (args.corpus / "library").is_dir():
        sys.exit(f"corpus not found: {args.corpus}")
    if args.rate is not None:
        figures = asyncio.run(pacing_async(args))
        if args.json:
            print(json.dumps(asdict(figures), indent=2))
        else:
            report_pacing(figures, args)
        return
    results = asyncio.run(main_async(args))
    if args.json:
        print(json.dumps([asdict(result) for result in results], indent=2))
        return
    for result in results:
        report(result, args)


if __name__ == "__main__":
    main()
