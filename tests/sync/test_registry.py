"""The registry stage against the replayed registry: truth per build, pull budget, rejects."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web

from indexer.lineage.layers import layer_check
from indexer.replay import Corpus, ReplayServer
from indexer.replay.registry_images import RegistryAccess, RegistryOptions
from indexer.sync.registry_stage import Readiness, in_turns
from indexer.upstream.registry import manifest_layers
from tests.sync.helpers import query, replay_settings, sync_once
from tests.upstream.servers import Recorder, serve

SNAPSHOT = "dense-current"
#: python and the bases it is built on
ONLY = ("alpine", "buildpack-deps", "debian", "python")
TRUTH = RegistryOptions(stale_share=0.1, pending_share=0.05, bare_share=0.05)

Key = tuple[str, str, str]


async def _maintained(database_url: str) -> set[tuple[str, str]]:
    rows = await query(database_url, "SELECT repository, tag FROM v_tags WHERE maintained")
    return {(repository, tag) for repository, tag in rows}


@pytest.mark.asyncio
async def test_image_builds_report_exactly_the_stale_and_pending_builds(
    corpus: Corpus, database_url: str
) -> None:
    async with ReplayServer(corpus, snapshot=SNAPSHOT, registry=TRUTH) as replay:
        summary = await sync_once(replay_settings(replay, database_url), only=ONLY)
        assert summary.status in ("ok", "partial")
        assert not {k for k in summary.tally.errors if k != "not-found"}
        maintained = await _maintained(database_url)
        expected_stale: set[Key] = set()
        expected_fresh: set[Key] = set()
        expected_pending: set[Key] = set()
        expected_current: set[Key] = set()
        bare: set[Key] = set()
        for repository in ONLY:
            for name, tag in replay.published.tags(SNAPSHOT, repository).items():
                if (repository, name) not in maintained:
                    continue
                for build in tag.builds:
                    key = (repository, name, build.architecture)
                    if build.bare:
                        bare.add(key)
                        continue
                    if build.revision is not None:
                        (expected_pending if build.pending else expected_current).add(key)
                    base = build.base_name.split(":")[0] if build.base_name else None
                    if base in ONLY:
                        (expected_stale if build.stale else expected_fresh).add(key)
        rows = await query(
            database_url,
            "SELECT repository, tag, architecture, stale, pending, agrees, stale_since,"
            " stale_since_exact, base_digest, base_current_digest FROM v_image_builds",
        )
        by_key = {(r[0], r[1], r[2]): r[3:] for r in rows}
        stale = {key for key, row in by_key.items() if row[0]}
        pending = {key for key, row in by_key.items() if row[1]}
        assert expected_stale and expected_pending
        assert stale == expected_stale
        assert pending == expected_pending
        assert all(by_key[key][0] is not None and not by_key[key][0] for key in expected_fresh)
        unknown = [key for key in expected_current if by_key[key][1] is None]
        assert not unknown, unknown[:5]
        assert not any(by_key[key][1] for key in expected_current)
        # the registry serves the library's build of the tag: its base is the Dockerfile's
        resolved = {key for key in expected_current if by_key[key][2] is not None}
        assert len(resolved) > len(expected_current) / 2
        assert all(by_key[key][2] for key in resolved)
        # bare images have no annotations: nothing to agree or be stale with
        assert all(by_key[key][:3] == (None, None, None) for key in bare)
        for key in stale:
            stale_since, exact, base_digest, current = by_key[key][3:]
            assert stale_since is not None and not exact and base_digest != current
        # every index read once, by digest
        pulls = replay.counters.pulls
        assert pulls and set(pulls.values()) == {1}
        assert all(reference.startswith("sha256:") for reference in pulls)

        # a night without changes asks the registry nothing
        replay.counters.reset()
        again = await sync_once(replay_settings(replay, database_url), only=ONLY)
        assert again.status in ("ok", "partial")
        assert replay.counters.requests["registry_manifest"] == 0
        assert replay.counters.requests["registry_token"] == 0


def _read_before_last(kinds: list[str], kind: str) -> bool:
    """Whether an index was read before the last request of ``kind`` (requests' kinds in
    the order the replay answered them)."""
    last = len(kinds) - 1 - kinds[::-1].index(kind)
    return "registry_manifest" in kinds[:last]


@pytest.mark.asyncio
async def test_indexes_are_read_while_the_hub_is_still_paged(
    corpus: Corpus, database_url: str
) -> None:
    """A repository's indexes are read once its Hub paging is written, not after the
    whole Hub stage: registry requests start before the last tag page is asked for."""
    async with ReplayServer(corpus, snapshot=SNAPSHOT, latency_ms=20) as replay:
        # small pages: python's tags take many more than alpine's
        settings = replay_settings(replay, database_url, hub_page_size=10)
        summary = await sync_once(settings, only=ONLY)
        kinds = list(replay.counters.kinds)
    assert summary.status in ("ok", "partial")
    assert summary.tally.registry_indexes_read > 0
    assert _read_before_last(kinds, "hub_tags")
    # every maintained tag's index was read all the same
    unread = await query(
        database_url,
        "SELECT count(*) FROM tags t WHERE t.maintained AND t.digest IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM registry_indexes x WHERE x.digest = t.digest)",
    )
    assert unread == [(0,)]


@pytest.mark.asyncio
async def test_indexes_are_read_before_the_whole_library_is_written(
    corpus: Corpus, database_url: str
) -> None:
    """A repository whose library file and Hub paging are written has its indexes read
    while another repository's Dockerfiles are still being fetched."""
    async with (
        ReplayServer(corpus, snapshot=SNAPSHOT) as replay,
        _proxy(replay.github_raw_url, delay=lambda path: 1.0 * ("/python/" in path)) as github_raw,
    ):
        # no repository list: the Hub stage starts at once, with the four repositories
        settings = replay_settings(
            replay, database_url, github_raw_url=github_raw, hub_repository_listing=False
        )
        summary = await sync_once(settings, only=ONLY)
        kinds = list(replay.counters.kinds)
    assert summary.status in ("ok", "partial")
    assert summary.tally.registry_indexes_read > 0
    assert _read_before_last(kinds, "dockerfile")


