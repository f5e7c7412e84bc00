"""A full sync of the corpus (dense-current) through the replay upstream, on each backend.

The expectations come from the corpus files themselves: the library files parsed
here, the Dockerfile heads resolved here, the oracle's ``lastStageFrom``, and the Hub
view the replay serves (``hub_tags_for``). Then a second sync against the unchanged
upstream must fetch no library file and no Dockerfile and change no row.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from indexer.refs import normalize_ref
from indexer.replay import Corpus, ReplayServer
from indexer.store.cache import dockerfile_content_id
from tests.sync.expected import (
    PlatformImage,
    expected_builds,
    expected_hub,
    library_files,
    oracle_parents,
)
from tests.sync.helpers import query, replay_settings, sync_once, table_snapshot

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

SNAPSHOT = "dense-current"


def _json_list(value: Any) -> list[str] | None:
    decoded = json.loads(value) if isinstance(value, str) else value
    return list(decoded) if decoded is not None else None


@pytest.mark.asyncio
async def test_full_sync_matches_the_corpus_then_a_second_sync_changes_nothing(
    database_url: str, corpus: Corpus, corpus_dir: Path, replay: ReplayServer
) -> None:
    settings = replay_settings(replay, database_url)
    first = await sync_once(settings)
    files = library_files(corpus, SNAPSHOT)

    assert first.status == "partial"  # the corpus lacks some Dockerfiles: item errors
    assert first.library_commit == corpus.snapshot(SNAPSHOT).commit
    assert first.tally.library_files_fetched == len(files)

    # every maintained stanza, with its aliases and shared tags, and nothing else
    membership = await query(
        database_url,
        """SELECT r.name, s.canonical_tag, t.name, st.shared, st.position
           FROM stanza_tags st JOIN stanzas s ON s.id = st.stanza_id
           JOIN tags t ON t.id = st.tag_id JOIN image_repositories r ON r.id = s.repository_id
           WHERE s.maintained""",
    )
    expected_membership = {
        (name, stanza.tags[0], tag, shared, position)
        for name, parsed in files.items()
        for stanza in parsed.stanzas
        for shared, tags in ((False, stanza.tags), (True, stanza.shared_tags))
        for position, tag in enumerate(tags)
    }
    assert {(r, c, t, bool(s), p) for r, c, t, s, p in membership} == expected_membership
    v_tags = {
        (repository, tag): (canonical, bool(maintained))
        for repository, tag, canonical, maintained in await query(
            database_url, "SELECT repository, tag, canonical_tag, maintained FROM v_tags"
        )
    }
    for name, parsed in files.items():
        for stanza in parsed.stanzas:
            for tag in stanza.tags:
                assert v_tags[name, tag] == (stanza.tags[0], True)
            for tag in stanza.shared_tags:
                assert v_tags[name, tag][1] is True

    # per-architecture parents: the resolver on the corpus heads, and the oracle
    builds = {
        (repository, canonical, arch): (parent, error, _json_list(froms))
        for repository, canonical, arch, parent, error, froms in await query(
            database_url,
            """SELECT r.name, s.canonical_tag, b.architecture, b.parent_ref, b.error, b.froms
               FROM builds b JOIN stanzas s ON s.id = b.stanza_id
               JOIN image_repositories r ON r.id = s.repository_id WHERE s.maintained""",
        )
    }
    expected = expected_builds(corpus, files)
    assert builds.keys() == expected.keys()
    for key, build in expected.items():
        parent, error, froms = builds[key]
        assert parent == build.parent, key
        if build.kind in ("ok", "oci-import"):
            assert error is None, key
            assert froms, key
        elif build.kind == "missing":
            assert error is not None and "not found" in error, key
        elif build.kind == "unsupported":
            assert error is not None and error.startswith("unsupported GitRepo host"), key
        else:
            assert error, key
    canonical_of = {
        (name, tag): stanza.tags[0]
        for name, parsed in files.items()
        for stanza in parsed.stanzas
        for tag in stanza.tags
    }
    oracle = oracle_parents(corpus_dir, SNAPSHOT)
    checked = 0
    for (repository, tag, arch), parent in oracle.items():
        key = (repository, canonical_of[repository, tag], arch)
        assert builds[key][0] == normalize_ref(parent), key
        checked += 1
    assert checked > 5000

    # Hub digests and per-platform sizes: what the replay serves for the snapshot
    hub = expected_hub(corpus, SNAPSHOT, sorted(files))
    stored_digests = {
        (repository, tag): digest
        for repository, tag, digest in await query(
            database_url, "SELECT repository, tag, digest FROM v_tags WHERE digest IS NOT NULL"
        )
    }
    assert stored_digests == {key: digest for key, (digest, _) in hub.items()}
    stored_images: dict[tuple[str, str], set[PlatformImage]] = {}
    for repository, tag, os_name, arch, variant, digest, size in await query(
        database_url,
        "SELECT repository, tag, os, architecture, variant, digest, size FROM v_tag_images",
    ):
        stored_images.setdefault((repository, tag), set()).add(
            (os_name, arch, variant, digest, size)
        )
    assert stored_images == {key: images for key, (_, images) in hub.items() if images}

    # items the corpus cannot serve are recorded with their reasons
    errors = await query(
        database_url,
        "SELECT item_kind, item, error_kind, message FROM sync_errors WHERE run_id = :run",
        run=first.run_id,
    )
    missing = {
        dockerfile_content_id(*_build_location(files, key))
        for key, build in expected.items()
        if build.kind == "missing"
    }
    assert {item for kind, item, error_kind, _ in errors if error_kind == "not-found"} == missing
    assert all(kind == "dockerfile" for kind, *_ in errors)
    assert len(errors) == first.errors == len(missing)

    # a second sync against the unchanged upstream: no library file, no Dockerfile, no
    # tag page (the Hub's repository list shows no new push), no row
    before = await table_snapshot(database_url)
    replay.counters.reset()
    second = await sync_once(settings)
    assert second.status == "ok"
    assert second.library_unchanged
    assert replay.counters.requests["branch_head"] == 1
    assert replay.counters.requests["library_listing"] == 0
    assert replay.counters.requests["library_file"] == 0
    assert replay.counters.requests["dockerfile"] == 0
    assert replay.counters.requests["hub_repositories"] == 2  # 100 repositories a page
    assert replay.counters.requests["hub_tags"] == 0
    assert second.tally.hub_unchanged == len(files)
    assert await table_snapshot(database_url) == before

    # without the repository list, each repository's first tag page shows nothing new
    replay.counters.reset()
    third = await sync_once(settings.replace(hub_repository_listing=False))
    assert third.status == "ok"
    assert replay.counters.requests["hub_repositories"] == 0
    assert replay.counters.requests["hub_tags"] == len(files)  # one page each, then stop
    assert third.tally.hub_stopped_early == len(files)
    assert await table_snapshot(database_url) == before
    runs = await query(
        database_url,
        "SELECT library_files_fetched, dockerfiles_fetched, tags_added, tags_changed, errors "
        "FROM v_sync_runs WHERE id = :run",
        run=second.run_id,
    )
    assert runs == [(0, 0, 0, 0, 0)]


def _build_location(files: dict[str, Any], key: tuple[str, str, str]) -> tuple[str, str, str, str]:
    name, canonical, arch = key
    for stanza in files[name].stanzas:
        if stanza.tags[0] == canonical:
            build = stanza.build_for(arch)
            return build.git_repo, build.git_commit, build.directory, build.file
    raise KeyError(key)
