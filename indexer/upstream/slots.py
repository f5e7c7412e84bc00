"""`PrioritySlots`: the request slots of a run, handed out by priority.

A plain `asyncio.Semaphore` serves waiters first come, first served. A sync queues
hundreds of independent Dockerfile fetches next to a few long *chains*: a
repository's Hub tag pages, each of which only becomes known from the one before
it (its ``next`` link). First come, first served makes every link of a chain wait
behind the queued leaves, so the longest chains finish long after everything else
and the run ends in a tail of one or two requests in flight. Serving the chains
(and the library files that reveal the Dockerfiles) before the leaves keeps the
slots full to the end: the leaves fill whatever the chains leave free.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools

__all__ = ["PrioritySlots"]


class PrioritySlots:
    """A semaphore whose waiters are served lowest priority number first, FIFO within one.

    A slot given back goes straight to the best waiter, so a newcomer never overtakes
    someone already waiting. A waiter cancelled after it was handed a slot gives the
    slot back.
    """

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("at least one slot is needed")
        self._free = slots
        #: (priority, arrival, future); cancelled futures stay until popped
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    @property
    def free(self) -> int:
        """Slots nobody holds right now."""
        return self._free

    @property
    def waiting(self) -> int:
        """Callers waiting for a slot."""
        return sum(1 for _, _, future in self._waiters if not future.done())

    async def acquire(self, priority: int = 0) -> None:
        """Take a slot, waiting behind every caller of a lower (or equal, earlier) priority."""
        # a free slot implies nobody waits: release() hands slots to waiters first
        if self._free > 0:
            self._free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._arrivals), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # handed over just before the cancellation landed
            raise

    def release(self) -> None:
        """Give a slot back: to the best live waiter, else to the free pool."""
        while self._waiters:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(None)
                return
        self._free += 1
