"""The registry stage: read each maintained tag's index once, then the layers where needed.

It needs the tags' current digests (the Hub stage) and, for the layers, the parent links:

1. **Indexes.** Every index digest a maintained tag names that is not stored yet
   (``registry_indexes``; aliases share one), read by digest, checked against it and
   stored with its platform entries' annotations. A body that does not hash to its
   digest, is too large or is no manifest is stored as ``rejected`` and recorded as an
   item error: it is never asked for again.
   These are read while the Hub stage still runs (:meth:`RegistryStage.read_while_paging`):
   each repository whose Hub paging and library file have been written (`Readiness`)
   has its indexes read at once, so the registry's requests use the request slots the
   other stages leave free while their rows are written. What that leaves (a repository
   not paged this run, a tag written after its repository was read) is read afterwards.
   The reads take turns among the repositories (`in_turns`), since each repository's
   first read waits for its token, and the readers never wait for their writes.
2. **Layers.** Platform images whose annotations give no usable base (none while
   the Dockerfile names a parent, or a base outside Docker Hub) get the layer check:
   the child's and the parent's platform manifests are read (once per digest ever,
   ``registry_manifests``), and ``registry_images.layer_check`` says whether the
   parent's layers are a prefix of the child's.

**Pull budget** (:class:`PullBudget`): every manifest GET is a pull. The first answer's
``ratelimit-remaining`` says how many are left; new GETs start only while more than
``registry_pull_reserve`` would remain after those in flight. A ``429`` ends the
reading too. What is left is counted (``registry_left_for_later``) and read by the
next runs; stopping for the budget is no error. Nothing to read (a night without
changes) makes no registry request at all.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from indexer.errors import (
    BodyTooLargeError,
    DigestMismatchError,
    RetryableUpstreamError,
    UpstreamError,
)
from indexer.lineage.layers import layer_check
from indexer.store.registry_writes import (
    LayerCheckTarget,
    RegistryIndexRecord,
    hub_platform_of,
    layer_check_targets,
    stored_layers,
    unread_indexes,
    write_layer_checks,
    write_registry_indexes,
    write_registry_manifests,
)
from indexer.sync.registry_records import image_record, single_manifest_record
from indexer.sync.run_context import RunContext, each, error_kind
from indexer.upstream.http import ShapeError
from indexer.upstream.registry import (
    Manifest,
    RegistryClient,
    index_entries,
    manifest_layers,
)

__all__ = ["PullBudget", "Readiness", "RegistryStage", "in_turns"]

log = logging.getLogger("indexer.sync")

#: indexes stored per writer job
_BATCH = 50
#: errors after which an answer is refused for good (stored, never asked again)
_REJECTED = (DigestMismatchError, BodyTooLargeError, ShapeError)


@dataclass
class PullBudget:
    """Admits manifest GETs while the registry's remaining pulls stay above the reserve."""

    reserve: int
    #: the lowest ``ratelimit-remaining`` seen this run; ``None``: not known yet
    remaining: int | None = None
    #: the registry sends no limit: every GET is admitted
    unlimited: bool = False
    spent: bool = False
    in_flight: int = 0
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def take(self) -> bool:
        """Wait until a GET may start; ``False`` once the budget is down to the reserve."""
        async with self._changed:
            while True:
                if self.spent:
                    return False
                if self.unlimited:
                    break
                if self.remaining is None:
                    if self.in_flight == 0:  # the first GET learns the budget
                        break
                elif self.remaining - self.in_flight > self.reserve:
                    break
                elif self.in_flight == 0:
                    self.spent = True
                    return False
                await self._changed.wait()
            self.in_flight += 1
            return True

    async def done(self, remaining: int | None, *, answered: bool) -> None:
        """One admitted GET ended; ``remaining`` as its answer said (``answered``: 2xx)."""
        async with self._changed:
            self.in_flight -= 1
            if remaining is not None:
                self.remaining = (
                    remaining if self.remaining is None else min(self.remaining, remaining)
                )
            elif answered and self.remaining is None:
                self.unlimited = True
            self._changed.notify_all()

    async def exhaust(self) -> None:
        """A ``429``: no more GETs this run."""
        async with self._changed:
            self.in_flight -= 1
            self.spent = True
            self._changed.notify_all()


@dataclass
class _Reading:
    ctx: RunContext
    registry: RegistryClient
    budget: PullBudget


