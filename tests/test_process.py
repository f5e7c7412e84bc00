"""Process-wide settings of the commands that sync."""

from __future__ import annotations

import subprocess
import sys

import pytest

#: start threads that allocate at once, then count glibc's heaps (``malloc_info``)
_ARENAS_SCRIPT = """
import ctypes, os, sys, tempfile, threading
from indexer.process import limit_malloc_arenas
if sys.argv[1] == "limit":
    assert limit_malloc_arenas(2)
start = threading.Barrier(8)
def churn():
    start.wait()
    for _ in range(20000):
        data = [bytes(64) for _ in range(20)]
        del data
threads = [threading.Thread(target=churn) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
with tempfile.NamedTemporaryFile(suffix=".xml") as out:
    stream = libc.fopen(out.name.encode(), b"w")
    libc.malloc_info(0, ctypes.c_void_p(stream))
    libc.fclose(ctypes.c_void_p(stream))
    print(open(out.name).read().count("<heap nr="))
"""


def _heaps(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _ARENAS_SCRIPT, mode],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return int(done.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc arenas")
def test_a_syncing_process_keeps_its_threads_to_two_malloc_arenas() -> None:
    assert _heaps("limit") <= 2
    assert _heaps("default") > 2  # the threads above do spread over more arenas unlimited
