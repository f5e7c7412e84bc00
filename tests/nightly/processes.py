"""Running the helper scripts of this package as real processes."""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

from tests.corpus import PROJECT_ROOT


def start_module(module: str, *args: str) -> subprocess.Popen[str]:
    """``python -m module args…`` from the project root, stdout piped, stderr kept apart."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_line(process: subprocess.Popen[str], timeout: float = 15.0) -> str:
    """The next stdout line of ``process``; fails after ``timeout`` seconds."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise AssertionError(f"no output from {process.args!r} within {timeout}s")
    return process.stdout.readline().strip()


def finish(process: subprocess.Popen[str], timeout: float = 15.0) -> tuple[int, str, str]:
    """Wait for ``process``; answer its exit status, the rest of stdout and stderr."""
    stdout, stderr = process.communicate(timeout=timeout)
    return process.returncode, stdout, stderr


def kill_all(processes: Sequence[subprocess.Popen[str]]) -> None:
    """Cleanup: SIGKILL whatever still runs (each by its own handle)."""
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.communicate()


def wait_until(
    predicate: Callable[[], bool], timeout: float = 15.0, interval: float = 0.02
) -> None:
    """Poll ``predicate()`` until true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)
