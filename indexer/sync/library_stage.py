"""The library stage: which library files to read, read them, resolve, hand them to the writer.

Stages, joined by bounded queues::

    listing ──> read_queue ──> readers (fetch or cache, parse) ──> parsed_queue
            ──> resolvers (Dockerfiles, parents; dockerfile_stage) ──> writer

A library file is read only when its git blob id differs from the one stored for its
(maintained) repository, or when some of its builds failed earlier for a reason worth
retrying (their Dockerfile is in neither state of the fetch cache); the latter are
re-resolved from the file text kept in ``fetch_cache`` under the blob id. Each
repository's writes commit together: the fetched texts, ``write_library_file``,
then ``link_parents`` for it.

After every file: on a full run (no ``--only``) repositories gone from the listing are
marked not maintained, and the branch head's ETag is stored only if nothing failed in
a way worth retrying (a watermark: otherwise the next run lists the library again and
retries). The ETag is also ignored once ``max_body_bytes`` grows past the cap it was
stored under, so Dockerfiles that were too large are asked again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from indexer.errors import UpstreamError
from indexer.parsing.dockerfile import OCI_IMPORT
from indexer.parsing.library_file import LibraryFile, parse_library_file
from indexer.store import cache
from indexer.store.cache import CachedContent, dockerfile_content_id
from indexer.store.models import Build, ImageRepository, Stanza
from indexer.store.models import LibraryFile as LibraryFileRow
from indexer.store.records import LibraryFileRecord
from indexer.store.state import StaleLinksMark, get_state, set_state
from indexer.store.writer import StoreAction
from indexer.store.writes import (
    LibraryWriteResult,
    mark_repositories_unmaintained,
    write_library_file,
)
from indexer.sync.dockerfile_stage import (
    DockerfileFetcher,
    ResolvedLibraryFile,
    refused_reason,
    resolve_library_file,
)
from indexer.sync.records import library_file_record
from indexer.sync.run_context import RunContext
from indexer.upstream.github import BranchHead, LibraryEntry

__all__ = [
    "BODY_CAP_KEY",
    "COMMIT_KEY",
    "ETAG_KEY",
    "LibraryWork",
    "plan_library_work",
    "run_library_stage",
    "usable_etag",
]

log = logging.getLogger(__name__)

#: sync_state: ETag of the last branch head whose library part synced cleanly
ETAG_KEY = "library.etag"
#: sync_state: the official-images commit of that branch head
COMMIT_KEY = "library.commit"
#: sync_state: the size cap in force then (a larger cap may now get oversized Dockerfiles)
BODY_CAP_KEY = "library.max_body_bytes"


async def usable_etag(ctx: RunContext) -> str | None:
    """The stored ETag, unless the size cap grew since (then the library is read again)."""
    async with ctx.database.session() as session:
        etag = await get_state(session, ETAG_KEY)
        cap = await get_state(session, BODY_CAP_KEY)
    if etag is None or cap is None or not cap.isdigit():
        return None
    return etag if int(cap) >= ctx.settings.max_body_bytes else None


@dataclass(frozen=True, slots=True)
class LibraryWork:
    """One library file to read."""

    name: str
    blob_sha: str
    #: ``changed`` (new or changed blob) or ``retry`` (same blob, builds to retry)
    reason: str


@dataclass(frozen=True, slots=True)
class _ParsedFile:
    work: LibraryWork
    parsed: LibraryFile
    #: the text, when it was fetched this run (stored with the repository)
    fetched_text: str | None


@dataclass
class _StageState:
    clean: bool = True
    writes: list[asyncio.Future[LibraryWriteResult]] = field(default_factory=list)
    #: told the name of each repository whose library file is committed
    on_written: Callable[[str], None] | None = None


async def _stored_blobs(session: AsyncSession) -> dict[str, str]:
    rows = await session.execute(
        select(ImageRepository.name, LibraryFileRow.blob_sha)
        .join(LibraryFileRow, LibraryFileRow.repository_id == ImageRepository.id)
        .where(ImageRepository.maintained.is_(True))
    )
    return {str(name): str(blob_sha) for name, blob_sha in rows}


async def _repositories_to_retry(ctx: RunContext, session: AsyncSession) -> set[str]:
    """Repositories with a build whose Dockerfile may be had now but is not stored."""
    rows = await session.execute(
        select(
            ImageRepository.name,
            Build.git_repo,
            Build.git_commit,
            Build.directory,
            Build.file,
            Build.builder,
        )
        .join(Stanza, Stanza.id == Build.stanza_id)
        .join(ImageRepository, ImageRepository.id == Stanza.repository_id)
        .where(Stanza.maintained.is_(True), Build.error.is_not(None))
    )
    wanted: dict[str, set[str]] = {}
    for name, git_repo, git_commit, directory, file, builder in rows:
        if builder == OCI_IMPORT or refused_reason(
            ctx.settings, git_repo, git_commit, directory, file
        ):
            continue
        content_id = dockerfile_content_id(git_repo, git_commit, directory, file)
        wanted.setdefault(content_id, set()).add(name)
    if not wanted:
        return set()
    stored = await cache.get_cached_many(session, cache.DOCKERFILE, wanted)
    cap = ctx.settings.max_body_bytes
    retry: set[str] = set()
    for content_id, names in wanted.items():
        entry = stored.get(content_id)
        settled = entry is not None and (
            entry.status != cache.TOO_LARGE or int(entry.content or 0) >= cap
        )
        if not settled:
            retry |= names
    return retry


async def plan_library_work(ctx: RunContext, files: Sequence[LibraryEntry]) -> list[LibraryWork]:
    """The library files this run reads, in name order."""
    async with ctx.database.session() as session:
        stored = await _stored_blobs(session)
        retry = await _repositories_to_retry(ctx, session)
    work = []
    for entry in sorted(files, key=lambda e: e.name):
        if stored.get(entry.name) != entry.sha:
            work.append(LibraryWork(entry.name, entry.sha, "changed"))
        elif entry.name in retry:
            work.append(LibraryWork(entry.name, entry.sha, "retry"))
    return work


async def _library_text(ctx: RunContext, work: LibraryWork, commit_sha: str) -> tuple[str, bool]:
    """The file's text and whether it was fetched now (else it came from the fetch cache)."""

    async def lookup(session: AsyncSession) -> CachedContent | None:
        return await cache.get_cached(session, cache.LIBRARY_FILE, work.blob_sha)

    entry = await ctx.reader.run_job(lookup)
    if entry is not None and entry.status == cache.OK and entry.content is not None:
        ctx.tally.library_files_from_cache += 1
        return entry.content, False
    text = await ctx.github.library_file(commit_sha, work.name)
    ctx.tally.library_files_fetched += 1
    return text, True