@pytest.mark.asyncio
async def test_a_repository_is_ready_once_paged_and_its_library_file_written() -> None:
    readiness = Readiness()
    batches: list[list[str]] = []

    async def collect() -> None:
        async for names in readiness.ready():
            batches.append(names)

    async def settled() -> None:
        for _ in range(3):  # the collector takes the events told so far
            await asyncio.sleep(0)

    reading = asyncio.create_task(collect())
    readiness.paged("alpine")
    readiness.written("debian")
    await settled()
    assert batches == []
    readiness.written("alpine")
    await settled()
    assert batches == [["alpine"]]
    readiness.paged("debian")
    readiness.paged("python")  # its library file is not written yet
    await settled()
    assert batches == [["alpine"], ["debian"]]
    readiness.written(None)  # the library part is over: every paged repository is ready
    await settled()
    assert batches[-1] == ["python"]
    readiness.paged("busybox")
    await settled()
    assert not reading.done()
    readiness.paged(None)
    await asyncio.wait_for(reading, 1)
    assert batches == [["alpine"], ["debian"], ["python"], ["busybox"]]


@pytest.mark.asyncio
async def test_layer_check_compares_the_published_layers(corpus: Corpus, database_url: str) -> None:
    options = RegistryOptions(bare_share=0.3)
    async with ReplayServer(corpus, snapshot=SNAPSHOT, registry=options) as replay:
        await sync_once(replay_settings(replay, database_url), only=("debian", "python"))
        rows = await query(
            database_url,
            "SELECT x.repository, i.manifest_digest, i.layer_check, i.bashbrew_arch,"
            " b.parent_repository, b.parent_tag"
            " FROM registry_images i JOIN registry_indexes x ON x.id = i.index_id"
            " JOIN tags t ON t.digest = x.digest"
            " JOIN image_repositories r ON r.id = t.repository_id AND r.name = x.repository"
            " JOIN builds b ON b.stanza_id = t.stanza_id AND b.architecture = i.bashbrew_arch"
            " WHERE i.layer_check IS NOT NULL",
        )
        assert len(rows) > 10
        debian = replay.published.tags(SNAPSHOT, "debian")
        verdicts = Counter()
        for _, digest, verdict, arch, parent_repository, parent_tag in rows:
            assert parent_repository == "debian"
            parent = next(
                b.manifest_digest for b in debian[parent_tag].builds if b.architecture == arch
            )
            child_body, parent_body = (replay.published.body(d) for d in (digest, parent))
            assert child_body is not None and parent_body is not None
            expected = layer_check(manifest_layers(parent_body[1]), manifest_layers(child_body[1]))
            assert verdict == expected
            verdicts[verdict] += 1
        assert verdicts["verified"]
        # each platform manifest read once, by digest, and stored
        assert set(replay.counters.pulls.values()) == {1}


