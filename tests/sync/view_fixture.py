"""Every contract view after a corpus sync, in a backend-neutral form, and its stored fixture.

``tests/fixtures/views-dense-current.json.gz`` holds the rows the store's writes produced
for a full sync of ``dense-current`` (first recorded on SQLite, before the write path was
replaced). Values are normalised so both backends and every run compare equal:
booleans as ``true``/``false``, times as UTC ISO text, and the times a sync takes from
its own clock (at or after the run's start) as ``NOW``; ``v_sync_runs`` keeps the
status and counts of each run, not its id and times.

Regenerate (only when a view's meaning changes on purpose)::

    .venv/bin/python -m tests.sync.view_fixture
"""

from __future__ import annotations

import asyncio
import gzip
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from indexer.replay import Corpus, ReplayServer
from tests.corpus import PROJECT_ROOT, corpus_path
from tests.databases import fetch_rows

__all__ = ["FIXTURE", "SNAPSHOT", "VIEWS", "load_fixture", "normalised_views"]

SNAPSHOT = "dense-current"
FIXTURE = PROJECT_ROOT / "tests" / "fixtures" / f"views-{SNAPSHOT}.json.gz"
#: every contract view and its columns, in the order they are compared
VIEWS: dict[str, tuple[str, ...]] = {
    "v_tags": ("repository", "tag", "canonical_tag", "maintained", "digest", "last_updated"),
    "v_parents": (
        "repository",
        "tag",
        "architecture",
        "parent_ref",
        "parent_repository",
        "parent_tag",
    ),
    "v_ancestors": (
        "repository",
        "tag",
        "architecture",
        "depth",
        "ancestor_repository",
        "ancestor_tag",
    ),
    "v_tag_images": (
        "repository",
        "tag",
        "os",
        "architecture",
        "variant",
        "bashbrew_arch",
        "digest",
        "size",
        "last_pushed",
    ),
    "v_tag_history": ("repository", "tag", "digest", "first_seen", "last_seen"),
    "v_sync_runs": (
        "status",
        "library_files_fetched",
        "dockerfiles_fetched",
        "tags_added",
        "tags_changed",
        "tags_removed",
        "errors",
    ),
}
_BOOLEANS = frozenset({"maintained"})
_TIMES = frozenset({"last_updated", "last_pushed", "first_seen", "last_seen"})

Rows = dict[str, list[list[str | None]]]


def _time(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _value(column: str, value: Any, started: datetime) -> str | None:
    if value is None:
        return None
    if column in _BOOLEANS:
        return "true" if value in (True, 1, "1", "t", "true") else "false"
    if column in _TIMES:
        moment = _time(value)
        return "NOW" if moment >= started else moment.isoformat()
    return str(value)


async def normalised_views(database_url: str) -> Rows:
    """Every contract view's rows, normalised (see the module docstring) and sorted."""
    ((first_start,),) = await fetch_rows(database_url, "SELECT MIN(started_at) FROM sync_runs")
    started = _time(first_start)
    result: Rows = {}
    for view, columns in VIEWS.items():
        order = " ORDER BY id" if view == "v_sync_runs" else ""
        rows = await fetch_rows(database_url, f"SELECT {', '.join(columns)} FROM {view}{order}")
        normal = [
            [_value(column, value, started) for column, value in zip(columns, row, strict=True)]
            for row in rows
        ]
        if not order:
            normal.sort(key=lambda row: [(v is None, v or "") for v in row])
        result[view] = normal
    return result


def load_fixture() -> Rows:
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as stream:
        rows: Rows = json.load(stream)
    return rows


async def _record(corpus_dir: Path) -> None:
    from tests.sync.helpers import fresh_sqlite, replay_settings, sync_once

    with tempfile.TemporaryDirectory(prefix="indexer-view-fixture-") as folder:
        url = await fresh_sqlite(Path(folder))
        async with ReplayServer(Corpus(corpus_dir), snapshot=SNAPSHOT) as replay:
            await sync_once(replay_settings(replay, url))
        rows = await normalised_views(url)
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(FIXTURE, "wb", mtime=0) as stream:
        stream.write(json.dumps(rows, separators=(",", ":")).encode())
    print({view: len(found) for view, found in rows.items()})


if __name__ == "__main__":
    found = corpus_path()
    if found is None:
        raise SystemExit("corpus not found: set INDEXER_CORPUS or provide ../shared/corpus")
    asyncio.run(_record(found))
