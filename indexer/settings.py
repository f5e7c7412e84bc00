"""Configuration: one typed, immutable settings object, built once and passed in explicitly.

Precedence, lowest to highest: the defaults below < the TOML file
(``config/indexer.toml`` or the file named by ``INDEXER_CONFIG``) < ``INDEXER_*``
environment variables < command-line options. Every key is documented in
``config/indexer.toml``; an invalid value fails at start with a message naming the key.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from indexer.errors import ConfigError

__all__ = ["DEFAULT_CONFIG_PATH", "Settings", "load_settings"]

DEFAULT_CONFIG_PATH = Path("config/indexer.toml")
ENV_PREFIX = "INDEXER_"
#: ``INDEXER_*`` variables that are not settings: the config file's name, and those
#: the tests and benchmarks read (``INDEXER_TEST_*``, ``INDEXER_CORPUS``)
OTHER_VARIABLES = frozenset({"INDEXER_CONFIG", "INDEXER_CORPUS"})
OTHER_PREFIXES = ("INDEXER_TEST_",)
#: the database URL schemes the installed drivers serve (a plain scheme picks the driver)
DATABASE_SCHEMES = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}

log = logging.getLogger("indexer.settings")


@dataclass(frozen=True)
class Settings:
    """Every setting of the indexer, with its default."""

    #: SQLAlchemy URL; async drivers: sqlite+aiosqlite (default) or postgresql+asyncpg
    database_url: str = "sqlite+aiosqlite:///indexer.db"
    hub_url: str = "https://hub.docker.com"
    github_api_url: str = "https://api.github.com"
    github_raw_url: str = "https://raw.githubusercontent.com"
    github_token: str | None = None
    #: the most requests in flight at once, over all upstreams
    concurrency: int = 16
    #: cron expression (UTC) for ``indexer schedule``: nightly at 03:00
    schedule: str = "0 3 * * *"
    #: official-images branch whose head is indexed
    branch: str = "master"
    #: Docker Hub namespace of the official images
    hub_namespace: str = "library"
    #: GitRepo hosts whose Dockerfiles may be fetched; others are recorded as unsupported
    allowed_git_hosts: tuple[str, ...] = ("github.com",)
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    #: tries per request before the item is given up and recorded as an error
    max_tries: int = 6
    #: first backoff delay in seconds; doubles each try, with jitter
    backoff_base: float = 0.5
    #: longest single wait, also the cap on a server's Retry-After
    backoff_max: float = 60.0
    #: answers larger than this are cut off and recorded as errors
    max_body_bytes: int = 32 * 1024 * 1024
    hub_page_size: int = 100
    #: a full Hub reconcile (marks tags gone from the Hub as removed) at most this often
    full_reconcile_days: float = 7.0
    #: read the Hub's repository list first and skip the tag pages of repositories
    #: whose last push is the one already read
    hub_repository_listing: bool = True
    #: a run that lost more than this share of its items (upstream failures other than
    #: 404) is recorded ``failed`` and exits 2; fewer make it ``partial``
    max_item_error_share: float = 0.2
    #: misfire grace time of the scheduled job, seconds
    misfire_grace_seconds: int = 3600
    #: run one sync immediately when ``indexer schedule`` starts
    run_at_start: bool = False
    log_level: str = "INFO"
    #: the registry manifests are read from, and its token service
    registry_url: str = "https://registry-1.docker.io"
    registry_auth_url: str = "https://auth.docker.io"
    #: Basic credentials for the token service; none: anonymous pulls
    registry_username: str | None = None
    registry_password: str | None = None
    #: stop reading manifests once the registry's ``ratelimit-remaining`` is this low;
    #: the next runs read the rest
    registry_pull_reserve: int = 10
    #: a manifest or index larger than this is cut off and recorded as an error
    registry_max_manifest_bytes: int = 4 * 1024 * 1024

    def __post_init__(self) -> None:
        _validate(self)

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied (validated like any other source)."""
        return dataclasses.replace(self, **_coerce_all(changes, source="option"))


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


def _validate(settings: Settings) -> None:
    if not settings.database_url.strip():
        raise ConfigError("database_url", "must not be empty")
    if "://" not in settings.database_url:
        raise ConfigError("database_url", f"not a database URL: {settings.database_url!r}")
    scheme = settings.database_url.split("://", 1)[0].lower()
    if scheme not in DATABASE_SCHEMES:
        raise ConfigError(
            "database_url",
            f"unsupported database {scheme!r}: use sqlite+aiosqlite:///FILE "
            "or postgresql+asyncpg://USER@HOST/DB",
        )
    for key in ("hub_url", "github_api_url", "github_raw_url", "registry_url", "registry_auth_url"):
        value: str = getattr(settings, key)
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(key, f"must be an http(s) URL, got {value!r}")
    positive_ints = (
        "concurrency",
        "max_tries",
        "max_body_bytes",
        "hub_page_size",
        "registry_max_manifest_bytes",
    )
    for key in positive_ints:
        if getattr(settings, key) < 1:
            raise ConfigError(key, "must be at least 1")
    for key in ("connect_timeout", "read_timeout", "backoff_max", "full_reconcile_days"):
        if getattr(settings, key) <= 0:
            raise ConfigError(key, "must be greater than 0")
    if not 0.0 <= settings.max_item_error_share <= 1.0:
        raise ConfigError("max_item_error_share", "must be between 0 and 1")
    if settings.registry_pull_reserve < 0:
        raise ConfigError("registry_pull_reserve", "must not be negative")
    if (settings.registry_username is None) != (settings.registry_password is None):
        raise ConfigError("registry_username", "set both registry_username and _password")
    if settings.backoff_base < 0:
        raise ConfigError("backoff_base", "must not be negative")
    if settings.misfire_grace_seconds < 1:
        raise ConfigError("misfire_grace_seconds", "must be at least 1")
    if len(settings.schedule.split()) != 5:
        raise ConfigError("schedule", f"needs 5 cron fields, got {settings.schedule!r}")
    if settings.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError("log_level", f"unknown level {settings.log_level!r}")


