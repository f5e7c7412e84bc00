"""Database URLs without SQLAlchemy: which backend, which file or server, the masked form.

The read commands open their database from here (``indexer show`` never imports
SQLAlchemy); :mod:`indexer.store.db` builds its engine URL from the same parse, so both
paths accept the same URLs and answer the same errors:

- ``sqlite[+aiosqlite]:///relative.db``, ``sqlite[+aiosqlite]:////absolute.db``,
  ``sqlite://`` (in memory);
- ``postgresql[+asyncpg]://user:password@host:port/database?options`` (and ``postgres://``).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

from indexer.errors import DatabaseUnavailableError
from indexer.settings import DATABASE_SCHEMES

__all__ = ["DatabaseUrl", "mask_url", "parse_database_url"]


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    """A database URL with its async driver picked (``sqlite+aiosqlite``, ``postgresql+asyncpg``)."""

    #: the URL as SQLAlchemy's engine takes it: the scheme names the async driver
    url: str
    #: ``sqlite`` or ``postgresql``
    dialect: str
    #: the URL with its password replaced by ``***``
    masked: str

    @property
    def sqlite_path(self) -> str | None:
        """The SQLite file (as written, relative or absolute); None in memory or on PostgreSQL."""
        if self.dialect != "sqlite":
            return None
        rest = self.url.split("://", 1)[1]
        path = rest[1:] if rest.startswith("/") else rest
        path = unquote(path.split("?", 1)[0])
        return path if path and path != ":memory:" else None

    @property
    def postgres_dsn(self) -> str:
        """The URL as a libpq-style DSN for asyncpg (``postgresql://…``)."""
        return "postgresql://" + self.url.split("://", 1)[1]


def _masked(scheme: str, rest: str) -> str:
    parts = urlsplit(f"{scheme}://{rest}")
    if parts.password is None:
        return f"{scheme}://{rest}"
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((scheme, f"{user}:***@{host}", parts.path, parts.query, parts.fragment))


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (``<unparsable URL>`` if it is none)."""
    scheme, separator, rest = url.partition("://")
    if not separator or not scheme:
        return "<unparsable URL>"
    try:
        return _masked(scheme, rest)
    except ValueError:
        return "<unparsable URL>"


def parse_database_url(url: str) -> DatabaseUrl:
    """Check ``url`` and pick the async driver when a plain scheme is given.

    Raises :class:`DatabaseUnavailableError` for a URL that is none, or names a driver
    that is not installed.
    """
    scheme, separator, rest = url.partition("://")
    if not separator or not scheme:
        raise DatabaseUnavailableError(f"invalid database URL {url!r}: no scheme")
    try:
        masked = _masked(scheme, rest)
        if not scheme.startswith("sqlite"):
            urlsplit(url).port  # noqa: B018 - raises ValueError for a port that is no number
    except ValueError as exc:
        raise DatabaseUnavailableError(f"invalid database URL {mask_url(url)!r}: {exc}") from None
    driver = DATABASE_SCHEMES.get(scheme)
    if driver is None:
        raise DatabaseUnavailableError(f"unsupported database driver {scheme!r} in {masked}")
    dialect = driver.split("+", 1)[0]
    return DatabaseUrl(f"{driver}://{rest}", dialect, _masked(driver, rest))
