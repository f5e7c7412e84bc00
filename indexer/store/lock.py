"""The single-run lock: one sync at a time, across processes and machines.

::

    async with sync_lock(database) as lock:      # SyncLockedError at once when held
        ...                                       # the whole run
    async with sync_lock(database, wait=True):   # polls until the holder is done
        ...

PostgreSQL
    ``pg_try_advisory_lock(SYNC_LOCK_KEY)`` on a connection of its own, held for the
    whole run. The lock belongs to the server session, so it is released when the
    holder disconnects, including when its process is killed. The holder also writes
    who it is into ``sync_state`` (key ``sync_lock``), only so that a refused
    contender can say who holds the lock; the advisory lock alone decides.

SQLite
    The row ``sync_lock`` of ``sync_state`` is the lock: ``value`` names the holder
    (JSON: pid, host, pid namespace, start time, a random token), ``updated_at`` is
    its heartbeat, refreshed every ``heartbeat_seconds`` by a background task. A
    holder whose heartbeat is older than ``stale_after_seconds``, or whose process
    is gone (same host and pid namespace only), is taken over. Taking the lock is a
    compare-and-swap ``UPDATE … WHERE value IS <seen> AND updated_at = <seen>``
    inside a write transaction, so of two contenders exactly one wins.

A holder that loses its lock (the PostgreSQL connection broke, or a SQLite holder
was taken over after a long stall) logs an error and sets :attr:`HeldLock.lost`; the
run goes on, its writes are idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from indexer.errors import SyncLockedError
from indexer.store.db import Database
from indexer.store.models import SyncState, utcnow

__all__ = [
    "LOCK_STATE_KEY",
    "SYNC_LOCK_KEY",
    "HeldLock",
    "LockHolder",
    "read_holder",
    "sync_lock",
]

logger = logging.getLogger(__name__)

#: the PostgreSQL advisory lock id of the sync (migrations use 0x1D3E_0001)
SYNC_LOCK_KEY = 0x1D3E_0002
#: the ``sync_state`` row that names the holder (and, on SQLite, is the lock)
LOCK_STATE_KEY = "sync_lock"


def _pid_namespace() -> str:
    """This process's pid namespace (``pid:[4026531836]``); empty where unknown."""
    try:
        return str(Path("/proc/self/ns/pid").readlink())
    except OSError:
        return ""


def _process_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host (and pid namespace) still runs; zombies do not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return True
    # the state letter follows the parenthesised command name
    return stat.rpartition(")")[2].split()[:1] not in (["Z"], ["X"])


