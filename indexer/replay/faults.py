"""Injected faults: latency, failures, truncated bodies, a rate limit. All off by default.

Whether a request fails or is truncated depends only on the seed, the request
(method, path and query) and how many times that same request was made before:
``blake2b(f"{seed}|{key}|{attempt}")``. So a run with the same seed meets the same
faults whatever order concurrent requests arrive in, and a retried request gets a
fresh draw (it eventually succeeds whenever the rates are below 1).

The rate limit is a token bucket over all non-control endpoints: ``rate_limit``
tokens per second, a burst of ``rate_burst`` (default ``max(1, rate_limit)``). Every
answer carries its state as Docker Hub's headers do: ``X-RateLimit-Limit`` (the burst),
``X-RateLimit-Remaining`` (whole tokens left) and ``X-RateLimit-Reset`` (Unix time at
which the bucket is full again; for a refusal, when the next token comes). The reset
has millisecond precision: this bucket refills within a second, so a whole-second
time would say nothing. It depends on the clock, so it is deterministic only up to
timing.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "FAIL_STATUSES",
    "FaultDecision",
    "FaultPlan",
    "FaultSettings",
    "RateDecision",
    "TokenBucket",
]

#: the statuses an injected failure answers with (picked by the same hash)
FAIL_STATUSES = (500, 502, 503)


@dataclass(frozen=True)
class FaultSettings:
    """The fault knobs; every one off by default."""

    #: sleep this long before answering each request
    latency_ms: float = 0.0
    #: fraction of requests answered 500/502/503
    fail_rate: float = 0.0
    #: fraction of 200 answers whose body is cut short (Content-Length of the whole body)
    truncate_rate: float = 0.0
    #: requests per second over all endpoints; ``None``: unlimited
    rate_limit: float | None = None
    #: tokens the bucket holds (the largest burst); ``None``: ``max(1, rate_limit)``
    rate_burst: float | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.latency_ms) or self.latency_ms < 0:
            raise ValueError(f"latency_ms must be >= 0, not {self.latency_ms}")
        for name in ("fail_rate", "truncate_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")
        if self.rate_limit is not None and not (
            math.isfinite(self.rate_limit) and self.rate_limit > 0
        ):
            raise ValueError(f"rate_limit must be > 0 or None, not {self.rate_limit}")
        if self.rate_burst is not None and not (
            math.isfinite(self.rate_burst) and self.rate_burst >= 1
        ):
            raise ValueError(f"rate_burst must be >= 1 or None, not {self.rate_burst}")

    def bucket(self) -> TokenBucket | None:
        """A fresh token bucket for these settings (``None`` without a rate limit)."""
        if self.rate_limit is None:
            return None
        return TokenBucket(self.rate_limit, burst=self.rate_burst)


@dataclass(frozen=True)
class FaultDecision:
    """What happens to one request."""

    #: answer with this 5xx status instead of the real answer; ``None``: answer normally
    fail_status: int | None
    #: cut the body of a 200 answer short
    truncate: bool


class FaultPlan:
    """Deterministic fault draws per (seed, request, attempt)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._attempts: Counter[str] = Counter()

    def decide(self, key: str, settings: FaultSettings) -> FaultDecision:
        """The fault for the next attempt of request ``key`` under ``settings``."""
        attempt = self._attempts[key]
        self._attempts[key] = attempt + 1
        if settings.fail_rate <= 0 and settings.truncate_rate <= 0:
            return FaultDecision(None, truncate=False)
        digest = hashlib.blake2b(f"{self.seed}|{key}|{attempt}".encode(), digest_size=16).digest()
        fail_draw = int.from_bytes(digest[0:6], "big") / 2**48
        truncate_draw = int.from_bytes(digest[6:12], "big") / 2**48
        fail_status = FAIL_STATUSES[digest[12] % len(FAIL_STATUSES)]
        return FaultDecision(
            fail_status if fail_draw < settings.fail_rate else None,
            truncate=truncate_draw < settings.truncate_rate,
        )

    def reset(self) -> None:
        """Forget the attempt numbers (the next draws repeat those of a fresh server)."""
        self._attempts.clear()


@dataclass(frozen=True)
class RateDecision:
    """The token bucket's answer for one request."""

    allowed: bool
    limit: int
    remaining: int
    #: seconds until a token is available (0 when allowed)
    retry_after: float
    #: Unix time of the next token (refused) or of a full bucket (allowed)
    reset_at: float


class TokenBucket:
    """``rate`` tokens per second, ``burst`` (default ``max(1, rate)``) at most; one per request."""

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.capacity = max(1.0, burst if burst is not None else rate)
        self._clock = clock
        self._tokens = self.capacity
        self._updated = clock()

    def take(self) -> RateDecision:
        """Take one token if there is one."""
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        allowed = self._tokens >= 1.0
        if allowed:
            self._tokens -= 1.0
        retry_after = 0.0 if allowed else (1.0 - self._tokens) / self.rate
        wait = retry_after if not allowed else (self.capacity - self._tokens) / self.rate
        return RateDecision(
            allowed=allowed,
            limit=math.ceil(self.capacity),
            remaining=int(self._tokens),
            retry_after=retry_after,
            reset_at=time.time() + wait,
        )
