"""The front page's search box: any REF form to a page, or near misses when nothing matches."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from indexer.errors import NotIndexedError
from indexer.refs import parse_ref
from indexer.store.queries import resolve_tag
from indexer.store.queries.catalogue import repository_names, tag_names
from indexer.store.read import Reader

__all__ = ["SearchAnswer", "search"]

#: suggestions offered for a near miss
SUGGESTIONS = 8
#: how alike a name must be to be suggested (difflib ratio)
CUTOFF = 0.6


@dataclass(slots=True)
class SearchAnswer:
    """Where a query leads (``target``, a path), or why it leads nowhere and what was meant."""

    query: str
    target: str | None = None
    message: str | None = None
    suggestions: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "target": self.target,
            "message": self.message,
            "suggestions": self.suggestions,
        }


def _names_only(query: str) -> bool:
    """A bare repository name: no tag, no digest, nothing Docker would add ``latest`` to."""
    return ":" not in query and "@" not in query


def _near(word: str, candidates: list[str]) -> list[str]:
    starts = [name for name in candidates if name.startswith(word)] if word else []
    close = difflib.get_close_matches(word, candidates, n=SUGGESTIONS, cutoff=CUTOFF)
    return list(dict.fromkeys([*close, *sorted(starts, key=len)]))[:SUGGESTIONS]


async def search(reader: Reader, query: str) -> SearchAnswer:
    """Resolve ``query`` (ImageReferenceError when it is no image reference at all)."""
    text = query.strip()
    parsed = parse_ref(text)
    repositories = await repository_names(reader)
    if _names_only(text) and parsed.repository in repositories:
        return SearchAnswer(text, target=f"/r/{parsed.repository}")
    try:
        resolved = await resolve_tag(reader, text)
    except NotIndexedError as exc:
        answer = SearchAnswer(text, message=str(exc))
    else:
        return SearchAnswer(text, target=f"/t/{resolved.repository}:{resolved.tag}")
    if parsed.repository not in repositories:
        answer.suggestions = _near(parsed.repository, repositories)
        return answer
    tags = await tag_names(reader, parsed.repository)
    wanted = parsed.tag or ""
    answer.suggestions = [f"{parsed.repository}:{tag}" for tag in _near(wanted, tags)]
    return answer
