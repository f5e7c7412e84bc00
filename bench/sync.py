"""Benchmark: a full sync against the replay upstream, then a no-change sync, each as the
whole ``indexer sync`` process.

Usage::

    .venv/bin/python bench/sync.py [--corpus DIR] [--latency-ms 20] [--concurrency 16]
                                   [--synthetic-tags N] [--postgres URL] [--json]

The replay server (snapshot ``dense-current``, ``--latency-ms`` per request, and with
``--synthetic-tags N`` that many more tags per repository, Docker Hub's scale) runs in a
child process. Each sync is ``python -m indexer sync --json`` in a child process of its
own, into a fresh SQLite file (and, with ``--postgres URL``, also into a fresh
PostgreSQL database created next to the one URL names), so start-up imports count.
For each backend it prints:

- the full sync: wall time of the process, requests, the ideal ``requests x latency /
  concurrency`` and the ratio to it (goals at concurrency 16: 1.5 on SQLite, 2.0 on
  PostgreSQL at 2,000 synthetic tags; 1.5 on both at corpus scale), rows written per
  second, the process' peak RSS (goal under 300 MB), and where the time went: start-up
  and finish (the process around the run), the stages (listing, fetching and writing
  up to the last write), within them decoding Hub pages and the writer thread's
  transactions, and the final relinking of parents;
- the no-change second sync: its requests by kind (goal: only the branch head and the
  Hub repository list) and rows written (every internal table except
  ``sync_runs``/``sync_errors``/``sync_state`` compared row by row; goal 0);
- for comparison, the same no-change sync without the Hub's repository list
  (``INDEXER_HUB_REPOSITORY_LISTING=false``: the first tag page of every repository).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from sqlalchemy import func, select  # noqa: E402 - after the path set-up above

from indexer.store.db import Database  # noqa: E402
from indexer.store.migrate import upgrade  # noqa: E402
from indexer.store.models import Base  # noqa: E402

#: tables a no-change sync may write to
AUDIT_TABLES = frozenset({"sync_runs", "sync_errors", "sync_state"})
#: the only requests a no-change sync should make
NO_CHANGE_KINDS = frozenset({"github-commit", "hub-repositories"})

_REPLAY_CODE = """
import asyncio, sys
from pathlib import Path
from indexer.replay import ReplayServer

async def serve():
    async with ReplayServer(Path(sys.argv[1]), snapshot=sys.argv[2],
                            latency_ms=float(sys.argv[3]),
                            synthetic_tags=int(sys.argv[4])) as server:
        print(server.url, flush=True)
        await asyncio.Event().wait()

asyncio.run(serve())
"""


@dataclass
class RunFigures:
    """What one ``indexer sync`` process measured."""

    wall_seconds: float
    #: the run itself, as the sync reports it (the rest is start-up and finish)
    run_seconds: float
    requests: int
    requests_by_kind: dict[str, int]
    status: str
    errors: int
    peak_rss_mb: float
    cpu_seconds: float
    #: stages, decoding, writing, relinking (see the module docstring)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class BackendFigures:
    """Both runs on one backend."""

    backend: str
    synthetic_tags: int
    full: RunFigures
    ideal_seconds: float
    ratio: float
    rows: int
    rows_per_second: float
    second: RunFigures
    rows_written: int
    second_only_head_and_list: bool
    #: the no-change sync without the Hub's repository list
    without_list: RunFigures
    without_list_rows_written: int


def default_corpus() -> Path:
    configured = os.environ.get("INDEXER_CORPUS")
    return Path(configured) if configured else PROJECT_ROOT.parent / "shared" / "corpus"


@contextmanager
def replay_process(
    corpus: Path, snapshot: str, latency_ms: float, synthetic_tags: int
) -> Iterator[str]:
    """A replay server in a child process; yields its base URL."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _REPLAY_CODE,
            str(corpus),
            snapshot,
            str(latency_ms),
            str(synthetic_tags),
        ],
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


def sync_process(
    database_url: str, replay_url: str, args: argparse.Namespace, **extra: str
) -> RunFigures:
    """``python -m indexer sync --json`` against the replay; wall time, RSS and CPU of it."""
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "INDEXER_DATABASE_URL": database_url,
        "INDEXER_HUB_URL": f"{replay_url}/hub",
        "INDEXER_GITHUB_API_URL": f"{replay_url}/github-api",
        "INDEXER_GITHUB_RAW_URL": f"{replay_url}/github-raw",
        "INDEXER_CONCURRENCY": str(args.concurrency),
        **extra,
    }
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "indexer", "sync", "--json"], stdout=out, stderr=err, env=env
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            raise RuntimeError(f"indexer sync exited {child.returncode}: {err.read().decode()}")
        summary = json.loads(out.read())
    requests = summary["requests"]
    return RunFigures(
        wall_seconds=round(wall, 3),
        run_seconds=summary["duration_seconds"],
        requests=int(requests["requests_total"]),
        requests_by_kind=dict(requests["requests"]),
        status=summary["status"],
        errors=sum(summary["counts"]["errors"].values()),
        peak_rss_mb=round(usage.ru_maxrss / 1024, 1),
        cpu_seconds=round(usage.ru_utime + usage.ru_stime, 2),
        seconds=summary["counts"].get("seconds", {}),
    )


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


async def row_count(database: Database) -> int:
    """Rows of every internal table (audit tables left out)."""
    total = 0
    async with database.session() as session:
        for table in Base.metadata.sorted_tables:
            if table.name not in AUDIT_TABLES:
                total += int(await session.scalar(select(func.count()).select_from(table)) or 0)
    return total


