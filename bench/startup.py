"""Benchmark: how long each command takes from start to exit, as a user sees it.

Usage::

    .venv/bin/python bench/startup.py [--runs 11] [--corpus DIR] [--json]

Builds a small SQLite index first (``indexer migrate``, then ``indexer sync --only
python --only debian`` against ``indexer replay`` serving the corpus), then runs
each command ``--runs`` times as a fresh process through the console script, its
output on a pseudo-terminal as in a shell, and prints the median, fastest and
slowest wall time, and the median CPU time (user + system, which other load on
the machine disturbs less). Goal: ``indexer show`` median under 0.3 s. The load
average is printed with the figures: wall times are only comparable on a quiet
machine.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INDEXER = Path(sys.executable).parent / "indexer"
REF = "python:3-slim"
COMMANDS = (
    ("python -c pass (interpreter alone)", [sys.executable, "-c", "pass"]),
    ("indexer --help", [str(INDEXER), "--help"]),
    ("indexer show", [str(INDEXER), "show", REF]),
    ("indexer children", [str(INDEXER), "children", "debian:trixie-slim"]),
    ("indexer explain", [str(INDEXER), "explain", REF]),
    ("indexer runs", [str(INDEXER), "runs"]),
)
GOAL_SECONDS = {"indexer show": 0.3}


#: the variables ``indexer replay`` prints, one ``export`` line each
UPSTREAM_VARIABLES = frozenset(
    {
        "INDEXER_HUB_URL",
        "INDEXER_GITHUB_API_URL",
        "INDEXER_GITHUB_RAW_URL",
        "INDEXER_REGISTRY_URL",
        "INDEXER_REGISTRY_AUTH_URL",
    }
)


def default_corpus() -> Path:
    configured = os.environ.get("INDEXER_CORPUS")
    return Path(configured) if configured else PROJECT_ROOT.parent / "shared" / "corpus"


@contextmanager
def replay(corpus: Path) -> Iterator[dict[str, str]]:
    """``indexer replay`` in a child process; yields the variables it prints."""
    child = subprocess.Popen(
        [str(INDEXER), "replay", str(corpus)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout is not None
        env = {}
        while not env.keys() >= UPSTREAM_VARIABLES:  # the replay prints one line for each
            name, _, value = child.stdout.readline().strip().removeprefix("export ").partition("=")
            if not name:
                raise RuntimeError("the replay stopped before printing its variables")
            env[name] = value
        yield env
    finally:
        child.terminate()
        child.wait(timeout=10)


def build_index(corpus: Path, env: dict[str, str]) -> None:
    with replay(corpus) as upstream:
        full = {**env, **upstream}
        for args in (["migrate"], ["sync", "--only", "python", "--only", "debian"]):
            subprocess.run(
                [str(INDEXER), *args], env=full, check=True, capture_output=True, timeout=600
            )


def _on_terminal(args: list[str], env: dict[str, str]) -> float:
    """Run ``args`` with stdout on a pseudo-terminal; answers the wall time."""
    leader, follower = pty.openpty()
    started = time.perf_counter()
    process = subprocess.Popen(args, env=env, stdout=follower, stderr=subprocess.DEVNULL)
    os.close(follower)
    while True:
        try:
            if not os.read(leader, 65536):
                break
        except OSError:
            break
    process.wait()
    elapsed = time.perf_counter() - started
    os.close(leader)
    return elapsed


def measure(args: list[str], env: dict[str, str], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each of ``runs`` runs."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        walls.append(_on_terminal(args, env))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    args = parser.parse_args()
    if not (args.corpus / "library").is_dir():
        parser.error(f"no corpus at {args.corpus}: pass --corpus DIR or set INDEXER_CORPUS")
    with tempfile.TemporaryDirectory() as folder:
        base = {k: v for k, v in os.environ.items() if not k.startswith("INDEXER_")}
        env = {**base, "INDEXER_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/startup.db"}
        build_index(args.corpus, env)
        results = {}
        for label, command in COMMANDS:
            measure(command, env, 1)  # warm the file cache
            times, cpus = measure(command, env, args.runs)
            results[label] = {
                "median": statistics.median(times),
                "min": min(times),
                "max": max(times),
                "cpu_median": statistics.median(cpus),
            }
    load = os.getloadavg()
    if args.json:
        print(json.dumps({"load": load, "runs": args.runs, "commands": results}, indent=2))
        return
    print(f"start-up to exit, {args.runs} runs each; load average {load[0]:.2f} {load[1]:.2f}")
    print(f"{'command':<38}{'median':>9}{'min':>9}{'max':>9}{'cpu':>9}  goal (median)")
    for label, figures in results.items():
        goal = GOAL_SECONDS.get(label)
        verdict = (
            ""
            if goal is None
            else f"< {goal:.2f}s " + ("met" if figures["median"] < goal else "MISSED")
        )
        print(
            f"{label:<38}{figures['median']:>8.3f}s{figures['min']:>8.3f}s"
            f"{figures['max']:>8.3f}s{figures['cpu_median']:>8.3f}s  {verdict}"
        )


if __name__ == "__main__":
    main()
