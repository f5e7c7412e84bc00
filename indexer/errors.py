"""Every exception the indexer raises on purpose.

The tree::

    IndexerError                      base of everything below
    ├── ConfigError                   a settings key has an invalid value (names the key)
    ├── ImageReferenceError           an image reference that cannot be understood
    ├── ParseError                    bad input text; carries ``source`` and ``line``
    │   ├── LibraryFileError          a problem in an official-images library file
    │   └── DockerfileError           a Dockerfile that cannot be read
    │       └── UnresolvedReferenceError  a FROM whose image cannot be determined
    ├── UpstreamError                 an upstream request failed for good; carries ``url``
    │   ├── RetryableUpstreamError    worth another try (5xx, 429, timeout, bad body)
    │   │   └── UpstreamUnreachableError  an upstream that never answered usably this run
    │   ├── NotFoundError             404: the upstream does not have it
    │   ├── BodyTooLargeError         the answer exceeded the configured size cap
    │   ├── ForbiddenTargetError      a URL outside the allow-list; never requested
    │   ├── RequestStoppedError       not sent (or cut off) because the run is stopping
    │   └── DigestMismatchError       a manifest body whose sha256 is not the digest asked for
    ├── StoreError                    the database layer
    │   └── DatabaseUnavailableError  cannot connect (message masks the password)
    ├── NotIndexedError               a query for a tag the database does not know
    ├── SyncLockedError               another sync holds the single-run lock
    └── SyncFailedError               a sync finished but lost too much: recorded ``failed``

Errors that belong to one item (a stanza, a Dockerfile, a Hub page) are caught by
the sync pipeline and stored with the item and the sync run; only errors that make
the whole run impossible propagate to the command line.

Each class has a short ``kind`` (stored with item errors); :func:`kind_words` says it
in words for people, and :func:`describe` words any exception that way.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "BodyTooLargeError",
    "ConfigError",
    "DatabaseUnavailableError",
    "DigestMismatchError",
    "DockerfileError",
    "ForbiddenTargetError",
    "ImageReferenceError",
    "IndexerError",
    "LibraryFileError",
    "NotFoundError",
    "NotIndexedError",
    "ParseError",
    "RequestStoppedError",
    "RetryableUpstreamError",
    "StoreError",
    "SyncFailedError",
    "SyncLockedError",
    "UnresolvedReferenceError",
    "UpstreamError",
    "UpstreamUnreachableError",
    "describe",
    "kind_words",
]

#: how output names each error kind (those stored by the pipeline too); others read
#: with the dashes as spaces
KIND_WORDS = {
    "body-too-large": "answer too large",
    "config": "invalid setting",
    "database-unavailable": "database unreachable",
    "dockerfile": "unreadable Dockerfile",
    "forbidden-target": "host not allowed",
    "library-file": "bad library file",
    "not-found": "not found",
    "not-indexed": "not indexed",
    "not-listed": "not in the library",
    "parse": "parse error",
    "reference": "bad image reference",
    "store": "database error",
    "sync-locked": "another sync running",
    "unresolved-reference": "unresolved FROM",
    "upstream": "upstream error",
    "upstream-retryable": "upstream failed",
    "unreachable": "upstream unreachable",
}


def kind_words(kind: str) -> str:
    """An error kind in words: ``upstream-retryable`` reads ``upstream failed``."""
    return KIND_WORDS.get(kind, kind.replace("-", " ").replace("_", " "))


def describe(error: BaseException) -> str:
    """``upstream failed: gave up after 6 tries …``: the kind in words, then the message."""
    if isinstance(error, IndexerError):
        if error.names_itself:
            return str(error).strip()
        words = kind_words(error.kind)
    elif type(error).__module__.startswith("sqlalchemy"):
        words = "database error"
    elif isinstance(error, OSError):
        words = "system error"
    else:
        words = "internal error"
    message = str(error).strip()
    return f"{words}: {message}" if message else words


class IndexerError(Exception):
    """Base class of every error the indexer raises deliberately."""

    #: short machine-readable kind, stored with item errors and used in summaries
    kind: str = "error"
    #: the message already says what went wrong (``Docker Hub unreachable: …``), so
    #: `describe` puts no kind words before it
    names_itself: bool = False


class ConfigError(IndexerError):
    """A configuration key has an invalid value."""

    kind = "config"

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"invalid setting {key}: {message}")
        self.key = key


class ImageReferenceError(IndexerError):
    """An image reference that cannot be parsed."""

    kind = "reference"


class ParseError(IndexerError):
    """Bad input text. ``source`` names the file, ``line`` is 1-based (0 if unknown)."""

    kind = "parse"

    def __init__(self, message: str, *, source: str = "", line: int = 0) -> None:
        location = f"{source}:{line}: " if source and line else (f"{source}: " if source else "")
        super().__init__(f"{location}{message}")
        self.message = message
        self.source = source
        self.line = line


class LibraryFileError(ParseError):
    """A problem in an official-images library file."""

    kind = "library-file"


class DockerfileError(ParseError):
    """A Dockerfile that cannot be parsed."""

    kind = "dockerfile"


class UnresolvedReferenceError(DockerfileError):
    """A FROM (or --from) whose image cannot be determined, e.g. an ARG with no value."""

    kind = "unresolved-reference"


class UpstreamError(IndexerError):
    """An upstream request that failed for good."""

    kind = "upstream"

    def __init__(
        self,
        message: str,
        *,
        url: str = "",
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{message} ({url})" if url else message)
        self.message = message
        self.url = url
        self.status = status
        #: the answer's headers, where one came (e.g. a 401's ``WWW-Authenticate``)
        self.headers: Mapping[str, str] = headers or {}


class RetryableUpstreamError(UpstreamError):
    """A failure worth retrying: timeout, broken connection, 5xx, 429, malformed body."""

    kind = "upstream-retryable"

    def __init__(
        self,
        message: str,
        *,
        url: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, url=url, status=status)
        self.retry_after = retry_after


class NotFoundError(UpstreamError):
    """The upstream answered 404."""

    kind = "not-found"


class BodyTooLargeError(UpstreamError):
    """The answer exceeded the configured size cap and was cut off."""

    kind = "body-too-large"


class ForbiddenTargetError(UpstreamError):
    """A URL outside the configured allow-list; it was never requested."""

    kind = "forbidden-target"


class UpstreamUnreachableError(RetryableUpstreamError):
    """A request gave up on an upstream that has not answered usably this run.

    ``upstream`` names it (``Docker Hub``, ``GitHub API``, ...); the message says why.
    Further requests to it this run fail at once with this error.
    """

    kind = "unreachable"
    names_itself = True

    def __init__(
        self, upstream: str, reason: str, *, url: str = "", status: int | None = None
    ) -> None:
        reason = " ".join(reason.split())  # one line, whatever the transport said
        super().__init__(f"{upstream} unreachable: {reason}", url=url, status=status)
        self.upstream = upstream
        self.reason = reason


class RequestStoppedError(UpstreamError):
    """A request not sent, or cut off after the grace period, because the run is stopping."""

    kind = "stopped"


class DigestMismatchError(UpstreamError):
    """A manifest whose body does not hash to the digest it was asked for; rejected."""

    kind = "digest-mismatch"


class StoreError(IndexerError):
    """An error of the database layer."""

    kind = "store"


class DatabaseUnavailableError(StoreError):
    """The database cannot be reached. The message carries the URL with its password masked."""

    kind = "database-unavailable"


class NotIndexedError(IndexerError):
    """A query names a tag the database does not know."""

    kind = "not-indexed"


class SyncLockedError(IndexerError):
    """Another sync holds the single-run lock."""

    kind = "sync-locked"


class SyncFailedError(IndexerError):
    """A sync that ran to its end but lost more than the allowed share of its items."""

    kind = "sync-failed"