@pytest.mark.asyncio
async def test_pull_limit_spreads_the_reading_over_runs(corpus: Corpus, database_url: str) -> None:
    access = RegistryAccess(require_token=True, pull_limit=25)
    async with ReplayServer(corpus, snapshot=SNAPSHOT, registry_access=access) as replay:
        settings = replay_settings(replay, database_url, registry_pull_reserve=5)
        needed = {tag.view.digest for tag in replay.published.tags(SNAPSHOT, "debian").values()}
        runs = 0
        pulled: Counter[str] = Counter()
        while True:
            replay.set_registry_access(pull_limit=25)  # a new window
            replay.counters.reset()
            summary = await sync_once(settings, only=("debian",))
            runs += 1
            assert summary.status in ("ok", "partial")
            assert replay.counters.statuses["registry_manifest"][429] == 0
            assert sum(replay.counters.pulls.values()) <= 25 - 5
            pulled.update(replay.counters.pulls)
            if not summary.tally.registry_left_for_later:
                break
            assert runs < 20
        assert runs > 1
        assert set(pulled.values()) == {1}  # no digest fetched twice, across runs
        stored = {
            row[0] for row in await query(database_url, "SELECT digest FROM registry_indexes")
        }
        maintained = {
            row[0]
            for row in await query(
                database_url,
                "SELECT DISTINCT digest FROM v_tags WHERE repository = 'debian' AND maintained",
            )
        }
        assert stored == maintained == set(pulled) & needed


def test_targets_take_turns_among_repositories() -> None:
    targets = [("alpine", "a1"), ("alpine", "a2"), ("alpine", "a3"), ("debian", "d1")]
    targets += [("python", "p1"), ("python", "p2")]
    assert in_turns(targets) == [
        ("alpine", "a1"),
        ("debian", "d1"),
        ("python", "p1"),
        ("alpine", "a2"),
        ("python", "p2"),
        ("alpine", "a3"),
    ]
    assert in_turns([]) == []


@pytest.mark.asyncio
async def test_indexes_are_read_taking_turns_among_repositories(
    corpus: Corpus, database_url: str
) -> None:
    """Each repository's first read waits for its token: the reads take turns among the
    repositories, so the readers do not all wait for one repository's token."""
    access = RegistryAccess(require_token=True, pull_limit=5)
    async with ReplayServer(corpus, snapshot=SNAPSHOT, registry_access=access) as replay:
        # the first run's budget ends after one read; the second reads the rest at once
        settings = replay_settings(replay, database_url, registry_pull_reserve=5)
        await sync_once(settings, only=ONLY)
        replay.set_registry_access(pull_limit=100_000)
        replay.counters.reset()
        # one request at a time: the order sent is the order seen
        settings = replay_settings(replay, database_url, registry_pull_reserve=0, concurrency=1)
        summary = await sync_once(settings, only=ONLY)
        paths = replay.counters.paths["registry_manifest"]
    assert summary.tally.registry_indexes_read == len(paths) > 20
    read = [(path.split("/")[-3], path.split("/")[-1]) for path in paths]
    assert len({repository for repository, _ in read}) == len(ONLY)
    assert read == in_turns(sorted(read))


#: what a proxy does to an answer's body, by request path
Alter = Callable[[str, bytes], bytes]


def _unchanged(_path: str, body: bytes) -> bytes:
    return body


@asynccontextmanager
async def _proxy(
    target: str, alter: Alter = _unchanged, delay: Callable[[str], float] = lambda _: 0.0
) -> AsyncIterator[str]:
    """A proxy of ``target`` that forwards each request after ``delay(path)`` seconds and
    passes the answer's body through ``alter``."""
    async with aiohttp.ClientSession() as client:

        async def forward(request: web.Request) -> web.StreamResponse:
            await asyncio.sleep(delay(request.path))
            async with client.get(
                target + request.raw_path, headers=dict(request.headers)
            ) as answer:
                body = await answer.read()
                headers = {
                    k: answer.headers[k]
                    for k in ("Content-Type", "Docker-Content-Digest")
                    if k in answer.headers
                }
            body = alter(request.path, body)
            return web.Response(status=answer.status, body=body, headers=headers)

        async with serve({"/{tail:.*}": forward}, Recorder()) as base:
            yield base


