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
    │   ├── NotFoundError             404: the upstream does not have it
    │   ├── BodyTooLargeError         the answer exceeded the configured size cap
    │   ├── ForbiddenTargetError      a URL outside the allow-list; never requested
    │   └── DigestMismatchError       a manifest body whose sha256 is not the digest asked for
    ├── StoreError                    the database layer
    │   └── DatabaseUnavailableError  cannot connect (message masks the password)
    ├── NotIndexedError               a query for a tag the database does not know
    └── SyncLockedError               another sync holds the single-run lock

Errors that belong to one item (a stanza, a Dockerfile, a Hub page) are caught by
the sync pipeline and stored with the item and the sync run; only errors that make
the whole run impossible propagate to the command line.
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
    "RetryableUpstreamError",
    "StoreError",
    "SyncLockedError",
    "UnresolvedReferenceError",
    "UpstreamError",
]


class IndexerError(Exception):
    """Base class of every error the indexer raises deliberately."""

    #: short machine-readable kind, stored with item errors and used in summaries
    kind: str = "error"


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
