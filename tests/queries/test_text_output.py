"""The query commands' text as a person sees it: on a real terminal, and piped.

The terminal runs are real: ``python -m indexer`` on a pseudo-terminal of a given
width, as a shell would start it. They read one SQLite copy of the lineage graph
(what is drawn does not depend on the backend); the piped checks run on both.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios

import pytest

from tests.corpus import PROJECT_ROOT
from tests.databases import migrated_sqlite_url
from tests.queries.conftest import Cli
from tests.queries.lineage_fixture import load_lineage_graph

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def on_terminal(database_url: str, width: int, *args: str) -> list[str]:
    """The lines ``indexer ARGS`` prints on a terminal ``width`` columns wide."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, width, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen(
        [sys.executable, "-m", "indexer", "--database-url", database_url, *args],
        stdout=follower,
        stderr=subprocess.PIPE,
        cwd=PROJECT_ROOT,
        env=env,
    )
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
    text = _ANSI.sub("", output.decode()).replace("\r\n", "\n")
    return text.rstrip("\n").split("\n")


@pytest.fixture(scope="module")
def sqlite_lineage(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = migrated_sqlite_url(tmp_path_factory.mktemp("terminal"))
    load_lineage_graph(url)
    return url


def fits(line: str, width: int) -> bool:
    """Within ``width``, or a single word too long to break (a digest) after its label."""
    return len(line) <= width or len(line[14:].split()) == 1


@pytest.mark.parametrize(
    "args",
    [
        ["show", "python:3.12"],
        ["explain", "python:3.12-slim"],
        ["children", "debian:bookworm-slim", "--recursive"],
    ],
)
def test_terminal_output_fits_its_width_and_wide_shows_all(
    sqlite_lineage: str, args: list[str]
) -> None:
    narrow = on_terminal(sqlite_lineage, 60, *args)
    assert all(fits(line, 60) for line in narrow), narrow
    wide = on_terminal(sqlite_lineage, 60, *args, "--wide")
    assert max(len(line) for line in wide) > 60
    assert not any("…" in line for line in wide)


def test_show_groups_chains_on_the_terminal(sqlite_lineage: str) -> None:
    lines = on_terminal(sqlite_lineage, 120, "show", "python:3.12-slim")
    ancestors = [line for line in lines if "→" in line]
    assert ancestors == [
        "  ancestors   amd64, arm64v8: debian:bookworm-slim → scratch",
        "              arm32v5: debian:bullseye-slim → scratch",
    ]


def test_piped_tables_are_tab_separated(cli: Cli) -> None:
    status, out, _ = cli.run("children", "debian:bookworm-slim")
    assert status == 0
    lines = out.splitlines()
    header = ["depth", "image", "architectures", "parent", "aliases", "stale"]
    assert lines[0].split("\t") == header
    rows = [line.split("\t") for line in lines[1:]]
    assert rows and all(len(row) == len(header) for row in rows)
    assert rows[0][:4] == [
        "1",
        "python:3.12.7-slim-bookworm",
        "amd64, arm64v8",
        "debian:bookworm-slim",
    ]


def test_explain_counts_in_words(cli: Cli) -> None:
    status, out, _ = cli.run("explain", "python:3.12-slim")
    assert status == 0
    line = next(line for line in out.splitlines() if "built on by" in line)
    count = int(line.split("built on by")[1].split()[0])
    assert ("image directly" in line) == (count == 1)
    assert ("images directly" in line) == (count != 1)
