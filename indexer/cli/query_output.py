"""Terminal output of the query commands (``--json`` prints the views' ``as_json`` instead)."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from indexer.cli.render import print_table, stdout_console
from indexer.lineage.graph import LineageGraph
from indexer.store.queries import (
    ChildRow,
    ExplainView,
    HistoryView,
    PlatformInfo,
    StaleImage,
    TagView,
)

__all__ = [
    "graph_json",
    "human_size",
    "print_children",
    "print_explain",
    "print_history",
    "print_show",
    "print_stale",
]


def human_size(size: int | None) -> str:
    """``45.0 MB`` (decimal units, as the Hub shows compressed sizes); ``-`` when unknown."""
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"  # pragma: no cover


#: width of output that is not a terminal (a pipe, a file): long lines are not wrapped
PIPE_WIDTH = 250


def _console() -> Console:
    """The stdout console; wide when stdout is not a terminal, so pipes get whole lines."""
    console = stdout_console()
    if console.is_terminal:
        return console
    return Console(highlight=False, soft_wrap=False, width=PIPE_WIDTH)


def _field(console: Console, label: str, value: str) -> None:
    """One ``label  value`` line, never wrapped or read as markup."""
    console.print(f"  {label:<12}{value}", soft_wrap=True, markup=False)


def _title(console: Console, text: str) -> None:
    console.print(text, style="bold", soft_wrap=True, markup=False)


def _chains(platforms: list[PlatformInfo]) -> list[tuple[str, list[str]]]:
    """Each distinct ancestor chain (with its note) and the architectures that have it."""
    chains: dict[str, list[str]] = {}
    for platform in platforms:
        chain = " -> ".join(platform.ancestors) or "-"
        if platform.ancestors_note:
            chain += f"  ({platform.ancestors_note})"
        arches = chains.setdefault(chain, [])
        if platform.architecture not in arches:
            arches.append(platform.architecture)
    return list(chains.items())


def print_show(view: TagView) -> None:
    console = _console()
    _title(console, f"{view.repository}:{view.tag}")
    _field(console, "canonical", f"{view.repository}:{view.canonical_tag or '-'}")
    _field(console, "aliases", ", ".join(view.aliases) or "-")
    _field(console, "shared tags", ", ".join(view.shared_tags) or "-")
    _field(console, "maintained", "yes" if view.maintained else "no")
    if view.hub:
        _field(console, "digest", f"{view.hub['digest']} (updated {view.hub['last_updated']})")
    chains = _chains(view.platforms)
    for index, (chain, arches) in enumerate(chains or [("-", [])]):
        suffix = f"   [{', '.join(arches)}]" if len(chains) > 1 else ""
        _field(console, "ancestors" if index == 0 else "", chain + suffix)
    several = len({p.stanza for p in view.platforms}) > 1
    columns = ["architecture", *(["stanza"] if several else []), "parent", "builder", "error"]
    print_table(
        None,
        columns,
        (
            (
                p.architecture,
                *([p.stanza] if several else []),
                p.parent or "-",
                p.builder,
                p.error,
            )
            for p in view.platforms
        ),
        console,
    )


def print_children(rows: list[ChildRow]) -> None:
    console = _console()
    print_table(
        None,
        ["depth", "image", "aliases", "architectures", "parent", "stale"],
        (
            (
                row.depth,
                f"{row.repository}:{row.tag}",
                ", ".join(row.aliases),
                ", ".join(row.architectures),
                ", ".join(row.parents),
                ", ".join(row.stale),
            )
            for row in rows
        ),
        console,
    )


def print_explain(view: ExplainView) -> None:
    console = _console()
    _title(console, f"{view.repository}:{view.tag}")
    _field(console, "canonical", f"{view.repository}:{view.canonical_tag or '-'}")
    _field(console, "aliases", ", ".join(view.aliases) or "-")
    if view.shared_tags:
        _field(console, "shared tags", ", ".join(view.shared_tags))
    base = view.base.label if view.base else "unknown"
    if view.base and view.base.inferred:
        base += " (inferred from the tag names)"
    _field(console, "base", base)
    _field(console, "ancestors", " -> ".join(view.ancestors) or "-")
    _field(console, "variant", view.variant)
    _field(console, "C library", view.c_library or "-")
    _field(console, "updated", view.last_updated or "-")
    _field(
        console,
        "built on by",
        f"{view.built_on_by.direct} images directly, {view.built_on_by.total} in all",
    )
    several = len({p.stanza for p in view.platforms}) > 1
    print_table(
        None,
        ["architecture", *(["stanza"] if several else []), "parent", "base", "size", "published"],
        (
            (
                p.architecture,
                *([p.stanza] if several else []),
                p.parent or "-",
                p.base.label if p.base else "-",
                human_size(p.size),
                _published(p.stale),
            )
            for p in view.platforms
        ),
        console,
    )
    if not view.siblings:
        return
    console.print(f"variants of {view.repository}:{view.version}", markup=False)
    print_table(
        None,
        ["", "tag", "variant", "C library", "base", "size (amd64)", "architectures"],
        (
            (
                "*" if s.selected else "",
                s.tag,
                s.variant,
                s.c_library or "-",
                s.base.label if s.base else "-",
                human_size(s.sizes.get("amd64", next(iter(s.sizes.values()), None))),
                ", ".join(s.architectures),
            )
            for s in view.siblings
        ),
        console,
    )


def print_history(view: HistoryView) -> None:
    console = _console()
    _title(console, f"{view.repository}:{view.tag}")
    if view.removed_at is not None:
        _field(console, "removed", view.removed_at.isoformat())
    if view.at is not None:
        answer = view.at_interval.digest if view.at_interval else "unknown"
        _field(console, "at", f"{view.at.isoformat()}: {answer}")
    if not view.intervals:
        _field(console, "digests", "none recorded (no sync has read this tag from the Hub)")
        return
    print_table(
        None,
        ["digest", "first seen", "last seen", ""],
        (
            (
                i.digest,
                i.first_seen.isoformat(),
                i.last_seen.isoformat(),
                "current" if i.current else "",
            )
            for i in view.intervals
        ),
        console,
    )


def graph_json(graph: LineageGraph) -> dict[str, Any]:
    """Nodes and edges for ``indexer graph --json``."""
    return {
        "nodes": [
            {
                "id": node.key,
                "title": node.title,
                "kind": node.kind.value,
                "aliases": list(node.aliases),
                "focus": node.focus,
            }
            for node in graph.nodes.values()
        ],
        "edges": [
            {"parent": e.parent, "child": e.child, "architectures": list(e.architectures)}
            for e in graph.edges
        ],
    }


def _published(stale: bool | None) -> str:
    """The explain column: is the published image on its base's current build?"""
    if stale is None:
        return "-"
    return "stale base" if stale else "current base"


def print_stale(rows: list[StaleImage]) -> None:
    """``indexer stale``: images on an outdated base build, oldest first."""
    console = _console()
    print_table(
        None,
        ["image", "architecture", "base", "base moved", "pending"],
        (
            (
                f"{row.build.repository}:{row.build.tag}",
                row.build.architecture,
                row.build.base_name or "-",
                (row.build.stale_since or "-")
                + ("" if row.build.stale_since_exact else " (last push)"),
                "yes" if row.build.pending else "",
            )
            for row in rows
        ),
        console,
    )
