"""What the replay server was asked for, per endpoint kind.

Kinds: ``branch_head`` (GitHub commits/{branch}), ``library_listing`` (GitHub
contents/library), ``library_file`` (raw official-images library file), ``dockerfile``
(any other raw file), ``hub_tags`` (Hub tag list), ``hub_repositories`` (Hub repository
list of a namespace), ``registry_token``, ``registry_manifest`` (GET or HEAD) and ``other`` (everything else).
Control requests (``/_replay/...``) are never counted.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

__all__ = ["ENDPOINT_KINDS", "EndpointKind", "ReplayCounters", "classify"]

EndpointKind = Literal[
    "branch_head",
    "library_listing",
    "library_file",
    "dockerfile",
    "hub_tags",
    "hub_repositories",
    "registry_token",
    "registry_manifest",
    "other",
]
ENDPOINT_KINDS: Final[tuple[EndpointKind, ...]] = get_args(EndpointKind)

_PATTERNS: Final[tuple[tuple[re.Pattern[str], EndpointKind], ...]] = (
    (re.compile(r"^/hub/v2/namespaces/[^/]+/repositories/[^/]+/tags/?$"), "hub_tags"),
    (re.compile(r"^/hub/v2/namespaces/[^/]+/repositories/?$"), "hub_repositories"),
    (re.compile(r"^/github-api/repos/[^/]+/[^/]+/commits/[^/]+$"), "branch_head"),
    (re.compile(r"^/github-api/repos/[^/]+/[^/]+/contents/library/?$"), "library_listing"),
    (
        re.compile(r"^/github-raw/docker-library/official-images/[^/]+/library/[^/]+$"),
        "library_file",
    ),
    (re.compile(r"^/github-raw/.+"), "dockerfile"),
    (re.compile(r"^/registry-auth/token$"), "registry_token"),
    (re.compile(r"^/registry/v2/[^/]+/[^/]+/manifests/[^/]+$"), "registry_manifest"),
)


def classify(path: str) -> EndpointKind:
    """The endpoint kind of a request path (decoded, as ``request.path`` gives it)."""
    for pattern, kind in _PATTERNS:
        if pattern.match(path):
            return kind
    return "other"


def _status_counters() -> dict[str, Counter[int]]:
    return {kind: Counter() for kind in ENDPOINT_KINDS}


def _path_lists() -> dict[str, list[str]]:
    return {kind: [] for kind in ENDPOINT_KINDS}


@dataclass
class ReplayCounters:
    """Requests per endpoint kind; ``reset()`` starts over.

    - ``requests[kind]``: number of requests;
    - ``statuses[kind][status]``: answers by HTTP status (a truncated answer counts as
      its status, 200);
    - ``paths[kind]``: every requested path with its query, in arrival order;
    - ``served[kind]``: the paths answered 200 with a complete body;
    - ``faults[name]``: injected faults: ``fail``, ``truncate``, ``rate_limit``;
    - ``pulls[reference]``: manifest GETs answered 200 (pulls), by tag or digest;
    - ``kinds``: every request's kind, in arrival order (across kinds).
    """

    requests: Counter[str] = field(default_factory=Counter)
    statuses: dict[str, Counter[int]] = field(default_factory=_status_counters)
    paths: dict[str, list[str]] = field(default_factory=_path_lists)
    served: dict[str, list[str]] = field(default_factory=_path_lists)
    faults: Counter[str] = field(default_factory=Counter)
    pulls: Counter[str] = field(default_factory=Counter)
    kinds: list[str] = field(default_factory=list)

    def record(self, kind: EndpointKind, path: str, status: int, *, complete: bool) -> None:
        """Count one answered request."""
        self.requests[kind] += 1
        self.kinds.append(kind)
        self.statuses[kind][status] += 1
        self.paths[kind].append(path)
        if status == 200 and complete:
            self.served[kind].append(path)

    def reset(self) -> None:
        """Forget everything counted so far."""
        self.requests.clear()
        self.faults.clear()
        self.pulls.clear()
        self.kinds.clear()
        for kind in ENDPOINT_KINDS:
            self.statuses[kind].clear()
            self.paths[kind].clear()
            self.served[kind].clear()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready copy (status codes as string keys)."""
        return {
            "requests": {kind: self.requests[kind] for kind in ENDPOINT_KINDS},
            "statuses": {
                kind: {str(status): n for status, n in sorted(self.statuses[kind].items())}
                for kind in ENDPOINT_KINDS
            },
            "paths": {kind: list(self.paths[kind]) for kind in ENDPOINT_KINDS},
            "served": {kind: list(self.served[kind]) for kind in ENDPOINT_KINDS},
            "faults": dict(self.faults),
            "pulls": dict(self.pulls),
        }
