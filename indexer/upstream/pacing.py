"""Per-host pacing: spend an upstream's rate-limit budget evenly, and recover from a 429.

Every `UpstreamHttp.request` passes the `HostPacer` of its host (``scheme://host:port``)
before it is sent, and reports every answer back to it. The pacer is driven only by
what the answers say, so any client of `UpstreamHttp` (Hub, GitHub, the registry)
gets it without knowing about it:

**Budget (headers, on every answer).** `read_budget` reads the rate-limit headers:
Docker Hub's ``X-RateLimit-Limit/-Remaining/-Reset`` and GitHub's ``x-ratelimit-*``
(the reset a Unix time, or seconds when it is small), the registry's
``ratelimit-limit``/``ratelimit-remaining`` (``N;w=SECONDS``: a window, no reset time,
so the window is taken to start now), and the IETF draft's ``RateLimit-Reset``
(seconds). The pacer then spaces requests so what remains lasts until the reset:
``interval = seconds_to_reset / (remaining - requests_in_flight)``. Against a fixed
window that is the allowed rate. Against a token bucket whose reset is the moment it
is full again it is a feedback loop: fewer tokens make the spacing longer, more make
it shorter, and it settles with the bucket about half full and the requests coming at
the refill rate. Nothing remaining: requests wait for the reset. A host that sends no
such headers is not paced by them.

**Probe (429s).** A ``429`` (or GitHub's ``403`` with ``X-RateLimit-Remaining: 0``)
means the budget was not enough to avoid it. Every request to the host waits as told
(``Retry-After``, else the reset time, else a backoff; at most ``backoff_max``), and
the pacer caps its rate at half the rate it was sending at (multiplicative decrease).
From then on the cap grows by a constant step per second (additive increase: a tenth
of the rate before the 429, at least ``_MIN_STEP``), so about five seconds after the
wait it is back where it was, and then keeps probing above it; once it is four times that rate the
cap is dropped and only the budget paces. No storm after a wait (requests leave one
spacing apart), no collapse to a trickle (the cap grows back by itself), no busy loop
(waiters sleep; they wake at most every ``_RECHECK_SECONDS`` to see new answers).

**One event per wait.** `HostPacer.wait` hands each request the pacer's *epoch*. A
429 closes the gate and starts a new epoch only when the refused request was sent in
the current one; the 429s of requests already in flight when the gate closed belong to
the same event: they neither lower the rate again nor count again (they may only make
the wait longer, if told so).
"""

from __future__ import annotations

import asyncio
import collections
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

__all__ = ["Budget", "HostPacer", "read_budget"]

#: a reset value above this is a Unix time; at or below it, seconds from now
_UNIX_TIME_FLOOR = 1_000_000_000
#: the span over which the pacer measures the rate it sends at
_RATE_WINDOW = 1.0
#: shortest span a burst's rate is measured over (a burst of 20 in 5 ms is not 4000/s)
_MIN_RATE_SPAN = 0.25
#: the least additive increase of the probing cap, requests/s per second
_MIN_STEP = 2.0
#: seconds after a 429 in which the cap grows back to the rate before it
_RECOVERY_SECONDS = 5.0
#: the cap is dropped once it is this many times the rate before the 429
_CAP_RELEASE = 4.0
#: the slowest the probing cap goes, requests/s
_MIN_RATE = 0.5
#: a waiter re-reads the pacer's state at least this often (answers change it)
_RECHECK_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class Budget:
    """What an answer's rate-limit headers say: requests left, and seconds until renewal."""

    remaining: int
    #: seconds from the answer until the budget is renewed (``None``: not said)
    reset_in: float | None
    limit: int | None = None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None


def _leading_number(text: str | None) -> tuple[float, float | None] | None:
    """``"76;w=21600"`` → ``(76, 21600)``; ``"12"`` → ``(12, None)``; junk → ``None``."""
    if text is None:
        return None
    head, *params = (part.strip() for part in text.split(";"))
    head = head.split(",")[0].strip()
    try:
        number = float(head)
    except ValueError:
        return None
    window = None
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "w":
            try:
                window = float(value)
            except ValueError:
                window = None
    if not math.isfinite(number):
        return None
    return number, window


def _reset_seconds(value: str | None, now: float) -> float | None:
    parsed = _leading_number(value)
    if parsed is None:
        return None
    number = parsed[0]
    return number - now if number > _UNIX_TIME_FLOOR else number


def read_budget(headers: Mapping[str, str], *, now: float | None = None) -> Budget | None:
    """The budget an answer states, or ``None`` when it sends no usable rate-limit headers.

    ``now`` is the current Unix time (for tests).
    """
    current = time.time() if now is None else now
    for prefix in ("x-ratelimit-", "ratelimit-"):
        remaining = _leading_number(_header(headers, f"{prefix}remaining"))
        if remaining is None:
            continue
        limit = _leading_number(_header(headers, f"{prefix}limit"))
        reset_in = _reset_seconds(_header(headers, f"{prefix}reset"), current)
        if reset_in is None:
            reset_in = remaining[1] if remaining[1] is not None else None
        if reset_in is None and limit is not None:
            reset_in = limit[1]
        return Budget(
            remaining=max(0, int(remaining[0])),
            reset_in=max(0.0, reset_in) if reset_in is not None else None,
            limit=int(limit[0]) if limit is not None else None,
        )
    return None


Sleep = Callable[[float], Awaitable[None]]


