"""The Dockerfile stage: get each build's Dockerfile (at most once, ever) and resolve its parent.

A Dockerfile is identified by (GitRepo, GitCommit, Directory, File) and never changes,
so it is looked up, in this order: in this run's own table (fetched or being fetched by
another repository), in the ``fetch_cache`` table (``ok`` or ``missing``: never asked
again), and only then upstream. Builds whose GitRepo host is not allowed are never
requested: the build gets the error ``unsupported GitRepo host ...``. ``oci-import``
builds need no Dockerfile (parent ``scratch``).

A build whose Dockerfile cannot be had (404, too large, failed after retries) or
cannot be parsed gets parent NULL and the reason in ``error``. Each Dockerfile that
fails this run is recorded once as an item error of the run.

What was fetched is written to ``fetch_cache`` in the transaction of the repository
that needed it (see :mod:`indexer.sync.library_stage`); until then other repositories
of the same run find it in the run's table, afterwards in the database.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from indexer.errors import (
    BodyTooLargeError,
    DockerfileError,
    ForbiddenTargetError,
    NotFoundError,
    UpstreamError,
)
from indexer.parsing.dockerfile import OCI_IMPORT, DockerfileResolution, resolve_build
from indexer.parsing.library_file import ArchBuild, LibraryFile
from indexer.settings import Settings
from indexer.store import cache
from indexer.store.cache import CachedContent, dockerfile_content_id
from indexer.store.records import StanzaRecord
from indexer.sync.records import build_record, stanza_record
from indexer.sync.run_context import RunContext
from indexer.upstream.github import dockerfile_url

__all__ = [
    "DockerfileFetcher",
    "DockerfileKey",
    "DockerfileOutcome",
    "ResolvedLibraryFile",
    "refused_reason",
    "resolve_library_file",
]

log = logging.getLogger(__name__)

#: outcome statuses besides the cache's ``ok``/``missing``/``too-large``
FAILED: Final = "failed"


@dataclass(frozen=True, slots=True)
class DockerfileKey:
    """Where a Dockerfile lives: its content id."""

    git_repo: str
    git_commit: str
    directory: str
    file: str

    @classmethod
    def of(cls, build: ArchBuild) -> DockerfileKey:
        return cls(build.git_repo, build.git_commit, build.directory, build.file)

    @property
    def content_id(self) -> str:
        return dockerfile_content_id(self.git_repo, self.git_commit, self.directory, self.file)


@dataclass(frozen=True, slots=True)
class DockerfileOutcome:
    """What became of one Dockerfile: its text, or why there is none."""

    #: ok, missing, too-large or failed
    status: str
    text: str | None = None
    #: why there is no text (for the build's ``error``)
    reason: str | None = None
    #: obtained from upstream during this run (to be written to the fetch cache)
    fetched: bool = False
    #: for too-large: the size cap in force when it was asked
    cap: int | None = None

    @property
    def retryable(self) -> bool:
        """Failed for a reason that may pass (asked again by a later run)."""
        return self.status == FAILED

    def cache_entry(self) -> CachedContent | None:
        """The fetch-cache entry to store, or ``None`` for a failure worth retrying."""
        if self.status == cache.OK:
            return CachedContent(cache.OK, self.text)
        if self.status == cache.MISSING:
            return CachedContent(cache.MISSING)
        if self.status == cache.TOO_LARGE:
            return CachedContent(cache.TOO_LARGE, str(self.cap))
        return None


def _from_cache(
    entry: CachedContent, key: DockerfileKey, max_body_bytes: int
) -> DockerfileOutcome | None:
    """The outcome a cache entry stands for; ``None`` when it must be asked again."""
    if entry.status == cache.OK:
        return DockerfileOutcome(cache.OK, text=entry.content or "")
    if entry.status == cache.MISSING:
        return DockerfileOutcome(cache.MISSING, reason=f"Dockerfile not found: {key.content_id}")
    if entry.status == cache.TOO_LARGE:
        cap = int(entry.content) if entry.content and entry.content.isdigit() else 0
        if cap >= max_body_bytes:
            return DockerfileOutcome(
                cache.TOO_LARGE, reason=f"Dockerfile larger than {cap} bytes", cap=cap
            )
    return None


class _Committed:
    """Marker: this Dockerfile's outcome is now in the fetch cache table."""


_COMMITTED: Final = _Committed()


def _consume_exception(future: asyncio.Future[DockerfileOutcome]) -> None:
    if not future.cancelled():
        future.exception()