def rows_changed(before: dict[str, set[str]], after: dict[str, set[str]]) -> int:
    """Rows added, changed or deleted between two digests."""
    return sum(len(before[name] ^ after[name]) for name in before)


async def bench_backend(
    backend: str, database_url: str, replay_url: str, args: argparse.Namespace
) -> BackendFigures:
    await upgrade(database_url)
    database = Database(database_url)
    try:
        full = await asyncio.to_thread(sync_process, database_url, replay_url, args)
        rows = await row_count(database)
        before = await table_rows(database)
        second = await asyncio.to_thread(sync_process, database_url, replay_url, args)
        after = await table_rows(database)
        without_list = await asyncio.to_thread(
            sync_process,
            database_url,
            replay_url,
            args,
            INDEXER_HUB_REPOSITORY_LISTING="false",
        )
        after_without = await table_rows(database)
    finally:
        await database.dispose()
    ideal = full.requests * args.latency_ms / 1000 / args.concurrency
    return BackendFigures(
        backend=backend,
        synthetic_tags=args.synthetic_tags,
        full=full,
        ideal_seconds=round(ideal, 3),
        ratio=round(full.wall_seconds / ideal, 2) if ideal else 0.0,
        rows=rows,
        rows_per_second=round(rows / full.wall_seconds),
        second=second,
        rows_written=rows_changed(before, after),
        second_only_head_and_list=set(second.requests_by_kind) <= NO_CHANGE_KINDS,
        without_list=without_list,
        without_list_rows_written=rows_changed(after, after_without),
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


def _breakdown(run: RunFigures) -> str:
    seconds = run.seconds
    stages = seconds.get("stages", 0.0)
    relinking = seconds.get("relinking", 0.0)
    around = run.wall_seconds - stages - relinking
    return (
        f"start-up and finish {around:.2f}s, stages {stages:.2f}s "
        f"(decoding {seconds.get('decoding', 0.0):.2f}s, writing "
        f"{seconds.get('writing', 0.0):.2f}s on the writer thread), relinking {relinking:.2f}s"
    )


def report(figures: BackendFigures, args: argparse.Namespace) -> None:
    full, second = figures.full, figures.second
    scale = f", {figures.synthetic_tags} synthetic tags per repository"
    print(
        f"== {figures.backend} (latency {args.latency_ms} ms, concurrency {args.concurrency}"
        f"{scale if figures.synthetic_tags else ''})"
    )
    print(
        f"full sync:   {full.wall_seconds:.2f}s wall (process), {full.requests} requests, "
        f"status {full.status} ({full.errors} item errors)"
    )
    print(
        f"             ideal {figures.ideal_seconds:.2f}s -> ratio {figures.ratio:.2f}; "
        f"{figures.rows} rows, {figures.rows_per_second:.0f} rows/s; "
        f"peak RSS {full.peak_rss_mb:.0f} MB; CPU {full.cpu_seconds:.1f}s"
    )
    print(f"             {_breakdown(full)}")
    kinds = ", ".join(f"{kind} {count}" for kind, count in second.requests_by_kind.items())
    print(
        f"second sync: {second.wall_seconds:.2f}s wall (process), {second.requests} requests "
        f"({kinds}; only branch head and repository list: "
        f"{'yes' if figures.second_only_head_and_list else 'NO'}), "
        f"{figures.rows_written} rows written (goal 0)"
    )
    other = figures.without_list
    print(
        f"  (without the Hub repository list: {other.wall_seconds:.2f}s wall, "
        f"{other.requests} requests, {figures.without_list_rows_written} rows written)"
    )


def _report_now(figures: BackendFigures, args: argparse.Namespace) -> None:
    if not args.json:
        report(figures, args)
        sys.stdout.flush()


async def warm_up(replay_url: str, args: argparse.Namespace) -> None:
    """One unmeasured sync, so the replay server has rendered its answers and the OS
    has the corpus in its page cache: the benchmark measures the crawler, not them."""
    with tempfile.TemporaryDirectory(prefix="indexer-bench-warm-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'warm.db'}"
        await upgrade(url)
        await asyncio.to_thread(sync_process, url, replay_url, args)


async def main_async(args: argparse.Namespace) -> list[BackendFigures]:
    results = []
    with replay_process(
        args.corpus, args.snapshot, args.latency_ms, args.synthetic_tags
    ) as replay_url:
        if not args.no_warm_up:
            await warm_up(replay_url, args)
        if not args.skip_sqlite:
            with tempfile.TemporaryDirectory(prefix="indexer-bench-") as folder:
                url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
                results.append(await bench_backend("sqlite", url, replay_url, args))
                _report_now(results[-1], args)
        if args.postgres:
            results.append(await bench_postgres(args.postgres, replay_url, args))
            _report_now(results[-1], args)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument("--snapshot", default="dense-current")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--synthetic-tags", type=int, default=0, metavar="N", help="more tags per repository"
    )
    parser.add_argument(
        "--postgres", metavar="URL", help="also bench PostgreSQL (admin URL; a database is created)"
    )
    parser.add_argument("--skip-sqlite", action="store_true", help="bench PostgreSQL only")
    parser.add_argument(
        "--no-warm-up", action="store_true", help="skip the unmeasured warm-up sync"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if not (args.corpus / "library").is_dir():
        sys.exit(f"corpus not found: {args.corpus}")
    results = asyncio.run(main_async(args))
    if args.json:
        print(json.dumps([asdict(result) for result in results], indent=2))


if __name__ == "__main__":
    main()
