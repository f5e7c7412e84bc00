"""What each page shows, read through the store's query functions.

A :class:`Page` holds the JSON answer (``data``: the shapes of the CLI's ``--json``)
and what the HTML template needs besides it. Nothing here writes to the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from indexer.cli.query_output import graph_json
from indexer.cli.run_report import load_reports, reports_json
from indexer.store import queries
from indexer.store.queries.catalogue import most_used_bases, repository_names, repository_view
from indexer.store.read import Reader
from indexer.web.layout import add_children, layered_layout
from indexer.web.variants import variant_table

__all__ = ["CHILDREN_SHOWN", "Page", "front_page", "repository_page", "runs_page", "tag_page"]

#: rows of a tag's transitive children listed on its page (all of them are in the JSON)
CHILDREN_SHOWN = 150
#: direct children drawn under the tag in its lineage picture (the rest are listed below it)
CHILDREN_DRAWN = 4
#: runs listed on the runs page
RUNS_SHOWN = 20


@dataclass(slots=True)
class Page:
    """A template and its context, and the JSON answer of the same URL."""

    template: str
    data: Any
    context: dict[str, Any] = field(default_factory=dict)


async def front_page(reader: Reader) -> Page:
    bases = [base.as_json() for base in await most_used_bases(reader)]
    repositories = await repository_names(reader)
    data = {"bases": bases, "repositories": repositories}
    return Page("front.html", data)


async def repository_page(
    reader: Reader, name: str, *, tag: str | None, architecture: str | None
) -> Page:
    """A repository's stanzas, and the variants of ``tag`` (default: its ``latest``)."""
    view = await repository_view(reader, name)
    of = tag or view.default_tag
    explain = (await queries.explain_tag(reader, f"{name}:{of}")).as_json() if of else None
    data = {**view.as_json(), "explain": explain}
    context = {
        "variants": variant_table(explain, architecture) if explain else None,
        "variants_of": of,
    }
    return Page("repository.html", data, context)


async def tag_page(reader: Reader, ref: str, *, architecture: str | None) -> Page:
    """``show``, ``explain``, ``children --recursive``, ``history`` and ``graph`` of one tag."""
    show = (await queries.show_tag(reader, ref)).as_json()
    explain = (await queries.explain_tag(reader, ref)).as_json()
    children = [row.as_json() for row in await queries.children(reader, ref, recursive=True)]
    history = (await queries.tag_history(reader, ref)).as_json()
    graph = await queries.lineage_graph(reader, ref)
    data = {
        "show": show,
        "explain": explain,
        "children": children,
        "history": history,
        "graph": graph_json(graph),  # before the picture adds the children
    }
    sizes = {p["architecture"]: p["size"] for p in explain["platforms"]}
    children_left_out = add_children(graph, children, CHILDREN_DRAWN)
    context = {
        "picture": layered_layout(graph),
        "children_left_out": children_left_out,
        "variants": variant_table(explain, architecture),
        "direct": [row for row in children if row["depth"] == 1],
        "transitive": children[:CHILDREN_SHOWN],
        "sizes": sizes,
        "largest": max((size for size in sizes.values() if size), default=0),
        "registry": any(p.get("registry") for p in show["platforms"]),
        "several_stanzas": len({p["stanza"] for p in show["platforms"]}) > 1,
        "stale": stale_bases(show["platforms"], now=datetime.now(UTC)),
    }
    return Page("tag.html", data, context)


def stale_bases(platforms: list[dict[str, Any]], *, now: datetime) -> list[dict[str, Any]]:
    """The platforms whose registry facts say their base moved since the build, with how long
    ago (one line per distinct base and date)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for platform in platforms:
        registry = platform.get("registry") or {}
        since = registry.get("stale_since")
        if not registry.get("stale") or not since:
            continue
        moment = datetime.fromisoformat(str(since).replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        key = (str(registry.get("base") or platform.get("parent")), str(since))
        entry = found.setdefault(
            key,
            {
                "base": key[0],
                "since": key[1],
                "days": max((now - moment).days, 0),
                "architectures": [],
            },
        )
        entry["architectures"].append(platform["architecture"])
    return list(found.values())


async def runs_page(reader: Reader, *, with_items: bool) -> Page:
    reports = await load_reports(reader, RUNS_SHOWN, with_items=with_items, top=5)
    return Page("runs.html", reports_json(reports))