class DockerfileFetcher:
    """Dockerfile outcomes for one run: each content id is fetched at most once."""

    def __init__(self, ctx: RunContext) -> None:
        self._ctx = ctx
        self._entries: dict[str, asyncio.Future[DockerfileOutcome] | _Committed] = {}

    def committed(self, content_ids: Iterable[str]) -> None:
        """These outcomes are stored now: forget their texts, look them up in the store."""
        for content_id in content_ids:
            entry = self._entries.get(content_id)
            if isinstance(entry, asyncio.Future) and entry.done():
                self._entries[content_id] = _COMMITTED

    async def outcomes(self, keys: Iterable[DockerfileKey]) -> dict[str, DockerfileOutcome]:
        """The outcome of every key, by content id (fetching what nobody has yet)."""
        wanted = {key.content_id: key for key in keys}
        found: dict[str, DockerfileOutcome] = {}
        waiting: dict[str, asyncio.Future[DockerfileOutcome]] = {}
        lookup: list[str] = []
        for content_id in wanted:
            entry = self._entries.get(content_id)
            if isinstance(entry, asyncio.Future):
                waiting[content_id] = entry
            else:
                lookup.append(content_id)
                if entry is None:
                    self._ctx.tally.dockerfiles_needed += 1
        to_fetch: list[tuple[DockerfileKey, asyncio.Future[DockerfileOutcome]]] = []
        for attempt in range(2):
            if not lookup:
                break
            stored = await self._lookup(lookup, wanted)
            found.update(stored)
            again: list[str] = []
            for content_id in lookup:
                if content_id in stored:
                    continue
                entry = self._entries.get(content_id)
                if isinstance(entry, asyncio.Future):
                    waiting[content_id] = entry
                elif entry is _COMMITTED and attempt == 0:
                    again.append(content_id)  # stored while we looked: look once more
                else:
                    future = asyncio.get_running_loop().create_future()
                    future.add_done_callback(_consume_exception)
                    self._entries[content_id] = future
                    waiting[content_id] = future
                    to_fetch.append((wanted[content_id], future))
            lookup = again
        if to_fetch:
            await asyncio.gather(*(self._fetch(key, future) for key, future in to_fetch))
        for content_id, future in waiting.items():
            found[content_id] = await future
        return found

    async def _lookup(
        self, content_ids: list[str], wanted: dict[str, DockerfileKey]
    ) -> dict[str, DockerfileOutcome]:
        """Outcomes stored by earlier runs (or committed earlier in this one)."""
        max_bytes = self._ctx.settings.max_body_bytes

        async def lookup(session: AsyncSession) -> dict[str, CachedContent]:
            return await cache.get_cached_many(session, cache.DOCKERFILE, content_ids)

        entries = await self._ctx.reader.run_job(lookup)
        found = {}
        for content_id, entry in entries.items():
            outcome = _from_cache(entry, wanted[content_id], max_bytes)
            if outcome is not None:
                found[content_id] = outcome
        self._ctx.tally.dockerfiles_from_cache += len(found)
        return found

    async def _fetch(self, key: DockerfileKey, future: asyncio.Future[DockerfileOutcome]) -> None:
        """Fetch one Dockerfile and settle ``future`` (others of this run may wait on it)."""
        try:
            outcome = await self._fetch_outcome(key)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            if not future.done():
                future.set_exception(exc)
            raise
        future.set_result(outcome)

    async def _fetch_outcome(self, key: DockerfileKey) -> DockerfileOutcome:
        ctx = self._ctx
        tally = ctx.tally
        try:
            text = await ctx.github.dockerfile(
                key.git_repo, key.git_commit, key.directory, key.file
            )
        except NotFoundError as exc:
            tally.dockerfiles_missing += 1
            await ctx.item_error("dockerfile", key.content_id, exc)
            return DockerfileOutcome(
                cache.MISSING, reason=f"Dockerfile not found (404): {exc.url}", fetched=True
            )
        except BodyTooLargeError as exc:
            tally.dockerfiles_failed += 1
            await ctx.item_error("dockerfile", key.content_id, exc)
            cap = ctx.settings.max_body_bytes
            return DockerfileOutcome(
                cache.TOO_LARGE,
                reason=f"Dockerfile larger than {cap} bytes: {exc.url}",
                fetched=True,
                cap=cap,
            )
        except UpstreamError as exc:
            tally.dockerfiles_failed += 1
            await ctx.item_error("dockerfile", key.content_id, exc)
            return DockerfileOutcome(
                FAILED, reason=f"Dockerfile could not be fetched: {exc}", fetched=True
            )
        tally.dockerfiles_fetched += 1
        return DockerfileOutcome(cache.OK, text=text, fetched=True)