async def _read_files(
    ctx: RunContext,
    commit_sha: str,
    read_queue: asyncio.Queue[LibraryWork | None],
    parsed_queue: asyncio.Queue[_ParsedFile | None],
    state: _StageState,
) -> None:
    """Reader: library text (cache or upstream), parsed; stanza problems recorded."""
    while (work := await read_queue.get()) is not None:
        if ctx.stopping:
            state.clean = False
            continue
        try:
            text, fetched = await _library_text(ctx, work, commit_sha)
        except UpstreamError as exc:
            state.clean = False
            await ctx.item_error("library-file", work.name, exc)
            continue
        parsed = parse_library_file(work.name, text)
        for problem in parsed.errors:
            await ctx.item_error("library-file", f"{work.name}:{problem.line}", problem)
        await parsed_queue.put(_ParsedFile(work, parsed, text if fetched else None))


def _write_action(
    record: LibraryFileRecord,
    item: _ParsedFile,
    resolved: ResolvedLibraryFile,
    mark_links_stale: StaleLinksMark,
) -> StoreAction[LibraryWriteResult]:
    """The repository's transaction: fetched texts, the library file, the stale-links mark.

    Parent links are recomputed once, set-based, at the end of the run
    (:func:`indexer.sync.pipeline`); the mark makes a killed run's successor do it.
    """

    async def write(session: AsyncSession) -> LibraryWriteResult:
        if item.fetched_text is not None:
            await cache.put_cached_many(
                session,
                cache.LIBRARY_FILE,
                {record.blob_sha: CachedContent(cache.OK, item.fetched_text)},
            )
        if resolved.fetched:
            await cache.put_cached_many(session, cache.DOCKERFILE, resolved.fetched)
        result = await write_library_file(session, record)
        await mark_links_stale(session)
        return result

    return write


def _cache_action(item: _ParsedFile, resolved: ResolvedLibraryFile) -> StoreAction[None]:
    """Only the fetched contents (immutable, by content id) of a file that is not written."""

    async def write(session: AsyncSession) -> None:
        if item.fetched_text is not None:
            await cache.put_cached_many(
                session,
                cache.LIBRARY_FILE,
                {item.work.blob_sha: CachedContent(cache.OK, item.fetched_text)},
            )
        if resolved.fetched:
            await cache.put_cached_many(session, cache.DOCKERFILE, resolved.fetched)

    return write


def _forget(fetcher: DockerfileFetcher, fetched: list[str]) -> Callable[[None], None]:
    def done(_: None) -> None:
        fetcher.committed(fetched)

    return done


def _committed(
    ctx: RunContext,
    fetcher: DockerfileFetcher,
    record: LibraryFileRecord,
    fetched: list[str],
    on_written: Callable[[str], None] | None,
) -> Callable[[LibraryWriteResult], None]:
    """After the repository's commit: count it, let the fetcher forget the texts, and
    tell ``on_written``."""

    def done(result: LibraryWriteResult) -> None:
        fetcher.committed(fetched)
        if on_written is not None:
            on_written(record.name)
        tally = ctx.tally
        tally.library_files_written += 1
        tally.stanzas_written += result.stanzas_written
        tally.builds_written += result.builds_written
        for stanza in record.stanzas:
            for build in stanza.builds:
                if build.parent_ref is None:
                    tally.parents_unresolved += 1
                else:
                    tally.parents_resolved += 1
                if build.warnings:
                    tally.build_warnings += len(build.warnings)
                    tally.builds_with_warnings += 1

    return done


