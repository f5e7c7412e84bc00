"""Text output of the query commands (``--json`` prints the views' ``as_json`` instead)."""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING, Any

from indexer.cli.render import ARROW, Screen, plural, text_time

if TYPE_CHECKING:
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
    "ancestor_lines",
    "at_answer",
    "graph_json",
    "human_size",
    "print_children",
    "print_explain",
    "print_history",
    "print_show",
    "print_stale",
]

#: what a chain note says per architecture or per request, left out where chains are grouped
_ARCH_IN_NOTE = re.compile(r" \([a-z0-9-]+\)(?= is unresolved)")
_URL_IN_NOTE = re.compile(r"(: | \()https?://\S+\)?")


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


def _general_note(note: str) -> str:
    """A chain note without the architecture and URL it names, so equal notes group."""
    return _URL_IN_NOTE.sub("", _ARCH_IN_NOTE.sub("", note))


def ancestor_lines(platforms: list[PlatformInfo]) -> list[str]:
    """Each distinct ancestor chain once, prefixed with the architectures that have it.

    ``amd64, arm64v8: debian:trixie-slim → scratch``; a single chain shared by every
    architecture is shown without the list.
    """
    stanzas_per_arch = Counter(platform.architecture for platform in platforms)
    chains: dict[str, list[str]] = {}
    for platform in platforms:
        chain = ARROW.join(platform.ancestors) or "-"
        if platform.ancestors_note:
            chain += f" ({_general_note(platform.ancestors_note)})"
        arch = platform.architecture
        if stanzas_per_arch[arch] > 1:
            arch += f" ({platform.stanza})"
        arches = chains.setdefault(chain, [])
        if arch not in arches:
            arches.append(arch)
    if len(chains) <= 1:
        return list(chains) or ["-"]
    return [f"{', '.join(arches)}: {chain}" for chain, arches in chains.items()]


def print_show(view: TagView, *, wide: bool = False) -> None:
    screen = Screen.stdout(wide=wide)
    screen.title(f"{view.repository}:{view.tag}")
    screen.field("canonical", f"{view.repository}:{view.canonical_tag or '-'}")
    screen.field("aliases", ", ".join(view.aliases) or "-")
    screen.field("shared tags", ", ".join(view.shared_tags) or "-")
    screen.field("maintained", "yes" if view.maintained else "no")
    if view.hub:
        updated = text_time(view.hub.get("last_updated"))
        screen.field("digest", f"{view.hub['digest']} (updated {updated})")
    for index, line in enumerate(ancestor_lines(view.platforms)):
        screen.field("ancestors" if index == 0 else "", line)
    several = len({p.stanza for p in view.platforms}) > 1
    columns = ["architecture", *(["stanza"] if several else []), "parent", "builder", "error"]
    screen.table(
        columns,
        (
            (
                p.architecture,
                *([p.stanza] if several else []),
                p.parent or "-",
                p.builder or "-",
                p.error or "",
            )
            for p in view.platforms
        ),
        keep=("architecture", "parent"),
    )
    for index, (warning, arches) in enumerate(_warnings(view.platforms)):
        screen.field("warnings" if index == 0 else "", f"{warning}   [{', '.join(arches)}]")


def _warnings(platforms: list[PlatformInfo]) -> list[tuple[str, list[str]]]:
    """Each distinct BuildKit warning of the platforms, with the architectures it is on."""
    found: dict[str, list[str]] = {}
    for platform in platforms:
        for warning in platform.warnings:
            text = f"line {warning.get('line')}: {warning.get('rule')}: {warning.get('message')}"
            arches = found.setdefault(text, [])
            if platform.architecture not in arches:
                arches.append(platform.architecture)
    return list(found.items())