async def _read(reading: _Reading, repository: str, digest: str) -> Manifest | Exception | None:
    """One GET under the budget: the manifest, the error that rejects it, or ``None``
    (not admitted, or failed in a way worth another try next run)."""
    budget, ctx = reading.budget, reading.ctx
    if not await budget.take():
        ctx.tally.registry_left_for_later += 1
        return None
    try:
        manifest = await reading.registry.manifest(repository, digest)
    except RetryableUpstreamError as exc:
        if exc.status == 429:
            await budget.exhaust()
            ctx.tally.registry_left_for_later += 1
            log.info("registry pull limit reached: the rest is left for the next run")
            return None
        await budget.done(None, answered=False)
        await ctx.item_error("registry-manifest", f"{repository}@{digest}", exc)
        return None
    except _REJECTED as exc:
        await budget.done(None, answered=False)
        await ctx.item_error("registry-manifest", f"{repository}@{digest}", exc)
        return exc
    except UpstreamError as exc:
        await budget.done(None, answered=False)
        await ctx.item_error("registry-manifest", f"{repository}@{digest}", exc)
        return None
    await budget.done(manifest.remaining, answered=True)
    return manifest


async def _index_record(
    reading: _Reading, repository: str, digest: str
) -> tuple[RegistryIndexRecord, tuple[str, list[str] | None, str | None] | None] | None:
    """Read one index; its record (and a single manifest's layers), or ``None``."""
    result = await _read(reading, repository, digest)
    if result is None:
        return None
    if isinstance(result, Exception):
        message = f"{error_kind(result)}: {result}"
        return RegistryIndexRecord(digest, repository, None, "rejected", message), None
    reading.ctx.tally.registry_indexes_read += 1
    try:
        if result.is_index:
            images = tuple(image_record(entry) for entry in index_entries(result.body))
            return RegistryIndexRecord(
                digest, repository, result.media_type, "ok", None, images
            ), None
        layers = manifest_layers(result.body)
    except ShapeError as exc:
        await reading.ctx.item_error("registry-manifest", f"{repository}@{digest}", exc)
        message = f"{error_kind(exc)}: {exc}"
        return RegistryIndexRecord(digest, repository, result.media_type, "rejected", message), None
    platform = await reading.ctx.reader.run_job(lambda s: hub_platform_of(s, digest))
    image = single_manifest_record(digest, platform or ("unknown", "unknown", None))
    record = RegistryIndexRecord(digest, repository, result.media_type, "ok", None, (image,))
    return record, (digest, layers, None)


