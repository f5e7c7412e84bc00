"""The HTTP transport every upstream client shares: one session, one bound, one retry policy.

`UpstreamHttp` is opened once per run (``async with UpstreamHttp(settings) as http``)
and gives the clients one method, `UpstreamHttp.request`, which:

- waits at the target host's `HostPacer` (:mod:`indexer.upstream.pacing`: spacing by
  the host's rate-limit headers, the wait after a ``429``), then takes one of the
  ``settings.concurrency`` slots of a single `PrioritySlots` for the request itself,
  by the priority of its kind (`KIND_PRIORITY`: library and Hub pages, which reveal
  further requests, before Dockerfiles, which reveal none); nobody sleeps (pacing or
  backoff) while holding a slot;
- reads the body in chunks and stops at ``settings.max_body_bytes``
  (`BodyTooLargeError`, not retried);
- retries timeouts, broken connections, truncated bodies, ``5xx``, ``429`` and
  answers its ``decode`` callback rejects (malformed JSON, wrong shape) with
  exponential backoff and full jitter, at most ``settings.max_tries`` tries, then
  raises `RetryableUpstreamError` naming the URL and the last reason;
- raises `NotFoundError` on ``404`` and `UpstreamError` on other ``4xx`` and
  unexpected statuses (redirects are not followed) right away, and a TLS failure
  (certificate, protocol) without retrying it;
- returns ``304 Not Modified`` to ``decode`` as a distinct status when the request
  was conditional (``If-None-Match`` / ``If-Modified-Since``).

Rate limits: every answer's rate-limit headers pace its host; a ``429`` (or GitHub's
``403`` with ``X-RateLimit-Remaining: 0``) holds every request to the host for
``Retry-After`` (seconds or HTTP date), ``X-Retry-After`` or ``X-RateLimit-Reset``
(Unix times), capped at ``settings.backoff_max``, counted once per wait
(`RequestStats.rate_limited`); see :mod:`indexer.upstream.pacing`.

Reachability: each request belongs to an *upstream*, named after the configured base
URL it lies under (`UPSTREAM_NAMES`; another client may add its own with
`UpstreamHttp.name_upstream`). An upstream that has not answered one request usably
this run, when a request to it gives up, is *unreachable*: that request and every
later one to it fail at once with `UpstreamUnreachableError` (naming the upstream and
the reason), and `UpstreamHttp.unreachable` lists it for the run's verdict.

Stopping: with ``stop`` (the run's graceful-stop event) set, no request leaves any
more: those waiting at a pacer, for a slot or in a backoff raise `RequestStoppedError`
at once; those in flight get ``stop_grace`` seconds to finish, then are cut off with
the same error.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self, TypeVar
from urllib.parse import urlsplit

import aiohttp

from indexer.errors import (
    BodyTooLargeError,
    NotFoundError,
    RequestStoppedError,
    RetryableUpstreamError,
    UpstreamError,
    UpstreamUnreachableError,
)
from indexer.settings import Settings
from indexer.upstream.pacing import HostPacer
from indexer.upstream.slots import PrioritySlots

__all__ = [
    "KIND_PRIORITY",
    "STOP_GRACE_SECONDS",
    "UPSTREAM_NAMES",
    "USER_AGENT",
    "RequestStats",
    "Response",
    "ShapeError",
    "UpstreamHttp",
    "backoff_delay",
    "rate_limit_delay",
    "url_is_under",
]

T = TypeVar("T")
_Key = TypeVar("_Key", str, int)

USER_AGENT = "indexer/0.1"
_CHUNK_BYTES = 64 * 1024
#: seconds requests in flight get to finish once a graceful stop is asked for
STOP_GRACE_SECONDS = 4.0
#: the wait after a rate-limit answer that does not say how long, at the least
_MIN_RATE_LIMIT_WAIT = 0.05
#: the name of each upstream (settings key of its base URL), for messages and verdicts
UPSTREAM_NAMES: Mapping[str, str] = {
    "hub_url": "Docker Hub",
    "github_api_url": "GitHub API",
    "github_raw_url": "GitHub raw files",
    "registry_url": "Docker Hub registry",
    "registry_auth_url": "Docker Hub registry auth",
}
_CONDITIONAL_HEADERS = ("if-none-match", "if-modified-since")
#: slot priority per request kind, lower first (see `indexer.upstream.slots`): the
#: library reveals the Dockerfiles, each Hub page the next one; Dockerfiles reveal nothing,
#: but the library's writes, and the relinking after them, wait for them; the registry's
#: reads wait for nothing and nothing waits for them, so they take the slots left free
KIND_PRIORITY: Mapping[str, int] = {
    "github-commit": 0,
    "github-listing": 0,
    "library-file": 0,
    "hub-repositories": 0,
    "hub-tags": 1,
    "dockerfile": 2,
    "registry-token": 3,
    "registry-manifest": 3,
}
_DEFAULT_PRIORITY = 1


class ShapeError(ValueError):
    """An answer whose JSON parses but does not have the expected shape (retried)."""


class _TlsError(UpstreamError):
    """The TLS handshake failed (certificate, protocol): not worth another try this run."""


@dataclass(frozen=True)
class Response:
    """One complete answer: the body has been read in full (and within the size cap)."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def not_modified(self) -> bool:
        """True for ``304 Not Modified`` (only returned to conditional requests)."""
        return self.status == 304

    def text(self) -> str:
        """The body as UTF-8 text; undecodable bytes become U+FFFD."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> object:
        """The body parsed as JSON; raises `ValueError` (retried) when it is not JSON."""
        return json.loads(self.body.decode("utf-8"))


@dataclass
class RequestStats:
    """Counters of one run's HTTP traffic, for the sync summary."""

    #: HTTP requests sent (every try counts), by endpoint kind
    requests: Counter[str] = field(default_factory=Counter)
    #: answers received, by status code
    statuses: Counter[int] = field(default_factory=Counter)
    #: tries after the first, by endpoint kind
    retries: Counter[str] = field(default_factory=Counter)
    #: failed tries, by reason (timeout, connection, truncated, status-5xx, rate-limited, ...)
    failures: Counter[str] = field(default_factory=Counter)
    #: requests given up for good, by endpoint kind
    gave_up: Counter[str] = field(default_factory=Counter)
    #: body bytes received (after decompression)
    bytes_received: int = 0
    #: rate-limit events: times a host's gate was closed by a rate-limit answer (the
    #: 429s of requests already in flight then count once with it; see ``statuses``)
    rate_limited: int = 0

    def as_dict(self) -> dict[str, object]:
        """A JSON-friendly copy: counters become plain dicts with sorted string keys."""
        return {
            "requests": _sorted_counts(self.requests),
            "requests_total": sum(self.requests.values()),
            "statuses": _sorted_counts(self.statuses),
            "retries": _sorted_counts(self.retries),
            "failures": _sorted_counts(self.failures),
            "gave_up": _sorted_counts(self.gave_up),
            "bytes_received": self.bytes_received,
            "rate_limited": self.rate_limited,
        }


