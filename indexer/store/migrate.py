"""Running the Alembic migrations from code (``indexer migrate``, tests).

The migrations are the top-level ``migrations/`` folder of the source tree (its
``env.py``, ``script.py.mako`` and ``versions/``). The wheel carries the same folder
as ``indexer/migrations`` (``force-include`` in ``pyproject.toml``), so an installed
package migrates without a source checkout; :func:`migrations_dir` finds either.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from indexer.store.db import mask_url, normalize_database_url

__all__ = [
    "MigrationResult",
    "alembic_config",
    "head_revision",
    "migrations_dir",
    "upgrade",
]

_PACKAGE = Path(__file__).resolve().parents[1]
#: where the migrations are: inside the installed package, else beside it in a checkout
MIGRATIONS_CANDIDATES = (_PACKAGE / "migrations", _PACKAGE.parent / "migrations")


@dataclass(frozen=True)
class MigrationResult:
    """What one upgrade did: the revision before (``None``: an empty database) and after."""

    before: str | None
    after: str | None
    #: the revisions applied, oldest first (empty when the schema was already current)
    applied: tuple[str, ...]


def migrations_dir() -> Path:
    """The Alembic folder: ``indexer/migrations`` in an installed wheel, else ``migrations/``."""
    for candidate in MIGRATIONS_CANDIDATES:
        if (candidate / "env.py").is_file():
            return candidate
    searched = ", ".join(str(candidate) for candidate in MIGRATIONS_CANDIDATES)
    raise FileNotFoundError(f"the migrations are missing from this installation ({searched})")


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at ``database_url`` (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    url = normalize_database_url(database_url)
    config.attributes["database_url"] = url.render_as_string(hide_password=False)
    config.attributes["masked_url"] = mask_url(url)
    return config


def head_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://"))
    head = script.get_current_head()
    assert head is not None
    return head


def _applied(config: Config, before: str | None, after: str | None) -> tuple[str, ...]:
    if after is None or before == after:
        return ()
    script = ScriptDirectory.from_config(config)
    newest_first = script.iterate_revisions(after, before or "base")
    return tuple(reversed([revision.revision for revision in newest_first]))


def _upgrade(database_url: str, revision: str) -> MigrationResult:
    config = alembic_config(database_url)
    command.upgrade(config, revision)
    before = config.attributes.get("revision_before")
    after = config.attributes.get("revision_after")
    return MigrationResult(before, after, _applied(config, before, after))


async def upgrade(database_url: str, revision: str = "head") -> MigrationResult:
    """Bring the schema to ``revision``. Alembic's env runs its own event loop, so use a thread.

    The revisions before and after are read by ``env.py`` under the migration lock.
    """
    return await asyncio.to_thread(_upgrade, database_url, revision)
