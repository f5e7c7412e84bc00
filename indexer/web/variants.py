"""The variants table of ``explain`` as the web view draws it: sizes per architecture as bars.

Without an architecture every variant shows a bar for each architecture it is built
for; with one (``?arch=arm64v8``) only that architecture's bar, the variants sorted
smallest first, so "which is smallest on arm64?" is the first row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from indexer.platforms import BASHBREW_ARCHES

__all__ = ["Bar", "VariantRow", "VariantTable", "variant_table"]

#: the width, in SVG units, of the largest size in the table
BAR_WIDTH = 160


@dataclass(frozen=True, slots=True)
class Bar:
    architecture: str
    size: int | None
    width: float


@dataclass(frozen=True, slots=True)
class VariantRow:
    sibling: Mapping[str, Any]
    bars: list[Bar]
    #: the smallest variant on the chosen architecture
    smallest: bool


@dataclass(frozen=True, slots=True)
class VariantTable:
    version: str
    #: architectures to choose from, in bashbrew's order
    architectures: list[str]
    #: the chosen architecture, or None for all of them
    architecture: str | None
    rows: list[VariantRow]


_ARCH_ORDER = {arch: index for index, arch in enumerate(BASHBREW_ARCHES)}


def _arch_key(arch: str) -> tuple[int, str]:
    return (_ARCH_ORDER.get(arch, len(_ARCH_ORDER)), arch)


def variant_table(explain: Mapping[str, Any], architecture: str | None) -> VariantTable:
    """The rows of ``explain --json``'s ``siblings`` with bars, for ``architecture`` or all."""
    siblings: Sequence[Mapping[str, Any]] = explain.get("siblings") or []
    arches = sorted({a for s in siblings for a in s["sizes"]}, key=_arch_key)
    chosen = architecture if architecture in arches else None
    shown = [chosen] if chosen else arches
    largest = max(
        (size for s in siblings for a, size in s["sizes"].items() if a in shown and size),
        default=0,
    )

    def bars(sibling: Mapping[str, Any]) -> list[Bar]:
        sizes: Mapping[str, int | None] = sibling["sizes"]
        return [
            Bar(
                arch,
                sizes.get(arch),
                BAR_WIDTH * (sizes.get(arch) or 0) / largest if largest else 0,
            )
            for arch in shown
            if arch in sizes
        ]

    ordered = list(siblings)
    if chosen:
        ordered.sort(key=lambda s: (s["sizes"].get(chosen) is None, s["sizes"].get(chosen) or 0))
    smallest = (
        ordered[0] if chosen and ordered and ordered[0]["sizes"].get(chosen) is not None else None
    )
    return VariantTable(
        version=str(explain.get("version") or ""),
        architectures=arches,
        architecture=chosen,
        rows=[VariantRow(s, bars(s), s is smallest) for s in ordered],
    )