@dataclass(frozen=True, slots=True)
class LockHolder:
    """Who holds (or held) the lock."""

    pid: int
    host: str
    started_at: datetime
    namespace: str = ""
    token: str = field(default_factory=lambda: secrets.token_hex(8))

    @classmethod
    def this_process(cls) -> LockHolder:
        return cls(
            pid=os.getpid(),
            host=socket.gethostname(),
            started_at=utcnow(),
            namespace=_pid_namespace(),
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "pid": self.pid,
                "host": self.host,
                "namespace": self.namespace,
                "started_at": self.started_at.isoformat(),
                "token": self.token,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, value: str | None) -> LockHolder | None:
        """The holder stored in ``value``; ``None`` when empty or unreadable."""
        if not value:
            return None
        try:
            data: dict[str, Any] = json.loads(value)
            return cls(
                pid=int(data["pid"]),
                host=str(data["host"]),
                started_at=datetime.fromisoformat(str(data["started_at"])),
                namespace=str(data.get("namespace", "")),
                token=str(data.get("token", "")),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def describe(self) -> str:
        since = self.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"since {since}, pid {self.pid}, host {self.host}"

    def is_dead_local_process(self) -> bool:
        """True only when the holder ran on this host and pid namespace and is gone."""
        here = LockHolder.this_process()
        if (self.host, self.namespace) != (here.host, here.namespace):
            return False
        return not _process_alive(self.pid)


def _locked_error(holder: LockHolder | None) -> SyncLockedError:
    detail = holder.describe() if holder else "holder unknown"
    return SyncLockedError(f"another sync is running ({detail})")


def _upsert(connection: AsyncConnection) -> Any:
    module = postgresql if connection.dialect.name == "postgresql" else sqlite
    return module.insert(SyncState)


async def read_holder(database: Database) -> tuple[LockHolder | None, datetime | None]:
    """The holder named in ``sync_state`` and its last heartbeat (informational on PostgreSQL)."""
    async with database.engine.connect() as connection:
        row = (
            await connection.execute(
                select(SyncState.value, SyncState.updated_at).where(SyncState.key == LOCK_STATE_KEY)
            )
        ).first()
    if row is None:
        return None, None
    return LockHolder.from_json(row.value), row.updated_at


class HeldLock:
    """The lock while held: who holds it, and whether it was lost underway."""

    def __init__(self, holder: LockHolder, backend: str) -> None:
        self.holder = holder
        self.backend = backend
        self._lost = False

    @property
    def lost(self) -> bool:
        return self._lost

    def mark_lost(self, reason: str) -> None:
        if not self._lost:
            logger.error("lost the sync lock: %s", reason)
        self._lost = True


# --- SQLite: a row in sync_state with a heartbeat -----------------------------------------


async def _sqlite_try_acquire(
    database: Database, holder: LockHolder, stale_after: timedelta
) -> tuple[bool, LockHolder | None]:
    """Take the lock row if free or stale: (taken, the holder seen before)."""
    value = holder.to_json()
    current: LockHolder | None = None
    for _ in range(3):
        async with database.engine.begin() as connection:
            # the INSERT opens SQLite's write transaction: the read below cannot go stale
            await connection.execute(
                _upsert(connection)
                .values(key=LOCK_STATE_KEY, value=None, updated_at=utcnow())
                .on_conflict_do_nothing(index_elements=["key"])
            )
            seen = (
                await connection.execute(
                    select(SyncState.value, SyncState.updated_at).where(
                        SyncState.key == LOCK_STATE_KEY
                    )
                )
            ).one()
            current = LockHolder.from_json(seen.value)
            free = current is None or seen.updated_at < utcnow() - stale_after
            if not free and current is not None and not current.is_dead_local_process():
                return False, current
            swapped = await connection.execute(
                update(SyncState)
                .where(
                    SyncState.key == LOCK_STATE_KEY,
                    SyncState.value.is_(None)
                    if seen.value is None
                    else SyncState.value == seen.value,
                    SyncState.updated_at == seen.updated_at,
                )
                .values(value=value, updated_at=utcnow())
            )
            if swapped.rowcount == 1:
                if current is not None:
                    logger.warning("took over the stale sync lock (%s)", current.describe())
                return True, current
    return False, current


async def _sqlite_heartbeat(database: Database, lock: HeldLock) -> bool:
    """Refresh the heartbeat; False when the row no longer names this holder."""
    async with database.engine.begin() as connection:
        result = await connection.execute(
            update(SyncState)
            .where(SyncState.key == LOCK_STATE_KEY, SyncState.value == lock.holder.to_json())
            .values(updated_at=utcnow())
        )
    return result.rowcount == 1


async def _sqlite_release(database: Database, lock: HeldLock) -> None:
    async with database.engine.begin() as connection:
        await connection.execute(
            update(SyncState)
            .where(SyncState.key == LOCK_STATE_KEY, SyncState.value == lock.holder.to_json())
            .values(value=None, updated_at=utcnow())
        )


# --- PostgreSQL: a session-level advisory lock --------------------------------------------


async def _pg_try_acquire(connection: AsyncConnection) -> bool:
    locked = (
        await connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": SYNC_LOCK_KEY})
    ).scalar_one()
    # end the transaction: the lock is the session's, and no idle-in-transaction for hours
    await connection.commit()
    return bool(locked)


async def _pg_write_holder(connection: AsyncConnection, holder: LockHolder | None) -> None:
    """Record (or, with ``None``, clear) the holder's name; informational only."""
    stmt = _upsert(connection).values(
        key=LOCK_STATE_KEY, value=holder.to_json() if holder else None, updated_at=utcnow()
    )
    await connection.execute(
        stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
        )
    )
    await connection.commit()