def _corrupting(corrupt: set[str], oversize: set[str]) -> Alter:
    """Flips a byte of some manifests' bodies and inflates others."""

    def alter(path: str, body: bytes) -> bytes:
        reference = path.rsplit("/", 1)[-1]
        if reference in corrupt:
            body = body.replace(b'"schemaVersion":2', b'"schemaVersion":3')
        if reference in oversize:
            body = body + b" " * 5000
        return body

    return alter


@pytest.mark.asyncio
async def test_bad_bodies_are_rejected_recorded_and_not_asked_again(
    replay: ReplayServer, database_url: str
) -> None:
    maintained = replay.corpus.tag_definitions(SNAPSHOT, "hello-world")
    published = replay.published.tags(SNAPSHOT, "hello-world")
    digests = sorted({t.view.digest for name, t in published.items() if name in maintained})
    assert len(digests) >= 2
    corrupt, oversize = {digests[0]}, {digests[1]}
    async with _proxy(replay.registry_url, _corrupting(corrupt, oversize)) as proxy:
        body_cap = max(len(replay.published.body(d)[1]) for d in digests) + 1000  # type: ignore[index]
        settings = replay_settings(
            replay, database_url, registry_url=proxy, registry_max_manifest_bytes=body_cap
        )
        summary = await sync_once(settings, only=("hello-world",))
        assert summary.status == "partial"
        assert summary.tally.errors["digest-mismatch"] == 1
        assert summary.tally.errors["body-too-large"] == 1
        rows = await query(
            database_url, "SELECT digest, status, error FROM registry_indexes ORDER BY digest"
        )
        status = {digest: (state, error) for digest, state, error in rows}
        assert status[digests[0]][0] == "rejected" and "digest-mismatch" in status[digests[0]][1]
        assert status[digests[1]][0] == "rejected" and "body-too-large" in status[digests[1]][1]
        assert all(state == "ok" for d, (state, _) in status.items() if d not in corrupt | oversize)
        errors = await query(
            database_url, "SELECT item_kind, error_kind FROM sync_errors ORDER BY error_kind"
        )
        assert ("registry-manifest", "digest-mismatch") in errors
        replay.counters.reset()
        await sync_once(settings, only=("hello-world",))
        assert replay.counters.requests["registry_manifest"] == 0


@pytest.mark.asyncio
async def test_a_base_that_moves_makes_its_children_stale_since_then(
    corpus: Corpus, database_url: str
) -> None:
    only = ("debian", "python")
    async with ReplayServer(corpus, snapshot="dense-previous") as replay:
        settings = replay_settings(replay, database_url)
        await sync_once(settings, only=only)
        replay.switch_snapshot("dense-current")
        replay.counters.reset()
        await sync_once(settings, only=only)
        pulled = set(replay.counters.pulls)
    # only indexes not read before are read: tags whose digest did not move are not
    before_and_after = await query(
        database_url,
        "SELECT DISTINCT digest FROM v_tag_history WHERE first_seen < ("
        " SELECT MAX(started_at) FROM v_sync_runs)",
    )
    assert pulled and not pulled & {row[0] for row in before_and_after}
    rows = await query(
        database_url,
        "SELECT b.repository, b.tag, b.architecture, b.base_name, b.base_digest,"
        " b.stale_since, b.stale_since_exact FROM v_image_builds b"
        " WHERE b.stale AND b.stale_since_exact",
    )
    assert rows
    for _, _, _, base_name, base_digest, stale_since, _ in rows:
        repository, tag = base_name.split(":")
        history = await query(
            database_url,
            "SELECT digest, first_seen FROM v_tag_history"
            " WHERE repository = :r AND tag = :t ORDER BY first_seen",
            r=repository,
            t=tag,
        )
        digests = [digest for digest, _ in history]
        assert base_digest in digests and digests[-1] != base_digest
        moved = history[digests.index(base_digest) + 1][1]
        assert str(moved) == str(stale_since)
