"""Upstream clients: HTTP only, typed results, no database and no parsing of file contents.

Open one `UpstreamHttp` per run and hand it to the clients::

    async with UpstreamHttp(settings) as http:
        github = GitHubClient(http, settings)
        hub = HubClient(http, settings)
        head = await github.branch_head(settings.branch, etag=None)
        async for page in hub.pages("python"):
            ...
        print(http.stats.as_dict())
"""

from __future__ import annotations

from indexer.upstream.github import BranchHead, GitHubClient, LibraryEntry, dockerfile_url
from indexer.upstream.http import (
    USER_AGENT,
    RequestStats,
    Response,
    ShapeError,
    UpstreamHttp,
    backoff_delay,
    rate_limit_delay,
    url_is_under,
)
from indexer.upstream.hub import HubClient, HubImage, HubPage, HubTag
from indexer.upstream.pacing import Budget, HostPacer, read_budget

__all__ = [
    "USER_AGENT",
    "BranchHead",
    "Budget",
    "GitHubClient",
    "HostPacer",
    "HubClient",
    "HubImage",
    "HubPage",
    "HubTag",
    "LibraryEntry",
    "RequestStats",
    "Response",
    "ShapeError",
    "UpstreamHttp",
    "backoff_delay",
    "dockerfile_url",
    "rate_limit_delay",
    "read_budget",
    "url_is_under",
]