async def _pg_heartbeat(connection: AsyncConnection, lock: HeldLock) -> bool:
    """Touch the holder row on the lock's own connection; False when it is broken."""
    try:
        await connection.execute(
            update(SyncState).where(SyncState.key == LOCK_STATE_KEY).values(updated_at=utcnow())
        )
        await connection.commit()
    except (SQLAlchemyError, OSError) as exc:
        lock.mark_lost(f"the lock connection broke: {getattr(exc, 'orig', None) or exc}")
        return False
    return True


async def _pg_release(connection: AsyncConnection) -> None:
    try:
        await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SYNC_LOCK_KEY})
        await _pg_write_holder(connection, None)
    except (SQLAlchemyError, OSError):
        # ending the server session releases the lock just as well
        with contextlib.suppress(SQLAlchemyError, OSError):
            await connection.invalidate()


# --- the context manager ------------------------------------------------------------------


async def _heartbeat_loop(
    database: Database, lock: HeldLock, connection: AsyncConnection | None, interval: float
) -> None:
    while not lock.lost:
        await asyncio.sleep(interval)
        if connection is not None:
            if not await _pg_heartbeat(connection, lock):
                return
            continue
        try:
            if not await _sqlite_heartbeat(database, lock):
                lock.mark_lost("another process took the lock over")
        except DBAPIError as exc:  # e.g. "database is locked" under a long write
            logger.warning("sync lock heartbeat failed, will retry: %s", exc.orig or exc)


@asynccontextmanager
async def _beating(
    database: Database, lock: HeldLock, connection: AsyncConnection | None, interval: float
) -> AsyncIterator[None]:
    """The holder's heartbeat (`_heartbeat_loop`) while the body runs."""
    beat = asyncio.create_task(_heartbeat_loop(database, lock, connection, interval))
    try:
        yield
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat


@asynccontextmanager
async def _held_sqlite(
    database: Database,
    *,
    wait: bool,
    poll_seconds: float,
    heartbeat_seconds: float,
    stale_after_seconds: float,
) -> AsyncIterator[HeldLock]:
    holder = LockHolder.this_process()
    stale_after = timedelta(seconds=stale_after_seconds)
    while True:
        taken, current = await _sqlite_try_acquire(database, holder, stale_after)
        if taken:
            break
        if not wait:
            raise _locked_error(current)
        await asyncio.sleep(poll_seconds)
    lock = HeldLock(holder, "sqlite")
    try:
        async with _beating(database, lock, None, heartbeat_seconds):
            yield lock
    finally:
        await _sqlite_release(database, lock)


@asynccontextmanager
async def _held_postgresql(
    database: Database, *, wait: bool, poll_seconds: float, heartbeat_seconds: float
) -> AsyncIterator[HeldLock]:
    holder = LockHolder.this_process()
    connection = await database.engine.connect()
    try:
        while not await _pg_try_acquire(connection):
            if not wait:
                current, _ = await read_holder(database)
                raise _locked_error(current)
            await asyncio.sleep(poll_seconds)
        lock = HeldLock(holder, "postgresql")
        try:
            await _pg_write_holder(connection, holder)
            async with _beating(database, lock, connection, heartbeat_seconds):
                yield lock
        finally:
            await _pg_release(connection)
    finally:
        await connection.close()


@asynccontextmanager
async def sync_lock(
    database: Database,
    *,
    wait: bool = False,
    poll_seconds: float = 1.0,
    heartbeat_seconds: float = 15.0,
    stale_after_seconds: float = 120.0,
) -> AsyncIterator[HeldLock]:
    """Hold the single-run lock for the body of the ``async with``.

    Raises :class:`SyncLockedError` ("another sync is running (since …, pid …, host …)")
    at once when another holder has it and ``wait`` is false; with ``wait`` it tries
    again every ``poll_seconds`` until it gets the lock. ``heartbeat_seconds`` and
    ``stale_after_seconds`` tune the holder's heartbeat (and, on SQLite, when a silent
    holder counts as dead).
    """
    if database.dialect == "postgresql":
        async with _held_postgresql(
            database, wait=wait, poll_seconds=poll_seconds, heartbeat_seconds=heartbeat_seconds
        ) as lock:
            yield lock
        return
    async with _held_sqlite(
        database,
        wait=wait,
        poll_seconds=poll_seconds,
        heartbeat_seconds=heartbeat_seconds,
        stale_after_seconds=stale_after_seconds,
    ) as lock:
        yield lock
