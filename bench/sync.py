"""Benchmark: a full sync against the replay upstream, then a no-change sync, each as the
whole ``indexer sync`` process.

Usage::

    .venv/bin/python bench/sync.py [--corpus DIR] [--latency-ms 20] [--concurrency 16]
                                   [--synthetic-tags N] [--postgres URL] [--json]
    .venv/bin/python bench/sync.py --rate 100 [--burst 20] [--fail-rate 0.1]
                                   [--truncate-rate 0.02] [--seed N] [--json]

With ``--rate R`` it measures the pacing instead (SQLite only): the replay allows R
requests/s (token bucket, ``--burst`` tokens, default R/5) and may inject 5xx answers
and truncated bodies; it prints the full sync's achieved requests/s as a share of R
(goal at least 0.8), its 429 answers (goal under 5% of the requests) and rate-limit
events, and with faults, whether that run plus one rerun ends equal to a clean sync
(the contract views compared row by row).

The replay server (snapshot ``dense-current``, ``--latency-ms`` per request, and with
``--synthetic-tags N`` that many more tags per repository, Docker Hub's scale) runs in a
child process. Each sync is ``python -m indexer sync --json`` in a child process of its
own, into a fresh SQLite file (and, with ``--postgres URL``, also into a fresh
PostgreSQL database created next to the one URL names), so start-up imports count.
For each backend it prints:

- the full sync: wall time of the process, requests, the ideal ``requests x latency /
  concurrency`` and the ratio to it (goals at concurrency 16: 1.5 on SQLite, 2.0 on
  PostgreSQL at 2,000 synthetic tags; 1.5 on both at corpus scale), rows written per
  second, the process' peak RSS (goal under 300 MB) and CPU, each with the writer's page
  processes beside it (the largest one's peak; all their CPU), and where the time went: start-up
  and finish (the process around the run), the stages (listing, fetching and writing
  the library and the Hub), within them decoding Hub pages and the writer thread's
  transactions (its own, and those it waits for in the page process), then the rest of
  the registry's reading and, beside it, the indexes a first load builds after its rows
  and the relinking of parents;
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
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from sqlalchemy import func, select  # noqa: E402 - after the path set-up above

from indexer.settings import Settings  # noqa: E402
from indexer.store.db import Database  # noqa: E402
from indexer.store.migrate import upgrade  # noqa: E402
from indexer.store.models import Base  # noqa: E402
from indexer.sync import run_sync  # noqa: E402

#: tables a no-change sync may write to
AUDIT_TABLES = frozenset({"sync_runs", "sync_errors", "sync_state"})
#: the only requests a no-change sync should make
NO_CHANGE_KINDS = frozenset({"github-commit", "hub-repositories"})

_REPLAY_CODE = """
import asyncio, json, sys
from pathlib import Path
from indexer.replay import ReplayServer

async def serve():
    options = json.loads(sys.argv[4])
    async with ReplayServer(Path(sys.argv[1]), snapshot=sys.argv[2],
                            latency_ms=float(sys.argv[3]), **options) as server:
        await server.warm()
        print(server.url, flush=True)
        await asyncio.Event().wait()

asyncio.run(serve())
"""
#: the contract views a faulty run (plus a rerun) and a clean one must agree on
COMPARED_VIEWS = ("v_tags", "v_parents", "v_ancestors", "v_tag_images")


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
    #: the largest helper process (the writer's page process) and all helpers' CPU
    helper_peak_rss_mb: float = 0.0
    helper_cpu_seconds: float = 0.0


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
    corpus: Path, snapshot: str, latency_ms: float, options: dict[str, Any] | None = None
) -> Iterator[str]:
    """A replay server in a child process (``options``: its keyword options, faults and
    synthetic tags); yields its base URL."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _REPLAY_CODE,
            str(corpus),
            snapshot,
            str(latency_ms),
            json.dumps(options or {}),
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


