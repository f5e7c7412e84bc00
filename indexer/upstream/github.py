"""GitHub: the official-images branch head, its ``library/`` listing and files, Dockerfiles.

URLs follow CONTRACT §1, under the configured ``github_api_url`` / ``github_raw_url``
(which may carry a path prefix, e.g. a replay server's ``/github-raw``):

- ``{api}/repos/docker-library/official-images/commits/{branch}`` (conditional on the ETag)
- ``{api}/repos/docker-library/official-images/contents/library?ref={sha}``
- ``{raw}/docker-library/official-images/{sha}/library/{name}``
- ``{raw}/{owner}/{repo}/{GitCommit}/{Directory}/{File}``

Dockerfiles are fetched only for a ``GitRepo`` of ``https://{host}/{owner}/{repo}(.git)``
whose host is in ``settings.allowed_git_hosts``; `dockerfile_url` refuses everything else
with `ForbiddenTargetError` before any request is made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit

from indexer.errors import ForbiddenTargetError
from indexer.settings import Settings
from indexer.upstream.http import Response, ShapeError, UpstreamHttp

__all__ = ["BranchHead", "GitHubClient", "LibraryEntry", "dockerfile_url"]

OFFICIAL_IMAGES = "docker-library/official-images"
_API_ACCEPT = "application/vnd.github+json"
#: characters GitHub allows in owner and repository names
_REPO_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")
_GIT_COMMIT = re.compile(r"[0-9a-fA-F]{7,64}")


@dataclass(frozen=True)
class BranchHead:
    """The commit a branch points at, and the ETag to send next time."""

    sha: str
    etag: str | None


@dataclass(frozen=True)
class LibraryEntry:
    """One entry of the ``library/`` directory listing (GitHub contents API)."""

    name: str
    path: str
    #: git blob id: the same id means the same file content
    sha: str
    size: int
    #: ``file``, ``dir``, ``symlink`` or ``submodule``
    type: str
    download_url: str | None


def dockerfile_url(
    settings: Settings, git_repo: str, git_commit: str, directory: str, file: str
) -> str:
    """The raw URL of a Dockerfile, or `ForbiddenTargetError` when it may not be fetched.

    ``git_repo`` must be ``https://{host}/{owner}/{repo}`` (optionally ``.git``) with
    ``host`` in ``settings.allowed_git_hosts`` and no user information, port, query or
    fragment. A ``directory`` of ``.`` (or empty) adds no path segment; ``..``
    segments are refused; every segment is percent-quoted.
    """
    owner, repo = _github_repository(settings, git_repo)
    if not _GIT_COMMIT.fullmatch(git_commit):
        raise ForbiddenTargetError(f"unsupported GitCommit {git_commit!r}", url=git_repo)
    segments = [owner, repo, git_commit]
    segments += _path_segments(directory, what="Directory", git_repo=git_repo)
    file_segments = _path_segments(file, what="File", git_repo=git_repo)
    if not file_segments:
        raise ForbiddenTargetError(f"unsupported File {file!r}", url=git_repo)
    segments += file_segments
    return _join(settings.github_raw_url, segments)


def _github_repository(settings: Settings, git_repo: str) -> tuple[str, str]:
    """(owner, repo) of an allowed ``GitRepo`` URL; anything else is refused."""
    try:
        parts = urlsplit(git_repo.strip())
        port = parts.port
    except ValueError:
        raise ForbiddenTargetError(
            f"unsupported GitRepo host in {git_repo!r}", url=git_repo
        ) from None
    host = (parts.hostname or "").lower()
    allowed = {name.lower() for name in settings.allowed_git_hosts}
    if (
        parts.scheme != "https"
        or host not in allowed
        or parts.username is not None
        or parts.password is not None
        or port not in (None, 443)
    ):
        shown = host or git_repo
        raise ForbiddenTargetError(f"unsupported GitRepo host {shown!r}", url=git_repo)
    path = parts.path.strip("/").split("/")
    if parts.query or parts.fragment or len(path) != 2:
        raise ForbiddenTargetError(f"unsupported GitRepo path in {git_repo!r}", url=git_repo)
    owner, repo = path[0], path[1].removesuffix(".git")
    for segment in (owner, repo):
        if not _REPO_SEGMENT.fullmatch(segment) or segment in (".", ".."):
            raise ForbiddenTargetError(f"unsupported GitRepo path in {git_repo!r}", url=git_repo)
    return owner, repo


def _path_segments(path: str, *, what: str, git_repo: str) -> list[str]:
    """Split a library ``Directory``/``File`` into segments, dropping ``.`` and empties."""
    segments = [segment for segment in path.split("/") if segment not in ("", ".")]
    if any(segment == ".." or "\\" in segment for segment in segments):
        raise ForbiddenTargetError(f"unsupported {what} {path!r}", url=git_repo)
    return segments


def _join(base: str, segments: list[str]) -> str:
    """``base`` plus percent-quoted path ``segments``."""
    return "/".join([base.rstrip("/"), *(quote(segment, safe="") for segment in segments)])


def _branch_head(response: Response) -> BranchHead | None:
    if response.not_modified:
        return None
    document = response.json()
    if not isinstance(document, dict) or not _nonempty_str(document.get("sha")):
        raise ShapeError("commit answer without a 'sha' string")
    return BranchHead(sha=document["sha"], etag=response.headers.get("ETag"))


def _library_listing(response: Response) -> list[LibraryEntry]:
    document = response.json()
    if not isinstance(document, list):
        raise ShapeError("contents answer is not a JSON array")
    return [_library_entry(item, index) for index, item in enumerate(document)]


def _library_entry(item: object, index: int) -> LibraryEntry:
    if not isinstance(item, dict):
        raise ShapeError(f"listing entry {index} is not an object")
    for key in ("name", "path", "sha", "type"):
        if not _nonempty_str(item.get(key)):
            raise ShapeError(f"listing entry {index}: {key!r} is not a non-empty string")
    size = item.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ShapeError(f"listing entry {index}: 'size' is not a count of bytes")
    download_url = item.get("download_url")
    if download_url is not None and not isinstance(download_url, str):
        raise ShapeError(f"listing entry {index}: 'download_url' is not a string")
    return LibraryEntry(
        name=item["name"],
        path=item["path"],
        sha=item["sha"],
        size=size,
        type=item["type"],
        download_url=download_url,
    )


def _nonempty_str(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _checked_segment(value: str, what: str) -> str:
    """A single URL path segment from our own inputs: no slashes, no dot segments."""
    if not value or "/" in value or "\\" in value or value in (".", ".."):
        raise ForbiddenTargetError(f"unsupported {what} {value!r}")
    return value


class GitHubClient:
    """Typed reads of GitHub over a shared `UpstreamHttp`."""

    def __init__(self, http: UpstreamHttp, settings: Settings) -> None:
        self._http = http
        self._api = settings.github_api_url.rstrip("/")
        self._raw = settings.github_raw_url.rstrip("/")
        self._settings = settings

    async def branch_head(self, branch: str, etag: str | None) -> BranchHead | None:
        """The head commit of ``branch``; ``None`` when it is unchanged since ``etag``."""
        url = _join(self._api, ["repos", *OFFICIAL_IMAGES.split("/"), "commits"])
        url += "/" + quote(branch, safe="/")
        headers = {"Accept": _API_ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        return await self._http.request(
            url, kind="github-commit", headers=headers, decode=_branch_head
        )

    async def library_listing(self, sha: str) -> list[LibraryEntry]:
        """The entries of ``library/`` at commit ``sha`` (a malformed listing is retried)."""
        url = _join(self._api, ["repos", *OFFICIAL_IMAGES.split("/"), "contents", "library"])
        url += "?" + urlencode({"ref": _checked_segment(sha, "commit")})
        return await self._http.request(
            url,
            kind="github-listing",
            headers={"Accept": _API_ACCEPT},
            decode=_library_listing,
        )

    async def library_file(self, commit_sha: str, name: str) -> str:
        """The text of ``library/{name}`` at ``commit_sha``."""
        segments = [
            *OFFICIAL_IMAGES.split("/"),
            _checked_segment(commit_sha, "commit"),
            "library",
            _checked_segment(name, "library file name"),
        ]
        return await self._http.get_text(_join(self._raw, segments), kind="library-file")

    async def dockerfile(self, git_repo: str, git_commit: str, directory: str, file: str) -> str:
        """The text of a Dockerfile; `ForbiddenTargetError` (no request) if not allowed."""
        url = dockerfile_url(self._settings, git_repo, git_commit, directory, file)
        return await self._http.get_text(url, kind="dockerfile")