@dataclass
class ResolvedLibraryFile:
    """A library file's stanzas with resolved builds, and what was fetched for them."""

    stanzas: list[StanzaRecord]
    #: fetch-cache entries to store with the repository (content id -> entry)
    fetched: dict[str, CachedContent] = field(default_factory=dict)
    #: Dockerfiles that failed in a way worth retrying next run
    retryable_failures: int = 0


#: what a build needs: a Dockerfile, nothing (oci-import), or it may not be fetched (reason)
_Target = DockerfileKey | str | None


@functools.lru_cache(maxsize=4096)
def refused_reason(
    settings: Settings, git_repo: str, git_commit: str, directory: str, file: str
) -> str | None:
    """Why this Dockerfile may not be fetched (``unsupported GitRepo host ...``), or ``None``."""
    try:
        dockerfile_url(settings, git_repo, git_commit, directory, file)
    except ForbiddenTargetError as exc:
        return exc.message
    return None


def _target(ctx: RunContext, build: ArchBuild) -> _Target:
    if build.builder == OCI_IMPORT:
        return None
    refused = refused_reason(
        ctx.settings, build.git_repo, build.git_commit, build.directory, build.file
    )
    return refused if refused is not None else DockerfileKey.of(build)


class _Resolver:
    """Resolves builds, once per (Dockerfile, architecture) when the text uses variables."""

    def __init__(self) -> None:
        self._memo: dict[
            tuple[str, str | None, str | None], DockerfileResolution | DockerfileError
        ] = {}

    def resolve(
        self, build: ArchBuild, content_id: str, text: str | None
    ) -> DockerfileResolution | DockerfileError:
        architecture = build.architecture if text is None or "$" in text else None
        memo_key = (content_id, architecture, build.builder)
        known = self._memo.get(memo_key)
        if known is not None:
            return known
        result: DockerfileResolution | DockerfileError
        try:
            result = resolve_build(
                build.builder, text, architecture=build.architecture, source=content_id
            )
        except DockerfileError as exc:
            result = exc
        self._memo[memo_key] = result
        return result


async def resolve_library_file(
    ctx: RunContext, fetcher: DockerfileFetcher, parsed: LibraryFile
) -> ResolvedLibraryFile:
    """Get the Dockerfiles of every build of ``parsed`` and resolve each build's parent."""
    targets = {
        (index, build.architecture): _target(ctx, build)
        for index, stanza in enumerate(parsed.stanzas)
        for build in stanza.builds
    }
    keys = [target for target in targets.values() if isinstance(target, DockerfileKey)]
    outcomes = await fetcher.outcomes(keys)
    result = ResolvedLibraryFile(stanzas=[])
    for content_id, outcome in outcomes.items():
        entry = outcome.cache_entry() if outcome.fetched else None
        if entry is not None:
            result.fetched[content_id] = entry
        if outcome.fetched and outcome.retryable:
            result.retryable_failures += 1
    resolver = _Resolver()
    reported: set[str] = set()
    for index, stanza in enumerate(parsed.stanzas):
        builds = []
        for build in stanza.builds:
            target = targets[index, build.architecture]
            if isinstance(target, str):
                ctx.tally.unsupported_builds += 1
                builds.append(build_record(build, parent_ref=None, froms=None, error=target))
                continue
            content_id = target.content_id if target is not None else OCI_IMPORT
            dockerfile = outcomes.get(content_id) if target is not None else None
            if dockerfile is not None and dockerfile.status != cache.OK:
                builds.append(
                    build_record(build, parent_ref=None, froms=None, error=dockerfile.reason)
                )
                continue
            text = dockerfile.text if dockerfile is not None else None
            resolved = resolver.resolve(build, content_id, text)
            if isinstance(resolved, DockerfileError):
                if content_id not in reported:
                    reported.add(content_id)
                    await ctx.item_error("dockerfile", content_id, resolved)
                builds.append(build_record(build, parent_ref=None, froms=None, error=str(resolved)))
                continue
            builds.append(
                build_record(
                    build,
                    parent_ref=resolved.parent,
                    froms=resolved.froms,
                    error=None,
                    warnings=resolved.warnings,
                )
            )
        result.stanzas.append(stanza_record(stanza, builds))
    return result
