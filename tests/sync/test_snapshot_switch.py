"""The upstream moves from ``dense-previous`` to ``dense-current`` between two syncs.

The replay's counters must show that exactly the changed library files and the new
Dockerfiles were fetched; the views must show parents, maintained flags and history
moved; and the final ``v_parents`` and ``v_ancestors`` must equal those of a clean sync of
``dense-current``.
"""

from __future__ import annotations

import csv
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from indexer.errors import ForbiddenTargetError
from indexer.parsing import parse_library_file
from indexer.replay import Corpus, ReplayServer
from indexer.settings import Settings
from indexer.upstream.github import dockerfile_url
from tests.sync.helpers import query, replay_settings, sync_once, view_rows

pytestmark = pytest.mark.corpus

#: five images whose library file changed between the snapshots, three whose did not
CHANGED = ("teamspeak", "zookeeper", "odoo", "eclipse-mosquitto", "krakend")
UNCHANGED = ("registry", "api-firewall", "znc")
ONLY = (*CHANGED, *UNCHANGED)


def _blobs(corpus_dir: Path, snapshot: str) -> dict[str, str]:
    with (corpus_dir / "library" / "BLOBS.tsv").open() as handle:
        return {
            row["name"]: row["blob_sha"]
            for row in csv.DictReader(handle, delimiter="\t")
            if row["snapshot"] == snapshot
        }


def _dockerfile_paths(corpus_dir: Path, snapshot: str, settings: Settings) -> set[str]:
    """The raw paths of every fetchable Dockerfile the snapshot pins for ``ONLY``."""
    paths = set()
    for name in ONLY:
        text = (corpus_dir / "library" / snapshot / name).read_text()
        for stanza in parse_library_file(name, text).stanzas:
            for build in stanza.builds:
                if build.builder == "oci-import":
                    continue
                try:
                    url = dockerfile_url(
                        settings, build.git_repo, build.git_commit, build.directory, build.file
                    )
                except ForbiddenTargetError:
                    continue
                paths.add(unquote(urlsplit(url).path))
    return paths


def _tags(corpus_dir: Path, snapshot: str) -> set[tuple[str, str]]:
    found = set()
    for name in ONLY:
        library = parse_library_file(name, (corpus_dir / "library" / snapshot / name).read_text())
        for stanza in library.stanzas:
            found.update((name, tag) for tag in (*stanza.tags, *stanza.shared_tags))
    return found


async def _digests(database_url: str) -> dict[str, str | None]:
    """``repository:tag`` -> its Hub digest, for every known tag."""
    rows = await query(database_url, "SELECT repository || ':' || tag, digest FROM v_tags")
    return dict(rows)


@pytest.mark.asyncio
async def test_snapshot_switch_fetches_only_what_changed_and_ends_like_a_clean_sync(
    database_url: str, second_database_url: str, corpus_dir: Path
) -> None:
    previous_blobs = _blobs(corpus_dir, "dense-previous")
    current_blobs = _blobs(corpus_dir, "dense-current")
    assert all(previous_blobs[n] != current_blobs[n] for n in CHANGED)
    assert all(previous_blobs[n] == current_blobs[n] for n in UNCHANGED)

    async with ReplayServer(Corpus(corpus_dir), snapshot="dense-previous") as replay:
        settings = replay_settings(replay, database_url)
        await sync_once(settings, only=ONLY)
        digests_before = await _digests(database_url)

        replay.switch_snapshot("dense-current")
        replay.counters.reset()
        summary = await sync_once(settings, only=ONLY)

        fetched_files = {path.rsplit("/", 1)[1] for path in replay.counters.paths["library_file"]}
        assert fetched_files == set(CHANGED)
        new_dockerfiles = _dockerfile_paths(
            corpus_dir, "dense-current", settings
        ) - _dockerfile_paths(corpus_dir, "dense-previous", settings)
        assert new_dockerfiles, "the chosen images pin new Dockerfiles"
        fetched = [unquote(path) for path in replay.counters.paths["dockerfile"]]
        assert sorted(set(fetched)) == sorted(new_dockerfiles)
        assert len(fetched) == len(set(fetched))
        assert summary.tally.library_files_written == len(CHANGED)

        clean = replay_settings(replay, second_database_url)
        await sync_once(clean, only=ONLY)

    # parents and ancestors (the closure refreshed below the moved links): the switched
    # database ends where a clean sync of dense-current does
    lineage = await view_rows(database_url, ["v_parents", "v_ancestors"])
    assert lineage == await view_rows(second_database_url, ["v_parents", "v_ancestors"])
    assert lineage["v_ancestors"]

    # maintained flags: tags the new library dropped are kept, no longer maintained
    dropped = _tags(corpus_dir, "dense-previous") - _tags(corpus_dir, "dense-current")
    assert dropped
    flags = {
        (repository, tag): bool(maintained)
        for repository, tag, maintained in await query(
            database_url, "SELECT repository, tag, maintained FROM v_tags"
        )
    }
    assert all(flags[key] is False for key in dropped)
    assert all(flags[key] is True for key in _tags(corpus_dir, "dense-current"))

    # history: a tag whose digest moved has two intervals, the old digest first
    digests_after = await _digests(database_url)
    moved = sorted(
        tag
        for tag, digest in digests_after.items()
        if digest is not None and digests_before.get(tag) not in (None, digest)
    )
    assert moved
    repository, tag = moved[0].split(":", 1)
    history = await query(
        database_url,
        "SELECT digest FROM v_tag_history WHERE repository = :r AND tag = :t ORDER BY first_seen",
        r=repository,
        t=tag,
    )
    assert [row[0] for row in history] == [digests_before[moved[0]], digests_after[moved[0]]]
