"""What every command gets: the settings (built once from file, environment and options).

Light on purpose (every command imports it): the database helpers are in
:mod:`indexer.cli.database`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from indexer.settings import Settings, load_settings

__all__ = ["CliContext", "pass_cli"]


@dataclass
class CliContext:
    """Options of the ``indexer`` group, resolved lazily into :class:`Settings`."""

    config_path: Path | None
    overrides: dict[str, Any]
    _settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(config_path=self.config_path, overrides=self.overrides)
        return self._settings

    def with_overrides(self, **values: Any) -> Settings:
        """The settings with command-specific options applied (``None`` means not given)."""
        present = {key: value for key, value in values.items() if value is not None}
        return self.settings.replace(**present) if present else self.settings


pass_cli = click.make_pass_decorator(CliContext)