def _peak_kib(pid: int) -> int | None:
    """The process' peak resident memory so far (``VmHWM``), in KiB; None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None  # exited: its memory is gone


def _stat_fields(pid: int | str) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command's name (state first); None
    once the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()


def _descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (the fork server and the writer's page process)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or (fields := _stat_fields(entry.name)) is None:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    pending = [pid]
    while pending:
        below = children.get(pending.pop(), [])
        found.extend(below)
        pending.extend(below)
    return found


def _cpu_seconds(pid: int) -> float | None:
    """User and system CPU of a running process; None once it is gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class _Helpers:
    """The sync's helper processes, as last seen: peak RSS (KiB) and CPU by pid."""

    peak_kib: dict[int, int] = field(default_factory=dict)
    cpu: dict[int, float] = field(default_factory=dict)

    def look(self, pid: int) -> None:
        for helper in _descendants(pid):
            peak, cpu = _peak_kib(helper), _cpu_seconds(helper)
            if peak is not None and cpu is not None:
                self.peak_kib[helper] = max(self.peak_kib.get(helper, 0), peak)
                self.cpu[helper] = cpu


def _wait_with_peak(pid: int) -> tuple[int, Any, int, _Helpers]:
    """Wait for ``pid``: its wait status, resource usage, peak resident memory (KiB) and
    its helper processes'.

    The peak is read from ``/proc`` while the child runs: the ``ru_maxrss`` that
    ``wait4`` reports starts from the parent's resident memory at the fork, and this
    process holds the digests of every table row by the second backend. The helpers are
    not the child's own children (the page process is forked by a fork server), so
    their figures are read there too.
    """
    peak = 0
    helpers = _Helpers()
    looks = 0
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, usage, peak or usage.ru_maxrss, helpers
        peak = max(peak, _peak_kib(pid) or 0)
        if looks % 5 == 0:
            helpers.look(pid)
        looks += 1
        time.sleep(0.05)


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
        "INDEXER_REGISTRY_URL": f"{replay_url}/registry",
        "INDEXER_REGISTRY_AUTH_URL": f"{replay_url}/registry-auth",
        "INDEXER_CONCURRENCY": str(args.concurrency),
        **extra,
    }
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "indexer", "sync", "--json"], stdout=out, stderr=err, env=env
        )
        status, usage, peak_kib, helpers = _wait_with_peak(child.pid)
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
        peak_rss_mb=round(peak_kib / 1024, 1),
        cpu_seconds=round(usage.ru_utime + usage.ru_stime, 2),
        seconds=summary["counts"].get("seconds", {}),
        helper_peak_rss_mb=round(max(helpers.peak_kib.values(), default=0) / 1024, 1),
        helper_cpu_seconds=round(sum(helpers.cpu.values()), 2),
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


@dataclass
class PacedRun:
    """What one in-process sync run of the pacing bench measured."""

    wall_seconds: float
    requests: int
    requests_per_second: float
    status: str
    errors: int


async def paced_sync(settings: Settings, database: Database) -> tuple[PacedRun, Any]:
    started = time.perf_counter()
    summary = await run_sync(settings, database)
    wall = time.perf_counter() - started
    requests = int(summary.requests.get("requests_total", 0))
    figures = PacedRun(
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
    indexing = seconds.get("indexing", 0.0)
    relinking = seconds.get("relinking", 0.0)
    # after the library and the Hub: the registry's reading, indexing and relinking beside it
    after = seconds.get("registry", indexing + relinking)
    around = run.wall_seconds - stages - after
    return (
        f"start-up and finish {around:.2f}s, stages {stages:.2f}s "
        f"(decoding {seconds.get('decoding', 0.0):.2f}s, writing "
        f"{seconds.get('writing', 0.0):.2f}s on the writer thread), then the registry "
        f"{after:.2f}s (indexing {indexing:.2f}s and relinking {relinking:.2f}s beside it)"
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
        f"peak RSS {full.peak_rss_mb:.0f} MB + {full.helper_peak_rss_mb:.0f} MB per page "
        f"process; CPU {full.cpu_seconds:.1f}s + page processes {full.helper_cpu_seconds:.1f}s"
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
        args.corpus, args.snapshot, args.latency_ms, {"synthetic_tags": args.synthetic_tags}
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
        return await paced_sync(replay_settings(url, replay_url, args), database)
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
                    rerun, _ = await paced_sync(replay_settings(url, replay_url, args), database)
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


if __name__ == "__main__":
    main()