def _coerce(key: str, value: Any, *, source: str) -> Any:
    """Convert a raw value (TOML value or environment string) to the field's type."""
    if key not in _FIELDS:
        raise ConfigError(key, f"unknown setting (from {source})")
    annotation = str(_FIELDS[key].type)
    try:
        if annotation == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"not a boolean: {value!r}")
        if annotation == "int":
            if isinstance(value, bool):
                raise ValueError(f"not an integer: {value!r}")
            return int(value)
        if annotation == "float":
            if isinstance(value, bool):
                raise ValueError(f"not a number: {value!r}")
            return float(value)
        if annotation.startswith("tuple"):
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(item).strip() for item in items if str(item).strip())
        if annotation == "str | None":
            return None if value is None or value == "" else str(value)
        if not isinstance(value, str):
            raise ValueError(f"not a string: {value!r}")
    except (TypeError, ValueError) as exc:
        raise ConfigError(key, f"{exc} (from {source})") from None
    return value


def _coerce_all(values: Mapping[str, Any], *, source: str) -> dict[str, Any]:
    return {key: _coerce(key, value, source=source) for key, value in values.items()}


def _read_toml(path: Path, *, named_by: str) -> dict[str, Any]:
    """The ``[indexer]`` table of ``path`` (or its top level when it has none).

    ``named_by`` says where the file name came from (``--config``, ``INDEXER_CONFIG``
    or the default path), for the error message. Other tables are warned about.
    """
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(named_by, f"{path}: {exc}") from None
    except OSError as exc:
        raise ConfigError(named_by, f"cannot read {path}: {exc.strerror}") from None
    if "indexer" not in data:
        return data
    section = data["indexer"]
    if not isinstance(section, dict):
        raise ConfigError(named_by, f"{path}: [indexer] must be a table")
    for key, value in data.items():
        if key == "indexer":
            continue
        what = f"table [{key}]" if isinstance(value, dict) else f"key {key!r}"
        log.warning("%s: %s is not read (settings belong in [indexer])", path, what)
    return section


def _warn_unknown_variables(env: Mapping[str, str]) -> None:
    """A warning for each ``INDEXER_*`` variable that names no setting (a typo, usually)."""
    known = {ENV_PREFIX + key.upper() for key in _FIELDS}
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX) or name in known or name in OTHER_VARIABLES:
            continue
        if name.startswith(OTHER_PREFIXES):
            continue
        close = difflib.get_close_matches(name, sorted(known | OTHER_VARIABLES), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        log.warning("unknown environment variable %s is ignored%s", name, hint)


def _config_file(config_path: Path | None, env: Mapping[str, str]) -> tuple[Path, str] | None:
    """The settings file to read and what named it; ``None`` when there is none."""
    if config_path is not None:
        if not config_path.is_file():
            raise ConfigError("--config", f"no such file: {config_path}")
        return config_path, "--config"
    if env.get("INDEXER_CONFIG"):
        path = Path(env["INDEXER_CONFIG"])
        if not path.is_file():
            raise ConfigError("INDEXER_CONFIG", f"no such file: {path}")
        return path, "INDEXER_CONFIG"
    if DEFAULT_CONFIG_PATH.is_file():
        return DEFAULT_CONFIG_PATH, str(DEFAULT_CONFIG_PATH)
    return None


def load_settings(
    *,
    config_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the settings: defaults < TOML file < environment < ``overrides``.

    ``config_path`` (``--config``) defaults to ``$INDEXER_CONFIG`` or, if that is
    unset, ``config/indexer.toml`` when it exists. ``overrides`` holds command-line
    options; ``None`` values in it are ignored. Unknown ``INDEXER_*`` variables and
    tables of the file other than ``[indexer]`` are logged as warnings.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config = _config_file(config_path, env)
    if config is not None:
        path, named_by = config
        values.update(_coerce_all(_read_toml(path, named_by=named_by), source=str(path)))
    _warn_unknown_variables(env)
    for key in _FIELDS:
        name = ENV_PREFIX + key.upper()
        if name in env:
            values[key] = _coerce(key, env[name], source=name)
    if overrides:
        present = {k: v for k, v in overrides.items() if v is not None}
        values.update(_coerce_all(present, source="command line"))
    return Settings(**values)
