"""BuildKit's warnings on a build: stored with the build, shown per platform, counted by the sync."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from indexer.cli.main import main
from indexer.replay import ReplayServer
from indexer.sync import SyncSummary
from tests.sync.helpers import MiniCorpus, query, replay_settings, sync_once
from tests.sync.minis import COMMIT_A, PLATFORMS, app_library

# an undeclared ARG in FROM (UndefinedArgInFrom) and a stage name in capitals
# (StageNameCasing): BuildKit warns about both and still builds debian:bookworm
WARNED = "ARG SUITE=bookworm\nFROM debian:${SUITE}${VARIANT} AS Base\nRUN true\n"


def _corpus(root: Path) -> None:
    corpus = MiniCorpus(root, "only")
    corpus.library_file("app", app_library("app"))
    corpus.dockerfile("example/app", COMMIT_A, "1/Dockerfile", WARNED)
    corpus.dockerfile("example/app", COMMIT_A, "1/slim/Dockerfile", "FROM debian:bookworm-slim\n")
    corpus.hub("app", dict.fromkeys(("1.0", "1", "latest", "1.0-slim", "shared"), PLATFORMS))


async def _sync(root: Path, database_url: str) -> tuple[SyncSummary, list[Any]]:
    async with ReplayServer(root, snapshot="only") as replay:
        summary = await sync_once(replay_settings(replay, database_url))
    rows = await query(
        database_url,
        "SELECT s.canonical_tag, b.architecture, b.parent_ref, b.warnings FROM builds b "
        "JOIN stanzas s ON s.id = b.stanza_id ORDER BY 1, 2",
    )
    return summary, rows


def test_warnings_are_stored_shown_and_counted(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _corpus(tmp_path / "corpus")
    summary, rows = asyncio.run(_sync(tmp_path / "corpus", database_url))
    assert summary.status == "ok"
    # amd64 and arm64v8 of the warned Dockerfile, two warnings each; slim has none
    assert (summary.tally.build_warnings, summary.tally.builds_with_warnings) == (4, 2)
    assert summary.as_dict()["counts"]["build_warnings"] == 4
    stored = {(tag, arch): (parent, warnings) for tag, arch, parent, warnings in rows}
    parent, warnings = stored["1.0", "amd64"]
    if isinstance(warnings, str):  # SQLite hands back the JSON text
        warnings = json.loads(warnings)
    assert parent == "debian:bookworm"
    assert warnings == [
        {"rule": "StageNameCasing", "line": 2, "message": "Stage name 'Base' should be lowercase"},
        {
            "rule": "UndefinedArgInFrom",
            "line": 2,
            "message": "FROM argument 'VARIANT' is not declared",
        },
    ]
    slim = stored["1.0-slim", "amd64"][1]
    assert slim in ([], "[]")

    capsys.readouterr()
    assert main(["--database-url", database_url, "show", "app:1.0", "--json"]) == 0
    platforms = {p["architecture"]: p for p in json.loads(capsys.readouterr().out)["platforms"]}
    assert [w["rule"] for w in platforms["arm64v8"]["warnings"]] == [
        "StageNameCasing",
        "UndefinedArgInFrom",
    ]
    assert main(["--database-url", database_url, "show", "app:1.0"]) == 0
    text = capsys.readouterr().out
    assert "line 2: UndefinedArgInFrom" in text
    assert "[amd64, arm64v8]" in text