async def _resolve_files(
    ctx: RunContext,
    fetcher: DockerfileFetcher,
    commit_sha: str,
    parsed_queue: asyncio.Queue[_ParsedFile | None],
    state: _StageState,
) -> None:
    """Resolver: Dockerfiles and parents of one file at a time, then queued for writing."""
    while (item := await parsed_queue.get()) is not None:
        resolved = await resolve_library_file(ctx, fetcher, item.parsed)
        if resolved.retryable_failures:
            state.clean = False
            if ctx.stopping:
                # Dockerfiles the stop left unfetched: the stored version of the file
                # stays (the next run reads it again); what was fetched is kept
                cached = await ctx.writer.submit(
                    _cache_action(item, resolved),
                    on_commit=_forget(fetcher, list(resolved.fetched)),
                )
                await cached
                continue
        record = library_file_record(
            item.parsed,
            blob_sha=item.work.blob_sha,
            commit_sha=commit_sha,
            stanzas=resolved.stanzas,
        )
        future = await ctx.writer.submit(
            _write_action(record, item, resolved, ctx.links_stale),
            on_commit=_committed(ctx, fetcher, record, list(resolved.fetched), state.on_written),
        )
        state.writes.append(future)


async def _readers(
    ctx: RunContext,
    commit_sha: str,
    read_queue: asyncio.Queue[LibraryWork | None],
    parsed_queue: asyncio.Queue[_ParsedFile | None],
    state: _StageState,
    *,
    readers: int,
    resolvers: int,
) -> None:
    """Run the readers; when all are done, tell the resolvers there is no more."""
    async with asyncio.TaskGroup() as group:
        for _ in range(readers):
            group.create_task(_read_files(ctx, commit_sha, read_queue, parsed_queue, state))
    for _ in range(resolvers):
        await parsed_queue.put(None)


async def run_library_stage(
    ctx: RunContext,
    head: BranchHead,
    listing: Sequence[LibraryEntry],
    *,
    only: Sequence[str],
    on_written: Callable[[str], None] | None = None,
) -> bool:
    """Sync the library part; answers whether it was clean (nothing to retry).
    ``on_written``: told the name of each repository whose library file is committed."""
    files = [entry for entry in listing if entry.type == "file"]
    listed = {entry.name for entry in files}
    if only:
        for name in only:
            if name not in listed:
                ctx.tally.not_listed.append(name)
                await ctx.item_failed(
                    "library-file",
                    name,
                    "not-listed",
                    f"{name} is not in the library listing at {head.sha}",
                )
        files = [entry for entry in files if entry.name in set(only)]
    ctx.tally.library_files_listed = len(files)
    work = await plan_library_work(ctx, files)
    ctx.tally.library_files_to_read = len(work)
    log.info("library %s: %d files listed, %d to read", head.sha[:12], len(files), len(work))
    state = _StageState(on_written=on_written)
    concurrency = ctx.settings.concurrency
    readers = max(1, min(concurrency, len(work)))
    resolvers = max(1, min(concurrency, len(work)))
    read_queue: asyncio.Queue[LibraryWork | None] = asyncio.Queue(maxsize=concurrency)
    parsed_queue: asyncio.Queue[_ParsedFile | None] = asyncio.Queue(maxsize=concurrency)
    fetcher = DockerfileFetcher(ctx)
    async with asyncio.TaskGroup() as group:
        group.create_task(ctx.feed(read_queue, work, readers))
        group.create_task(
            _readers(
                ctx,
                head.sha,
                read_queue,
                parsed_queue,
                state,
                readers=readers,
                resolvers=resolvers,
            )
        )
        for _ in range(resolvers):
            group.create_task(_resolve_files(ctx, fetcher, head.sha, parsed_queue, state))
    await asyncio.gather(*state.writes)
    if ctx.stopping:
        return False
    if not only:
        await _finish_full_listing(ctx, head, listed, clean=state.clean)
    return state.clean


async def _finish_full_listing(
    ctx: RunContext, head: BranchHead, listed: set[str], *, clean: bool
) -> None:
    """Mark repositories gone from the listing; store the ETag if the part was clean."""

    async def write(session: AsyncSession) -> list[str]:
        gone = await mark_repositories_unmaintained(session, listed)
        if gone:
            await ctx.links_stale(session)
        # the ETag is a watermark: it advances only after a clean library part
        await set_state(session, ETAG_KEY, head.etag if clean else None)
        await set_state(session, COMMIT_KEY, head.sha)
        await set_state(session, BODY_CAP_KEY, str(ctx.settings.max_body_bytes))
        return gone

    gone = await ctx.writer.run_job(write)
    ctx.tally.repositories_unmaintained += len(gone)
    if gone:
        log.info("no longer in the library listing: %s", ", ".join(sorted(gone)))