class HostPacer:
    """When the next request to one host may leave (module docstring).

    ``max_wait`` caps every single wait (a server's ``Retry-After``, a reset far ahead).
    """

    def __init__(self, *, max_wait: float) -> None:
        self._lock = asyncio.Lock()
        self._max_wait = max_wait
        #: no request leaves before this loop time (a 429's wait, or an empty budget)
        self._not_before = 0.0
        self._last_pass = -math.inf
        #: the latest budget: requests remaining, and the loop time of its renewal
        self._remaining: int | None = None
        self._reset_at: float | None = None
        self._limit: int | None = None
        #: the probing cap in requests/s (``None``: none) and how it grows
        self._cap: float | None = None
        self._cap_step = _MIN_STEP
        self._cap_release = math.inf
        self._cap_since = 0.0
        self._cap_base = 0.0
        self._recent: collections.deque[float] = collections.deque()
        self._in_flight = 0
        #: a new epoch starts with each rate-limit event
        self.epoch = 0
        #: rate-limit events (gate closings) so far
        self.events = 0

    # --- state ----------------------------------------------------------------------

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    @property
    def cap(self) -> float | None:
        """The probing cap in requests/s now (``None`` when there is none)."""
        if self._cap is None:
            return None
        now = self._now()
        grown = self._cap_base + self._cap_step * max(0.0, now - self._cap_since)
        if grown >= self._cap_release:
            self._cap = None
            return None
        self._cap = grown
        return grown

    @property
    def in_flight(self) -> int:
        """Requests that passed and have not been answered yet."""
        return self._in_flight

    def _renew(self, now: float) -> None:
        """Past the reset the budget is the whole limit again (until an answer says more)."""
        if self._reset_at is not None and now >= self._reset_at:
            self._remaining = self._limit
            self._reset_at = None

    def interval(self) -> float:
        """Seconds between two requests now: the longer of the budget's and the cap's."""
        spacing = 0.0
        now = self._now()
        self._renew(now)
        if self._remaining is not None and self._reset_at is not None:
            left = self._remaining - self._in_flight
            if left > 0:
                spacing = (self._reset_at - now) / left
        cap = self.cap
        if cap is not None:
            spacing = max(spacing, 1.0 / cap)
        return min(spacing, self._max_wait)

    def _ready_at(self) -> float:
        now = self._now()
        ready = max(self._not_before, self._last_pass + self.interval())
        if self._remaining is not None and self._remaining <= self._in_flight:
            # the budget is spent by the requests in flight: wait for the reset, or for
            # their answers when the reset is not known (one probe when none is in flight)
            if self._reset_at is not None:
                ready = max(ready, self._reset_at)
            elif self._in_flight > 0:
                ready = max(ready, now + _RECHECK_SECONDS)
        return ready

    def is_open(self) -> bool:
        """True when no wait (429, empty budget) holds requests right now."""
        return self._now() >= self._not_before

    def _forget_before(self, now: float) -> None:
        while self._recent and self._recent[0] < now - _RATE_WINDOW:
            self._recent.popleft()

    def sending_rate(self) -> float:
        """Requests/s passed over the last second (a burst is spread over a quarter second)."""
        now = self._now()
        self._forget_before(now)
        if not self._recent:
            return 0.0
        span = max(now - self._recent[0], _MIN_RATE_SPAN)
        return len(self._recent) / span

    # --- requests -------------------------------------------------------------------

    async def wait(self, sleep: Sleep = asyncio.sleep) -> int:
        """Return when the caller may send (FIFO); answers the epoch it was sent in.

        ``sleep`` does the waiting (`UpstreamHttp` passes one that a stop interrupts).
        """
        async with self._lock:
            while True:
                now = self._now()
                ready_at = self._ready_at()
                if now >= ready_at:
                    self._last_pass = now
                    self._forget_before(now)
                    self._recent.append(now)
                    self._in_flight += 1
                    return self.epoch
                await sleep(min(ready_at - now, _RECHECK_SECONDS))

    def cancelled(self) -> None:
        """A request that passed was not sent after all (its slot wait was given up)."""
        self._in_flight = max(0, self._in_flight - 1)

    def answered(self, headers: Mapping[str, str]) -> None:
        """An answer arrived (any status): it is no longer in flight; read its budget."""
        self._in_flight = max(0, self._in_flight - 1)
        budget = read_budget(headers)
        if budget is None:
            return
        self._remaining = budget.remaining
        self._limit = budget.limit
        self._reset_at = (
            self._now() + min(budget.reset_in, self._max_wait)
            if budget.reset_in is not None
            else None
        )

    def failed(self) -> None:
        """The try ended without an answer (connection, timeout): no longer in flight."""
        self._in_flight = max(0, self._in_flight - 1)

    def rate_limited(self, epoch: int, delay: float) -> bool:
        """A rate-limit answer to a request sent in ``epoch``; hold everyone ``delay`` seconds.

        Answers whether it was a new event (the gate closed, the cap halved).
        """
        now = self._now()
        until = now + min(max(0.0, delay), self._max_wait)
        if epoch != self.epoch:  # in flight when the gate closed: the same event
            if now < self._not_before:
                self._not_before = max(self._not_before, until)
            return False
        rate_before = max(self.sending_rate(), self.cap or 0.0, _MIN_RATE * 2)
        self.epoch += 1
        self.events += 1
        self._not_before = max(self._not_before, until)
        self._cap_base = max(_MIN_RATE, rate_before / 2.0)
        self._cap_step = max(_MIN_STEP, rate_before / 2.0 / _RECOVERY_SECONDS)
        self._cap_since = self._not_before
        self._cap_release = rate_before * _CAP_RELEASE
        self._cap = self._cap_base
        self._recent.clear()
        return True
