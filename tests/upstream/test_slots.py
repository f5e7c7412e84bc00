"""PrioritySlots: a semaphore that serves the lowest priority number first, FIFO within one."""

from __future__ import annotations

import asyncio

import pytest

from indexer.upstream.slots import PrioritySlots


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.mark.asyncio
async def test_free_slots_are_taken_at_once_and_given_back() -> None:
    slots = PrioritySlots(2)
    await slots.acquire(2)
    await slots.acquire(0)
    assert (slots.free, slots.waiting) == (0, 0)
    slots.release()
    slots.release()
    assert slots.free == 2


@pytest.mark.asyncio
async def test_waiters_are_served_by_priority_then_arrival() -> None:
    slots = PrioritySlots(1)
    await slots.acquire()
    served: list[str] = []

    async def take(name: str, priority: int) -> None:
        await slots.acquire(priority)
        served.append(name)

    tasks = []
    for name, priority in [
        ("leaf-1", 2),
        ("leaf-2", 2),
        ("chain-1", 1),
        ("lib", 0),
        ("chain-2", 1),
    ]:
        tasks.append(asyncio.create_task(take(name, priority)))
        await _settle()
    assert slots.waiting == 5
    for expected in ["lib", "chain-1", "chain-2", "leaf-1", "leaf-2"]:
        slots.release()
        await _settle()
        assert served[-1] == expected
    await asyncio.gather(*tasks)
    assert slots.free == 0


@pytest.mark.asyncio
async def test_a_newcomer_does_not_overtake_a_waiter() -> None:
    slots = PrioritySlots(1)
    await slots.acquire()
    waiter = asyncio.create_task(slots.acquire(2))
    await _settle()
    slots.release()  # handed to the waiter, not put back in the pool
    newcomer = asyncio.create_task(slots.acquire(0))
    await _settle()
    assert waiter.done()
    assert not newcomer.done()
    slots.release()
    await newcomer


@pytest.mark.asyncio
async def test_cancelled_waiters_lose_no_slot() -> None:
    slots = PrioritySlots(1)
    await slots.acquire()
    gone = asyncio.create_task(slots.acquire(0))
    late = asyncio.create_task(slots.acquire(1))
    await _settle()
    gone.cancel()
    await asyncio.gather(gone, return_exceptions=True)
    assert slots.waiting == 1
    slots.release()
    await late  # the cancelled waiter was skipped

    # handed a slot and cancelled before it ran: the slot goes back
    handed = asyncio.create_task(slots.acquire(0))
    await _settle()
    slots.release()
    handed.cancel()
    await asyncio.gather(handed, return_exceptions=True)
    assert handed.cancelled()
    assert slots.free == 1


def test_at_least_one_slot() -> None:
    with pytest.raises(ValueError, match="at least one"):
        PrioritySlots(0)