def print_children(rows: list[ChildRow], *, wide: bool = False) -> None:
    Screen.stdout(wide=wide).table(
        ["depth", "image", "architectures", "parent", "aliases", "stale"],
        (
            (
                row.depth,
                f"{row.repository}:{row.tag}",
                ", ".join(row.architectures),
                ", ".join(row.parents),
                ", ".join(row.aliases),
                ", ".join(row.stale),
            )
            for row in rows
        ),
        keep=("image",),
    )


def print_explain(view: ExplainView, *, wide: bool = False) -> None:
    screen = Screen.stdout(wide=wide)
    screen.title(f"{view.repository}:{view.tag}")
    screen.field("canonical", f"{view.repository}:{view.canonical_tag or '-'}")
    screen.field("aliases", ", ".join(view.aliases) or "-")
    if view.shared_tags:
        screen.field("shared tags", ", ".join(view.shared_tags))
    base = view.base.label if view.base else "unknown"
    if view.base and view.base.inferred:
        base += " (inferred from the tag names)"
    screen.field("base", base)
    screen.field("ancestors", ARROW.join(view.ancestors) or "-")
    screen.field("variant", view.variant)
    screen.field("C library", view.c_library or "-")
    screen.field("updated", text_time(view.last_updated))
    built_on = view.built_on_by
    screen.field(
        "built on by",
        f"{plural(built_on.direct, 'image')} directly, {built_on.total} in all",
    )
    several = len({p.stanza for p in view.platforms}) > 1
    screen.table(
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
    )
    if not view.siblings:
        return
    screen.line("")
    screen.line(f"variants of {view.repository}:{view.version}")
    screen.table(
        ["", "tag", "variant", "libc", "base", "amd64", "architectures"],
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
        keep=("tag",),
    )


def at_answer(view: HistoryView) -> str | None:
    """What ``--at`` answers in text, saying why when the index cannot tell or only assumes."""
    if view.at is None:
        return None
    moment = text_time(view.at)
    interval = view.at_interval
    if interval is not None:
        if view.at > interval.last_seen:
            return (
                f"{moment}: {interval.digest} (after the last sighting, "
                f"{text_time(interval.last_seen)}; no change seen since)"
            )
        return f"{moment}: {interval.digest}"
    if not view.intervals:
        return f"{moment}: unknown (no digest recorded)"
    first = min(view.intervals, key=lambda i: i.first_seen)
    if view.at < first.first_seen:
        return f"{moment}: unknown (before the first sighting, {text_time(first.first_seen)})"
    last = max(view.intervals, key=lambda i: i.last_seen)
    return (
        f"{moment}: unknown (after the last sighting, {text_time(last.last_seen)}; "
        "the tag has left the Hub)"
    )


def print_history(view: HistoryView, *, wide: bool = False) -> None:
    screen = Screen.stdout(wide=wide)
    screen.title(f"{view.repository}:{view.tag}")
    if view.removed_at is not None:
        screen.field("removed", text_time(view.removed_at))
    answer = at_answer(view)
    if answer is not None:
        screen.field("at", answer)
    if not view.intervals:
        screen.field("digests", "none recorded (no sync has read this tag from the Hub)")
        return
    screen.table(
        ["digest", "first seen", "last seen", ""],
        (
            (
                i.digest,
                text_time(i.first_seen),
                text_time(i.last_seen),
                "current" if i.current else "",
            )
            for i in view.intervals
        ),
        keep=("digest",),
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


def print_stale(rows: list[StaleImage], *, wide: bool = False) -> None:
    """``indexer stale``: images on an outdated base build, oldest first."""
    Screen.stdout(wide=wide).table(
        ["image", "architecture", "base", "base moved", "pending"],
        (
            (
                f"{row.build.repository}:{row.build.tag}",
                row.build.architecture,
                row.build.base_name or "-",
                (text_time(row.build.stale_since) if row.build.stale_since else "-")
                + ("" if row.build.stale_since_exact else " (last push)"),
                "yes" if row.build.pending else "",
            )
            for row in rows
        ),
        keep=("image",),
    )
