"""A click group whose commands are imported only when they run.

Each command is named by ``"module:attribute"``; :meth:`LazyGroup.get_command`
imports that module the first time the command is asked for, so ``indexer show``
never loads the sync pipeline, Alembic or aiohttp. The group's ``--help`` lists
every command without importing any: the one-line summaries are read from the
docstrings in the modules' source (:func:`docstring_of`), falling back to an import
where the source cannot be read.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import click

__all__ = ["LazyGroup", "docstring_of"]


def _split(target: str) -> tuple[str, str]:
    module, _, attribute = target.partition(":")
    return module, attribute


@cache
def docstring_of(target: str) -> str | None:
    """The docstring of the function ``module:attribute``, read from its source file.

    ``None`` when the module's source cannot be found or holds no such function.
    """
    module, attribute = _split(target)
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    try:
        tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == attribute:
            return ast.get_docstring(node)
    return None


class LazyGroup(click.Group):
    """A group of eagerly added commands plus ``lazy_commands`` (name: ``module:attribute``)."""

    def __init__(self, *args: Any, lazy_commands: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands)
        #: called once a command's module is loaded (the program freezes what it imported)
        self.on_load: Callable[[], None] | None = None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in self.lazy_commands:
            return super().get_command(ctx, cmd_name)
        module, attribute = _split(self.lazy_commands[cmd_name])
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy_commands[cmd_name]} is not a click command")
        self.add_command(command, cmd_name)
        if self.on_load is not None:
            self.on_load()
        return command

    def _summary(self, ctx: click.Context, name: str, limit: int) -> str:
        target = self.lazy_commands.get(name)
        if name in self.commands or target is None:
            command = self.get_command(ctx, name)
            return command.get_short_help_str(limit) if command is not None else ""
        doc = docstring_of(target)
        if doc is None:
            command = self.get_command(ctx, name)
            return command.get_short_help_str(limit) if command is not None else ""
        return click.Command(name, help=doc).get_short_help_str(limit)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, self._summary(ctx, name, limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
