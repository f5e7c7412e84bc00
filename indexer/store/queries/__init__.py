"""Read side of the lineage graph: lookups by alias, parents, ancestors, children, explain,
graph, history.

Every function takes a :class:`~indexer.store.read.Reader` and returns plain dataclasses
(the CLI renders them as tables or as the JSON of CONTRACT §2). Each query is SQL text
written once for both backends (a few dialect differences are spelt per dialect), so
the read commands never import SQLAlchemy or the ORM models. Modules:

- :mod:`.lookup`: REF -> tag -> the stanzas it answers with -> their builds;
- :mod:`.chains`: ancestor chains (one recursive query for many builds);
- :mod:`.descendants`: the stanzas built on a tag (one recursive query);
- :mod:`.show`, :mod:`.children`, :mod:`.explain`, :mod:`.graph`, :mod:`.history`:
  one command each;
- :mod:`.runs`: sync runs and their errors for ``indexer runs``;
- :mod:`.catalogue`: repositories and most used bases, for the web view;
- :mod:`.builds`: what the registry says each image was built on (``v_image_builds``).

The names below load their module on first use (PEP 562), so ``indexer show``
imports the show query and what it needs, not every command's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from indexer.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from indexer.store.queries.builds import (
        RegistryBuild,
        StaleImage,
        registry_builds,
        stale_images,
        stale_marks,
    )
    from indexer.store.queries.chains import Chain, ChainLink, ancestor_chains
    from indexer.store.queries.children import ChildRow, children
    from indexer.store.queries.explain import (
        ExplainView,
        PlatformFacts,
        SiblingView,
        explain_tag,
    )
    from indexer.store.queries.graph import lineage_graph
    from indexer.store.queries.history import HistoryView, tag_history
    from indexer.store.queries.lookup import ResolvedTag, resolve_tag
    from indexer.store.queries.runs import latest_runs, run_errors
    from indexer.store.queries.show import PlatformInfo, TagView, show_tag

#: each public name and the module that defines it
_MODULES = {
    "RegistryBuild": "builds",
    "StaleImage": "builds",
    "registry_builds": "builds",
    "stale_images": "builds",
    "stale_marks": "builds",
    "Chain": "chains",
    "ChainLink": "chains",
    "ancestor_chains": "chains",
    "ChildRow": "children",
    "children": "children",
    "ExplainView": "explain",
    "PlatformFacts": "explain",
    "SiblingView": "explain",
    "explain_tag": "explain",
    "lineage_graph": "graph",
    "HistoryView": "history",
    "tag_history": "history",
    "ResolvedTag": "lookup",
    "resolve_tag": "lookup",
    "latest_runs": "runs",
    "run_errors": "runs",
    "PlatformInfo": "show",
    "TagView": "show",
    "show_tag": "show",
}

__all__ = [
    "Chain",
    "ChainLink",
    "ChildRow",
    "ExplainView",
    "HistoryView",
    "PlatformFacts",
    "PlatformInfo",
    "RegistryBuild",
    "ResolvedTag",
    "SiblingView",
    "StaleImage",
    "TagView",
    "ancestor_chains",
    "children",
    "explain_tag",
    "latest_runs",
    "lineage_graph",
    "registry_builds",
    "resolve_tag",
    "run_errors",
    "show_tag",
    "stale_images",
    "stale_marks",
    "tag_history",
]


__getattr__ = lazy_exports(__name__, _MODULES, globals())