def _sorted_counts(counter: Mapping[_Key, int]) -> dict[str, int]:
    return {str(key): count for key, count in sorted(counter.items())}


def backoff_delay(settings: Settings, attempt: int, rng: random.Random | None = None) -> float:
    """The wait after failed try number ``attempt`` (1-based).

    Exponential (``backoff_base`` doubling per try, capped at ``backoff_max``); with
    ``rng`` the delay is drawn uniformly from ``[0, that]`` ("full jitter").
    """
    ceiling = min(settings.backoff_max, settings.backoff_base * 2.0 ** (attempt - 1))
    return rng.uniform(0.0, ceiling) if rng is not None else ceiling


def rate_limit_delay(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds a rate-limit answer asks us to wait, or ``None`` when it does not say.

    Reads ``Retry-After`` (delta seconds or an HTTP date), then ``X-Retry-After`` and
    ``X-RateLimit-Reset`` (Unix times). ``now`` is the current Unix time (for tests).
    The result is never negative; the caller applies its cap.
    """
    current = time.time() if now is None else now
    retry_after = headers.get("Retry-After")
    if retry_after is not None:
        delay = _delta_seconds(retry_after) if _is_number(retry_after) else None
        if delay is None:
            delay = _http_date_delay(retry_after, current)
        if delay is not None:
            return delay
    for name in ("X-Retry-After", "X-RateLimit-Reset"):
        value = headers.get(name)
        if value is not None and _is_number(value):
            return max(0.0, float(value) - current)
    return None


def _is_number(text: str) -> bool:
    try:
        float(text.strip())
    except ValueError:
        return False
    return True


def _delta_seconds(text: str) -> float:
    return max(0.0, float(text.strip()))


def _http_date_delay(text: str, now: float) -> float | None:
    try:
        moment = email.utils.parsedate_to_datetime(text.strip())
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now)


def _host_key(url: str) -> str:
    """``scheme://host:port`` of ``url``: the unit that shares one rate-limit gate."""
    parts = urlsplit(url)
    default_port = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{parts.port or default_port}"


@dataclass
class _Upstream:
    """Whether one upstream answered usably this run, or why it is unreachable."""

    name: str
    reached: bool = False
    unreachable: UpstreamUnreachableError | None = None


class UpstreamHttp:
    """One aiohttp session for a whole run, with the retry and pacing policy above."""

    def __init__(
        self,
        settings: Settings,
        *,
        rng: random.Random | None = None,
        stop: asyncio.Event | None = None,
        stop_grace: float = STOP_GRACE_SECONDS,
    ) -> None:
        self._settings = settings
        self._rng = rng or random.Random()
        self._slots = PrioritySlots(settings.concurrency)
        self._pacers: dict[str, HostPacer] = {}
        self._session: aiohttp.ClientSession | None = None
        self._token_bases = (settings.github_api_url, settings.github_raw_url)
        self._stop = stop if stop is not None else asyncio.Event()
        self._stop_grace = stop_grace
        self._stop_watch: asyncio.Task[None] | None = None
        #: timeouts of the requests in flight, moved to the grace deadline on a stop
        self._in_flight: set[asyncio.Timeout] = set()
        self._cut_off_at: float | None = None
        self._bases: list[tuple[str, str]] = []
        self._upstreams: dict[str, _Upstream] = {}
        for key, name in UPSTREAM_NAMES.items():
            self.name_upstream(name, getattr(settings, key))
        self.stats = RequestStats()

    async def __aenter__(self) -> Self:
        timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=self._settings.connect_timeout,
            sock_read=self._settings.read_timeout,
        )
        connector = aiohttp.TCPConnector(limit=self._settings.concurrency)
        self._session = aiohttp.ClientSession(
            timeout=timeout,
            connector=connector,
            headers={"User-Agent": USER_AGENT},
            raise_for_status=False,
        )
        self._stop_watch = asyncio.create_task(self._watch_stop())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._stop_watch is not None:
            self._stop_watch.cancel()
            await asyncio.wait([self._stop_watch])
            self._stop_watch = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- upstreams, pacers, stop -----------------------------------------------------

    def name_upstream(self, name: str, base: str) -> None:
        """Requests under ``base`` belong to the upstream ``name`` (the longest base wins)."""
        self._bases = sorted(
            [*(item for item in self._bases if item[1] != base), (name, base)],
            key=lambda item: -len(item[1]),
        )

    def upstream_of(self, url: str) -> str:
        """The name of the upstream ``url`` belongs to (its host when no base matches)."""
        for name, base in self._bases:
            if url_is_under(url, base):
                return name
        return _host_key(url)

    def _upstream(self, url: str) -> _Upstream:
        name = self.upstream_of(url)
        upstream = self._upstreams.get(name)
        if upstream is None:
            upstream = self._upstreams[name] = _Upstream(name)
        return upstream

    def unreachable(self) -> list[UpstreamUnreachableError]:
        """The upstreams found unreachable this run, in the order they were found."""
        return [u.unreachable for u in self._upstreams.values() if u.unreachable is not None]

    def pacer(self, url: str) -> HostPacer:
        """The pacer of ``url``'s host (created on first use)."""
        key = _host_key(url)
        pacer = self._pacers.get(key)
        if pacer is None:
            pacer = self._pacers[key] = HostPacer(max_wait=self._settings.backoff_max)
        return pacer

    @property
    def stopping(self) -> bool:
        """True once the graceful stop was asked for: no request leaves any more."""
        return self._stop.is_set()

    async def _watch_stop(self) -> None:
        """On the stop: give the requests in flight ``stop_grace`` seconds, then cut them off."""
        await self._stop.wait()
        self._cut_off_at = asyncio.get_running_loop().time() + self._stop_grace
        for guard in self._in_flight:
            guard.reschedule(self._cut_off_at)

    async def _pause(self, seconds: float) -> None:
        """Sleep ``seconds``; a stop ends the sleep with `RequestStoppedError`."""
        if self.stopping:
            raise RequestStoppedError("not sent: the run is stopping")
        try:
            async with asyncio.timeout(seconds):
                await self._stop.wait()
        except TimeoutError:
            return
        raise RequestStoppedError("not sent: the run is stopping")

    @contextlib.asynccontextmanager
    async def _cut_off_on_stop(self, url: str) -> AsyncIterator[None]:
        """Run the body (one request in flight) until the stop's grace period ends."""
        guard = asyncio.timeout_at(self._cut_off_at)
        self._in_flight.add(guard)
        try:
            async with guard:
                yield
        except TimeoutError as exc:
            if not guard.expired():
                raise
            raise RequestStoppedError(
                f"cut off: the run is stopping ({self._stop_grace:.0f}s grace)", url=url
            ) from exc
        finally:
            self._in_flight.discard(guard)

    # --- requests ----------------------------------------------------------------------

    async def request(
        self,
        url: str,
        *,
        kind: str,
        decode: Callable[[Response], T],
        headers: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> T:
        """GET ``url`` and return ``decode(response)``, retrying per the module policy.

        ``kind`` names the endpoint in the statistics. ``decode`` runs inside the
        retry loop: a `ValueError` from it (bad JSON, `ShapeError`) is retried.
        ``max_bytes`` caps this answer below ``settings.max_body_bytes``.
        """
        cap = min(max_bytes or self._settings.max_body_bytes, self._settings.max_body_bytes)
        request_headers = dict(headers or {})
        request_headers.update(self._auth_headers(url))
        upstream = self._upstream(url)
        failure: RetryableUpstreamError | None = None
        for attempt in range(1, self._settings.max_tries + 1):
            if upstream.unreachable is not None:
                raise UpstreamUnreachableError(upstream.name, upstream.unreachable.reason, url=url)
            if attempt > 1:
                self.stats.retries[kind] += 1
            try:
                response = await self._try_once(url, kind, request_headers, upstream, cap)
                return self._decode(response, decode)
            except RetryableUpstreamError as exc:
                failure = exc
            except RequestStoppedError as exc:
                raise RequestStoppedError(exc.message, url=url) from None
            except _TlsError as exc:
                if upstream.reached:
                    raise UpstreamError(exc.message, url=url) from None
                upstream.unreachable = UpstreamUnreachableError(upstream.name, exc.message, url=url)
                raise upstream.unreachable from None
            if attempt < self._settings.max_tries:
                await self._backoff(attempt, failure)
        assert failure is not None  # max_tries >= 1, so the loop ran
        self.stats.gave_up[kind] += 1
        tries = self._settings.max_tries
        message = f"gave up after {tries} {'try' if tries == 1 else 'tries'}: {failure.message}"
        if not upstream.reached and upstream.unreachable is None:
            upstream.unreachable = UpstreamUnreachableError(
                upstream.name, message, url=url, status=failure.status
            )
            raise upstream.unreachable
        raise RetryableUpstreamError(
            message, url=url, status=failure.status, retry_after=failure.retry_after
        )

    async def get_text(self, url: str, *, kind: str) -> str:
        """GET ``url`` and return its body as text (see `Response.text`)."""
        return await self.request(url, kind=kind, decode=Response.text)

    def _auth_headers(self, url: str) -> dict[str, str]:
        token = self._settings.github_token
        if token and any(url_is_under(url, base) for base in self._token_bases):
            return {"Authorization": f"Bearer {token}"}
        return {}

    async def _try_once(
        self, url: str, kind: str, headers: Mapping[str, str], upstream: _Upstream, cap: int
    ) -> Response:
        """One try: pacer, slot, request, status check. Raises on every failure.

        Any answer but a ``5xx`` or a rate limit shows the upstream is reachable.
        """
        pacer = self.pacer(url)
        epoch = await self._acquire_slot(pacer, KIND_PRIORITY.get(kind, _DEFAULT_PRIORITY))
        try:
            self.stats.requests[kind] += 1
            response = await self._send(url, headers, pacer, cap)
        finally:
            self._slots.release()
        self.stats.statuses[response.status] += 1
        if response.status < 500 and not _is_rate_limit(response):
            upstream.reached = True
        self._check_status(response, pacer, epoch, conditional=_is_conditional(headers))
        return response

    async def _acquire_slot(self, pacer: HostPacer, priority: int) -> int:
        """Pass the pacer, then take a semaphore slot, never sleeping in a slot.

        If the host's gate closed while this caller waited for the slot, the slot is
        given back and the caller queues at the pacer again. Answers the pacer's epoch.
        """
        while True:
            epoch = await pacer.wait(self._pause)
            try:
                await self._slots.acquire(priority)
            except BaseException:
                pacer.cancelled()
                raise
            if self.stopping:
                self._slots.release()
                pacer.cancelled()
                raise RequestStoppedError("not sent: the run is stopping")
            if pacer.is_open():
                return epoch
            self._slots.release()
            pacer.cancelled()

    async def _send(
        self, url: str, headers: Mapping[str, str], pacer: HostPacer, cap: int
    ) -> Response:
        """Send the GET and read the whole body, converting transport errors."""
        session = self._require_session()
        answered = False
        try:
            async with (
                self._cut_off_on_stop(url),
                session.get(url, headers=headers, allow_redirects=False) as answer,
            ):
                pacer.answered(answer.headers)  # the budget counts even if the body breaks
                answered = True
                self._check_declared_length(url, answer, cap)
                body = await self._read_body(url, answer, cap)
                return Response(url=url, status=answer.status, headers=answer.headers, body=body)
        except TimeoutError as exc:
            raise self._failure("timeout", "timed out", url) from exc
        except aiohttp.ClientPayloadError as exc:
            raise self._failure("truncated", f"truncated body: {exc}", url) from exc
        except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError) as exc:
            self.stats.failures["tls"] += 1
            raise _TlsError(f"TLS failed: {exc}", url=url) from exc
        except aiohttp.ClientConnectionError as exc:
            reason = str(exc) or type(exc).__name__
            raise self._failure("connection", f"connection failed: {reason}", url) from exc
        except aiohttp.InvalidURL as exc:
            raise UpstreamError(f"invalid URL: {exc}", url=url) from exc
        except aiohttp.ClientResponseError as exc:
            raise self._failure("protocol", f"invalid HTTP answer: {exc.message}", url) from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"request failed: {exc!r}", url=url) from exc
        finally:
            if not answered:
                pacer.failed()

    def _check_declared_length(self, url: str, answer: aiohttp.ClientResponse, cap: int) -> None:
        declared = answer.content_length
        if declared is not None and declared > cap:
            self.stats.failures["too-large"] += 1
            raise BodyTooLargeError(
                f"answer of {declared} bytes exceeds the cap of {cap} bytes",
                url=url,
                status=answer.status,
            )

    async def _read_body(self, url: str, answer: aiohttp.ClientResponse, cap: int) -> bytes:
        """Read the body chunk by chunk, stopping as soon as it passes the cap."""
        chunks: list[bytes] = []
        size = 0
        async for chunk in answer.content.iter_chunked(_CHUNK_BYTES):
            size += len(chunk)
            self.stats.bytes_received += len(chunk)
            if size > cap:
                self.stats.failures["too-large"] += 1
                raise BodyTooLargeError(
                    f"answer exceeds the cap of {cap} bytes", url=url, status=answer.status
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _check_status(
        self, response: Response, pacer: HostPacer, epoch: int, *, conditional: bool
    ) -> None:
        """Raise the right error for a status that is not a usable answer."""
        status, url = response.status, response.url
        if _is_rate_limit(response):
            raise self._rate_limited(response, pacer, epoch)
        if 200 <= status < 300 or (status == 304 and conditional):
            return
        if status == 404:
            self.stats.failures["not-found"] += 1
            raise NotFoundError("not found", url=url, status=status)
        if status >= 500:
            raise self._failure("status-5xx", f"server error {status}", url, status=status)
        self.stats.failures["status-other"] += 1
        location = response.headers.get("Location")
        detail = f" to {location}" if 300 <= status < 400 and location else ""
        raise UpstreamError(
            f"unexpected status {status}{detail}", url=url, status=status, headers=response.headers
        )

    def _rate_limited(
        self, response: Response, pacer: HostPacer, epoch: int
    ) -> RetryableUpstreamError:
        """Hold the host for the time the answer asks (or a backoff); the error to retry."""
        settings = self._settings
        asked = rate_limit_delay(response.headers)
        delay = asked if asked is not None else max(settings.backoff_base, _MIN_RATE_LIMIT_WAIT)
        delay = min(delay, settings.backoff_max)
        if pacer.rate_limited(epoch, delay):
            self.stats.rate_limited += 1
        return self._failure(
            "rate-limited",
            f"rate limited ({response.status}), waiting {delay:.2f}s",
            response.url,
            status=response.status,
            retry_after=delay,
        )

    def _decode(self, response: Response, decode: Callable[[Response], T]) -> T:
        try:
            return decode(response)
        except ValueError as exc:
            raise self._failure("malformed", f"malformed answer: {exc}", response.url) from exc

    async def _backoff(self, attempt: int, failure: RetryableUpstreamError) -> None:
        """Sleep before the next try (outside any slot). Rate limits wait at the pacer."""
        if failure.retry_after is not None:
            return
        await self._pause(backoff_delay(self._settings, attempt, self._rng))

    def _failure(
        self,
        reason: str,
        message: str,
        url: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> RetryableUpstreamError:
        self.stats.failures[reason] += 1
        return RetryableUpstreamError(message, url=url, status=status, retry_after=retry_after)

    def _require_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("UpstreamHttp is used outside 'async with'")
        return self._session


def _is_rate_limit(response: Response) -> bool:
    """429, or GitHub's 403 that says the rate limit is used up (or asks to retry later)."""
    if response.status == 429:
        return True
    if response.status != 403:
        return False
    headers = response.headers
    return headers.get("X-RateLimit-Remaining") == "0" or "Retry-After" in headers


def _is_conditional(headers: Mapping[str, str]) -> bool:
    return any(name.lower() in _CONDITIONAL_HEADERS for name in headers)


def url_is_under(url: str, base: str) -> bool:
    """True when ``url`` lies under ``base``: same scheme, host, port and path prefix.

    URLs with user information (``http://user@host/``) are never under any base.
    """
    parts, root = urlsplit(url), urlsplit(base)
    if parts.username is not None or parts.password is not None:
        return False
    if parts.scheme != root.scheme or _host_key(url) != _host_key(base):
        return False
    prefix = root.path.rstrip("/")
    return parts.path == prefix or parts.path.startswith(prefix + "/")
