"""Output of the query commands: JSON for ``--json``; text fitted to where it goes.

On a terminal, output is fitted to its width: ``label  value`` lines wrap under
their value, table cells that do not fit end in ``…`` (the widest columns give way
first); ``--wide`` shows every value whole on one line. Piped or redirected, tables
are tab-separated with a header line and nothing is cut, so ``cut`` and ``awk`` read
them. Times in text read ``2026-08-20 10:13Z`` (UTC); JSON keeps ISO 8601.
"""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import click

__all__ = [
    "ARROW",
    "Screen",
    "echo_json",
    "fit_widths",
    "plural",
    "text_time",
    "wide_option",
]

#: between the links of an ancestor chain
ARROW = " → "
ELLIPSIS = "…"
#: width of the label column of ``label  value`` lines
LABEL_WIDTH = 12
#: spaces between two table columns
GAP = 2
#: a column is not narrowed below its header or this many characters, whichever is less
MIN_COLUMN = 6

wide_option = click.option(
    "--wide", is_flag=True, help="Show every value whole instead of fitting the terminal width."
)


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout."""
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 image``, ``2 images`` (``plural_form`` for irregular words)."""
    word = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{count} {word}"


def text_time(value: datetime | str | None) -> str:
    """A time as text output shows it: ``2026-08-20 10:13Z`` (UTC); ``-`` when unknown."""
    if value is None:
        return "-"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")


def _fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, ending in ``…`` when cut."""
    if width < 1:
        return ""
    return text if len(text) <= width else text[: width - 1] + ELLIPSIS


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return " ".join(text.split("\t")).replace("\n", " ")


@dataclass(frozen=True)
class Screen:
    """Where text output goes: a terminal of ``width`` columns, or a pipe (``terminal`` false)."""

    terminal: bool
    width: int
    wide: bool = False

    @classmethod
    def stdout(cls, *, wide: bool = False) -> Screen:
        """The screen of this process' stdout."""
        terminal = sys.stdout.isatty()
        width = shutil.get_terminal_size().columns if terminal else 0
        return cls(terminal=terminal, width=width, wide=wide)

    @property
    def fits(self) -> bool:
        """Whether lines are cut to the terminal width."""
        return self.terminal and not self.wide

    def line(self, text: str) -> None:
        click.echo(_fit(text, self.width) if self.fits else text)

    def title(self, text: str) -> None:
        click.echo(click.style(text, bold=True) if self.terminal else text)

    def field(self, label: str, value: str) -> None:
        """One ``  label       value`` line; on a terminal the value wraps under itself."""
        indent = " " * (2 + LABEL_WIDTH)
        head = f"  {label:<{LABEL_WIDTH}}"
        if not self.fits or len(head) + len(value) <= self.width:
            click.echo(head + value)
            return
        lines = textwrap.wrap(
            value,
            width=max(self.width - len(indent), 10),
            break_on_hyphens=False,
            break_long_words=False,
        )
        click.echo(head + lines[0])
        for line in lines[1:]:
            click.echo(indent + line)

    def table(
        self,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        keep: Sequence[str] = (),
    ) -> None:
        """A table: aligned on a terminal, tab-separated with a header line when piped.

        The ``keep`` columns are not narrowed while the others can give way.
        """
        cells = [[_cell(value) for value in row] for row in rows]
        if not self.terminal:
            click.echo("\t".join(columns))
            for row in cells:
                click.echo("\t".join(row))
            return
        natural = [
            max([len(column), *(len(row[index]) for row in cells)])
            for index, column in enumerate(columns)
        ]
        widths = natural
        if not self.wide:
            available = self.width - GAP * (len(columns) - 1)
            minimum = [
                min(n, max(len(c), MIN_COLUMN)) for n, c in zip(natural, columns, strict=True)
            ]
            kept = [i for i, column in enumerate(columns) if column in keep]
            if kept:
                room = available - sum(m for i, m in enumerate(minimum) if i not in kept)
                for i in kept:
                    minimum[i] = max(minimum[i], min(natural[i], room // len(kept)))
            widths = fit_widths(natural, minimum, available)
        header = _row(columns, widths)
        click.echo(click.style(header, bold=True))
        for row in cells:
            click.echo(_row(row, widths))


def fit_widths(natural: Sequence[int], minimum: Sequence[int], available: int) -> list[int]:
    """Column widths that fit ``available`` characters: the widest columns give way first.

    No column goes below its ``minimum``; when even those do not fit, the line is
    as narrow as they allow.
    """
    widths = list(natural)
    excess = sum(widths) - available
    while excess > 0:
        shrinkable = [i for i, width in enumerate(widths) if width > minimum[i]]
        if not shrinkable:
            break
        widest = max(widths[i] for i in shrinkable)
        candidates = [i for i in shrinkable if widths[i] == widest]
        others = [widths[i] for i in shrinkable if widths[i] < widest]
        # bring the widest columns down to the next width (or as far as needed)
        floor = max([*others, *(minimum[i] for i in candidates)])
        step = min(widest - floor, -(-excess // len(candidates))) or 1
        for i in candidates:
            cut = min(step, widths[i] - minimum[i], excess)
            widths[i] -= cut
            excess -= cut
    return widths


def _row(values: Sequence[str], widths: Sequence[int]) -> str:
    cells = [_fit(value, width).ljust(width) for value, width in zip(values, widths, strict=True)]
    return (" " * GAP).join(cells).rstrip()
