"""GitHub REST and raw.githubusercontent.com, as the crawler reads them, from the corpus.

- ``GET /github-api/repos/docker-library/official-images/commits/{branch}``: the
  served snapshot's commit (``sha``) with an ``ETag``; ``If-None-Match`` with it: 304.
  A known snapshot's commit sha works as ``{branch}`` too (answering that commit); any
  other ref: 422, as GitHub answers.
- ``GET /github-api/repos/docker-library/official-images/contents/library?ref={sha}``:
  the files of the snapshot whose commit is ``sha`` (no ref, or the branch name: the
  served snapshot); unknown ref: GitHub's 404 ``No commit found for the ref ...``.
- ``GET /github-raw/docker-library/official-images/{commit}/library/{name}``: the
  library file of whichever snapshot has that commit (so older commits stay readable
  after a switch).
- ``GET /github-raw/{owner}/{repo}/{commit}/{directory...}/{file}``: a Dockerfile head;
  ``.`` and empty segments are ignored (a root ``Directory``), ``..`` is refused.
- Anything missing on the raw host: 404 with the text ``404: Not Found``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC
from typing import Any

from aiohttp import web

from indexer.replay.corpus import Snapshot
from indexer.replay.responses import (
    base_url,
    github_error,
    json_response,
    raw_not_found,
    text_response,
)
from indexer.replay.state import STATE_KEY, ReplayState

__all__ = ["LIBRARY_OWNER", "LIBRARY_REPO", "add_github_routes", "etag_for"]

LIBRARY_OWNER = "docker-library"
LIBRARY_REPO = "official-images"
BRANCHES = frozenset({"master", "heads/master", "refs/heads/master"})
_DOCS = "https://docs.github.com/rest"
_COMMIT_DOCS = f"{_DOCS}/commits/commits#get-a-commit"
_CONTENTS_DOCS = f"{_DOCS}/repos/contents#get-repository-content"
_HTML = f"https://github.com/{LIBRARY_OWNER}/{LIBRARY_REPO}"


def etag_for(kind: str, commit: str) -> str:
    """The quoted ETag of an answer of ``kind`` about ``commit``."""
    return '"' + hashlib.sha256(f"{kind}|{commit}".encode()).hexdigest()[:40] + '"'


def _matches(request: web.Request, etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    candidates = {c.strip().removeprefix("W/") for c in header.split(",")}
    return "*" in candidates or etag in candidates


def _resolve_ref(state: ReplayState, ref: str | None) -> Snapshot | None:
    if ref is None or ref in BRANCHES:
        return state.snapshot
    return state.corpus.snapshot_for_commit(ref)


def _is_library_repo(request: web.Request) -> bool:
    info = request.match_info
    return (info["owner"], info["repo"]) == (LIBRARY_OWNER, LIBRARY_REPO)


def _commit_json(state: ReplayState, snapshot: Snapshot, api: str) -> dict[str, Any]:
    sha = snapshot.commit
    repo_api = f"{api}/repos/{LIBRARY_OWNER}/{LIBRARY_REPO}"
    date = snapshot.date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    tree = hashlib.sha1(f"tree|{sha}".encode(), usedforsecurity=False).hexdigest()
    older = [s for s in state.corpus.snapshots if (s.date, s.name) < (snapshot.date, snapshot.name)]
    parents = [
        {
            "sha": p.commit,
            "url": f"{repo_api}/commits/{p.commit}",
            "html_url": f"{_HTML}/commit/{p.commit}",
        }
        for p in older[-1:]
    ]
    person = {
        "name": "Docker Library Bot",
        "email": "doi+docker-library-bot@docker.com",
        "date": date,
    }
    return {
        "sha": sha,
        "node_id": "C_kwDO" + sha[:24],
        "commit": {
            "author": person,
            "committer": {**person, "name": "GitHub", "email": "noreply@github.com"},
            "message": f"Replay of library snapshot {snapshot.name}",
            "tree": {"sha": tree, "url": f"{repo_api}/git/trees/{tree}"},
            "url": f"{repo_api}/git/commits/{sha}",
            "comment_count": 0,
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
        },
        "url": f"{repo_api}/commits/{sha}",
        "html_url": f"{_HTML}/commit/{sha}",
        "comments_url": f"{repo_api}/commits/{sha}/comments",
        "author": None,
        "committer": None,
        "parents": parents,
        "stats": {"total": 0, "additions": 0, "deletions": 0},
        "files": [],
    }


def _etagged(
    request: web.Request, kind: str, snapshot: Snapshot
) -> tuple[dict[str, str], web.Response | None]:
    """The caching headers of ``kind`` at ``snapshot``, and the ``304`` to answer instead
    when the request's ``If-None-Match`` names that ETag."""
    etag = etag_for(kind, snapshot.commit)
    headers = {"ETag": etag, "Cache-Control": "private, max-age=60, s-maxage=60"}
    return headers, web.Response(status=304, headers=headers) if _matches(request, etag) else None