def in_turns(targets: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """``(repository, digest)`` targets reordered to take turns among the repositories
    (the first of each, then the second of each, ...), each repository's in its order."""
    by_repository: dict[str, list[tuple[str, str]]] = {}
    for target in targets:
        by_repository.setdefault(target[0], []).append(target)
    turns = itertools.zip_longest(*by_repository.values())
    return [target for turn in turns for target in turn if target is not None]


async def _read_indexes(
    reading: _Reading, targets: Iterable[tuple[str, str]] | AsyncIterable[tuple[str, str]]
) -> None:
    """Read ``(repository, index digest)`` targets as they come, ``concurrency`` at a time.

    The workers never wait for a write: a full batch of records goes to the writer and
    the worker reads on; the writes are awaited at the end, so what this stored is
    committed when it returns. A digest comes up once per call (aliases across
    repositories: the targets of later batches are looked up before earlier ones land).
    """
    ctx = reading.ctx
    workers = ctx.settings.concurrency  # the pull budget, not this, bounds the pulls
    queue: asyncio.Queue[tuple[str, str] | None] = asyncio.Queue(maxsize=workers * 2)
    records: list[RegistryIndexRecord] = []
    manifests: list[tuple[str, list[str] | None, str | None]] = []
    writes: list[asyncio.Future[None]] = []
    queued: set[str] = set()

    async def flush() -> None:
        batch, layers = records[:], manifests[:]
        records.clear()
        manifests.clear()

        async def write(session: AsyncSession) -> None:
            await write_registry_indexes(session, batch)
            await write_registry_manifests(session, layers)

        if batch or layers:
            writes.append(await ctx.writer.submit(write))

    async def worker() -> None:
        while (item := await queue.get()) is not None:
            found = await _index_record(reading, *item)
            if found is None:
                continue
            records.append(found[0])
            if found[1] is not None:
                manifests.append(found[1])
            if len(records) >= _BATCH:
                await flush()

    async def fresh() -> AsyncIterator[tuple[str, str]]:
        async for target in each(targets):
            if target[1] not in queued:
                queued.add(target[1])
                yield target

    async with asyncio.TaskGroup() as group:
        for _ in range(workers):
            group.create_task(worker())
        await ctx.feed(queue, fresh(), workers)
    await flush()
    for written in writes:
        await written


async def _check_layers(reading: _Reading, targets: Sequence[LayerCheckTarget]) -> None:
    ctx = reading.ctx
    wanted = {t.manifest_digest: t.repository for t in targets}
    wanted.update({t.parent_manifest_digest: t.parent_repository for t in targets})
    layers = await ctx.reader.run_job(lambda s: stored_layers(s, list(wanted)))
    missing = sorted(set(wanted) - set(layers))
    read: list[tuple[str, list[str] | None, str | None]] = []

    async def one(digest: str) -> None:
        result = await _read(reading, wanted[digest], digest)
        if result is None:
            return
        if isinstance(result, Exception):
            read.append((digest, None, f"{error_kind(result)}: {result}"))
            return
        try:
            found = manifest_layers(result.body)
        except ShapeError as exc:
            await ctx.item_error("registry-manifest", f"{wanted[digest]}@{digest}", exc)
            read.append((digest, None, f"{error_kind(exc)}: {exc}"))
            return
        ctx.tally.registry_manifests_read += 1
        read.append((digest, found, None))

    semaphore = asyncio.Semaphore(ctx.settings.concurrency)

    async def bounded(digest: str) -> None:
        async with semaphore:
            if not ctx.stopping:
                await one(digest)

    async with asyncio.TaskGroup() as group:
        for digest in missing:
            group.create_task(bounded(digest))
    layers.update((digest, found) for digest, found, _ in read)
    checks = [
        (t.image_id, layer_check(parent, child))
        for t in targets
        if (child := layers.get(t.manifest_digest)) is not None
        and (parent := layers.get(t.parent_manifest_digest)) is not None
    ]

    async def write(session: AsyncSession) -> None:
        await write_registry_manifests(session, read)
        await write_layer_checks(session, checks)

    if read or checks:
        await ctx.writer.run_job(write)


_PAGED = "paged"
_WRITTEN = "written"


@dataclass
class Readiness:
    """When a repository's indexes may be read: once its Hub paging is written (its tags'
    digests) and its library file is written (which of its tags are maintained), or
    the whole library part is (a file not read this run, or none to read).

    The stages tell it (`paged`, `written`, and ``None`` for "all of them"), from the
    loop; `ready` yields the repositories as they become ready.
    """

    _events: asyncio.Queue[tuple[str, str | None]] = field(default_factory=asyncio.Queue)

    def paged(self, name: str | None) -> None:
        """``name``'s Hub paging is written; ``None``: the Hub stage is over."""
        self._events.put_nowait((_PAGED, name))

    def written(self, name: str | None) -> None:
        """``name``'s library file is written; ``None``: the library part is over."""
        self._events.put_nowait((_WRITTEN, name))

    async def ready(self) -> AsyncIterator[list[str]]:
        """Batches of repositories that became ready (the ones told meanwhile, together),
        until both stages are over."""
        paged: set[str] = set()
        written: set[str] = set()
        started: set[str] = set()
        over: set[str] = set()  # the stages that are over
        while over != {_PAGED, _WRITTEN}:
            events = [await self._events.get()]
            while not self._events.empty():
                events.append(self._events.get_nowait())
            for kind, name in events:
                if name is None:
                    over.add(kind)
                else:
                    (paged if kind == _PAGED else written).add(name)
            library_over = _WRITTEN in over
            ready = sorted(name for name in paged - started if library_over or name in written)
            started.update(ready)
            if ready:
                yield ready


class RegistryStage:
    """The registry reading of one run: indexes while the Hub is paged, then the rest.

    One pull budget for the whole run.
    """

    def __init__(self, ctx: RunContext, registry: RegistryClient) -> None:
        self._reading = _Reading(ctx, registry, PullBudget(ctx.settings.registry_pull_reserve))

    async def _unread(self, repositories: Sequence[str]) -> list[tuple[str, str]]:
        """The unread indexes of ``repositories``, taking turns among the repositories:
        each needs its own token first, and readers of one repository would all wait
        for that one request."""
        unread = await self._reading.ctx.reader.run_job(lambda s: unread_indexes(s, repositories))
        return in_turns(unread)

    async def read_while_paging(self, readiness: Readiness) -> None:
        """Read the indexes of each repository as `Readiness` finds it ready. The names
        found ready together are looked up together; their targets join the reading in
        flight, so the request slots stay busy from one batch to the next."""

        async def targets() -> AsyncIterator[tuple[str, str]]:
            async for names in readiness.ready():
                for target in await self._unread(names):
                    yield target

        await _read_indexes(self._reading, targets())

    async def finish(self, only: Sequence[str] = ()) -> None:
        """After the parent links: the indexes still unread, then the layer checks."""
        ctx = self._reading.ctx
        if ctx.stopping:
            return
        unread = await self._unread(only)
        if unread:
            await _read_indexes(self._reading, unread)
        checks = await ctx.reader.run_job(lambda s: layer_check_targets(s, only))
        if checks and not ctx.stopping:
            await _check_layers(self._reading, checks)
        if ctx.tally.registry_left_for_later:
            log.info(
                "registry: %d reads left for the next run (pull budget)",
                ctx.tally.registry_left_for_later,
            )
