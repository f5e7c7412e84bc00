"""Every SQL example in the README's "SQL views" section runs on both backends and answers what it says."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.corpus import PROJECT_ROOT
from tests.queries.conftest import query
from tests.queries.lineage_fixture import DIGESTS

README = PROJECT_ROOT / "README.md"


def examples(path: Path = README) -> dict[str, str]:
    """``### heading`` -> the SQL block under it, within the README's "SQL views" section."""
    text = path.read_text()
    section = text[text.index("\n## SQL views\n") :]
    section = section[: section.index("\n## ", 1)]
    found: dict[str, str] = {}
    heading = None
    for block in re.split(r"^(### .+)$", section, flags=re.MULTILINE):
        if block.startswith("### "):
            heading = block[4:].strip()
            continue
        sql = re.search(r"```sql\n(.*?)```", block, flags=re.DOTALL)
        if heading is not None and sql is not None:
            found[heading] = sql.group(1).strip().rstrip(";")
    return found


EXPECTED: dict[str, list[tuple[Any, ...]]] = {
    "The ancestors of one tag": [(1, "debian", "bookworm-slim"), (2, "scratch", None)],
    "Everything built on a base, directly or transitively": [("python", "3.12.7-slim-bookworm", 1)],
    "Everything still on an end-of-life base": [
        ("legacy", "1.0", "amd64", 1),
        ("legacy", "1.0", "arm32v5", 1),
        ("legacy", "1.0", "arm64v8", 1),
    ],
    "Bases that have left the library, and how many images still use them": [
        ("debian", "buster", 1)
    ],
    "Images without a resolved parent": [("mystery", "1.0", "amd64")],
    "Official parents the index does not know": [("vanished:1.0",)],
    "The most used direct parents": [
        ("scratch", 3),
        ("python:3.12", 2),
        ("alpine:3.20", 1),
        ("buildpack-deps:bookworm", 1),
        ("buildpack-deps:bookworm-curl", 1),
        ("buildpack-deps:bookworm-scm", 1),
        ("debian:12", 1),
        ("debian:bookworm", 1),
        ("debian:bookworm-slim", 1),
        ("debian:bullseye-slim", 1),
    ],
    "The smallest Python 3.12 image for arm64": [("3.12-alpine", 19_500_000)],
}


def test_every_example_is_checked() -> None:
    # the registry examples are checked on a synced index by tests/queries/test_stale.py
    registry = {
        "Images on an outdated debian:bookworm-slim, oldest first",
        "Builds the registry has not published yet",
    }
    assert set(examples()) == {*EXPECTED, "What a tag pointed at on a date", *registry}


@pytest.mark.parametrize("heading", sorted(EXPECTED))
def test_example(lineage_url: str, heading: str) -> None:
    assert query(lineage_url, examples()[heading]) == EXPECTED[heading]


def test_history_example(lineage_url: str) -> None:
    rows = query(lineage_url, examples()["What a tag pointed at on a date"])
    assert [row[0] for row in rows] == [DIGESTS["3.12-slim"]]
