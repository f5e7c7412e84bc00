"""Running the Alembic migrations from code (``indexer migrate``, tests)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from indexer.store.db import mask_url, normalize_database_url

__all__ = ["alembic_config", "head_revision", "migrations_dir", "upgrade"]


def migrations_dir() -> Path:
    """The ``migrations/`` folder beside the package (a source checkout or the image's /app)."""
    candidates = [Path(__file__).resolve().parents[2] / "migrations", Path.cwd() / "migrations"]
    for candidate in candidates:
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("migrations/ folder not found beside the indexer package")


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


def _upgrade(database_url: str, revision: str) -> None:
    command.upgrade(alembic_config(database_url), revision)


async def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema to ``revision``. Alembic's env runs its own event loop, so use a thread."""
    await asyncio.to_thread(_upgrade, database_url, revision)