async def branch_head(request: web.Request) -> web.Response:
    """``GET /github-api/repos/{owner}/{repo}/commits/{ref}``."""
    state = request.app[STATE_KEY]
    if not _is_library_repo(request):
        return github_error(404, "Not Found", _COMMIT_DOCS)
    ref = request.match_info["ref"]
    snapshot = _resolve_ref(state, ref)
    if snapshot is None:
        return github_error(422, f"No commit found for SHA: {ref}", _COMMIT_DOCS)
    headers, not_modified = _etagged(request, "commit", snapshot)
    if not_modified is not None:
        return not_modified
    api = base_url(request, "/github-api")
    return json_response(_commit_json(state, snapshot, api), headers=headers)


def _listing_json(
    state: ReplayState, snapshot: Snapshot, api: str, raw: str
) -> list[dict[str, Any]]:
    sha = snapshot.commit
    repo_api = f"{api}/repos/{LIBRARY_OWNER}/{LIBRARY_REPO}"
    entries = []
    for blob in state.corpus.library_blobs(snapshot.name):
        url = f"{repo_api}/contents/library/{blob.name}?ref={sha}"
        git_url = f"{repo_api}/git/blobs/{blob.sha}"
        html_url = f"{_HTML}/blob/{sha}/library/{blob.name}"
        entries.append(
            {
                "name": blob.name,
                "path": f"library/{blob.name}",
                "sha": blob.sha,
                "size": blob.size,
                "url": url,
                "html_url": html_url,
                "git_url": git_url,
                "download_url": f"{raw}/{LIBRARY_OWNER}/{LIBRARY_REPO}/{sha}/library/{blob.name}",
                "type": "file",
                "_links": {"self": url, "git": git_url, "html": html_url},
            }
        )
    return entries


async def library_listing(request: web.Request) -> web.Response:
    """``GET /github-api/repos/{owner}/{repo}/contents/library?ref={sha}``."""
    state = request.app[STATE_KEY]
    if not _is_library_repo(request) or request.match_info["path"].strip("/") != "library":
        return github_error(404, "Not Found", _CONTENTS_DOCS)
    ref = request.query.get("ref")
    snapshot = _resolve_ref(state, ref)
    if snapshot is None:
        return github_error(404, f"No commit found for the ref {ref}", _CONTENTS_DOCS)
    headers, not_modified = _etagged(request, "contents/library", snapshot)
    if not_modified is not None:
        return not_modified
    api, raw = base_url(request, "/github-api"), base_url(request, "/github-raw")
    return json_response(_listing_json(state, snapshot, api, raw), headers=headers)


async def raw_file(request: web.Request) -> web.Response:
    """``GET /github-raw/{owner}/{repo}/{commit}/{path...}``: a library file or Dockerfile head."""
    state = request.app[STATE_KEY]
    segments = request.match_info["tail"].split("/")
    headers = {"Cache-Control": "max-age=300"}
    if segments[:2] == [LIBRARY_OWNER, LIBRARY_REPO]:
        if len(segments) != 5 or segments[3] != "library":
            return raw_not_found()
        snapshot = _resolve_ref(state, segments[2])
        data = state.corpus.library_file(snapshot.name, segments[4]) if snapshot else None
    else:
        data = state.corpus.dockerfile(segments)
    if data is None:
        return raw_not_found()
    return text_response(data, headers=headers)


def add_github_routes(app: web.Application) -> None:
    """Register the GitHub API and raw routes on ``app``."""
    app.router.add_get("/github-api/repos/{owner}/{repo}/commits/{ref}", branch_head)
    app.router.add_get("/github-api/repos/{owner}/{repo}/contents/{path:.*}", library_listing)
    app.router.add_get("/github-raw/{tail:.+}", raw_file)
