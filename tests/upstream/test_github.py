"""GitHub client: contract URLs, typed answers, the Dockerfile allow-list and the token."""

from __future__ import annotations

import json

import pytest
from aiohttp import web

from indexer.errors import ForbiddenTargetError, NotFoundError, RetryableUpstreamError
from indexer.upstream import (
    BranchHead,
    GitHubClient,
    HubClient,
    LibraryEntry,
    dockerfile_url,
)
from tests.upstream.servers import rig, settings_for

HEAD = "37079fb336f572a88700cf32e5e1f6be54a04e8f"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
BLOB = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
REPO_API = "/github-api/repos/docker-library/official-images"

LISTING = [
    {
        "name": "python",
        "path": "library/python",
        "sha": BLOB,
        "size": 8123,
        "url": "https://api.github.com/repos/docker-library/official-images/contents/library/python",
        "html_url": "https://github.com/docker-library/official-images/blob/x/library/python",
        "git_url": f"https://api.github.com/repos/docker-library/official-images/git/blobs/{BLOB}",
        "download_url": "https://raw.githubusercontent.com/docker-library/official-images/x/library/python",
        "type": "file",
        "_links": {"self": "...", "git": "...", "html": "..."},
    },
    {
        "name": "notes",
        "path": "library/notes",
        "sha": "a" * 40,
        "size": 0,
        "download_url": None,
        "type": "dir",
    },
]


def json_answer(document: object, **headers: str) -> web.Response:
    """A JSON answer with extra headers."""
    return web.Response(text=json.dumps(document), content_type="application/json", headers=headers)


# --- dockerfile_url: the pure allow-list ----------------------------------------

SETTINGS = settings_for("http://127.0.0.1:8080")
RAW = "http://127.0.0.1:8080/github-raw"


@pytest.mark.parametrize(
    ("git_repo", "directory", "file", "expected"),
    [
        (
            "https://github.com/docker-library/python.git",
            "3.12/slim-bookworm",
            "Dockerfile",
            f"{RAW}/docker-library/python/{COMMIT}/3.12/slim-bookworm/Dockerfile",
        ),
        (
            "https://github.com/tianon/docker-brew-ubuntu-core",
            ".",
            "Dockerfile",
            f"{RAW}/tianon/docker-brew-ubuntu-core/{COMMIT}/Dockerfile",
        ),
        (
            "https://github.com/docker-library/busybox/",
            "",
            "index.json",
            f"{RAW}/docker-library/busybox/{COMMIT}/index.json",
        ),
        (
            "https://GitHub.com/owner/repo.git",
            "./windows/servercore ltsc2022/",
            "Dockerfile.windows",
            f"{RAW}/owner/repo/{COMMIT}/windows/servercore%20ltsc2022/Dockerfile.windows",
        ),
        (
            "https://github.com/owner/repo",
            "a#b?c",
            "Dockerfile",
            f"{RAW}/owner/repo/{COMMIT}/a%23b%3Fc/Dockerfile",
        ),
    ],
)
def test_dockerfile_url_follows_the_contract(
    git_repo: str, directory: str, file: str, expected: str
) -> None:
    assert dockerfile_url(SETTINGS, git_repo, COMMIT, directory, file) == expected


def test_dockerfile_url_on_the_real_raw_host() -> None:
    url = dockerfile_url(
        settings_for("https://x", github_raw_url="https://raw.githubusercontent.com"),
        "https://github.com/docker-library/python.git",
        COMMIT,
        "3.13/slim-trixie",
        "Dockerfile",
    )
    expected = f"https://raw.githubusercontent.com/docker-library/python/{COMMIT}/3.13/slim-trixie"
    assert url == f"{expected}/Dockerfile"


REFUSED_REPOS = [
    "https://gitlab.archlinux.org/archlinux/archlinux-docker.git",
    "https://git.launchpad.net/cloud-images/+oci/ubuntu-base",
    "https://127.0.0.1/owner/repo.git",
    "https://localhost/owner/repo.git",
    "http://127.0.0.1:8080/owner/repo",
    "file:///srv/git/owner/repo.git",
    "https://user@github.com/owner/repo.git",
    "https://user:secret@github.com/owner/repo.git",
    "http://user@github.com/owner/repo.git",
    "git@github.com:owner/repo.git",
    "ssh://git@github.com/owner/repo.git",
    "git://github.com/owner/repo.git",
    "http://github.com/owner/repo.git",
    "https://github.com:8443/owner/repo.git",
    "https://github.com.evil.example/owner/repo.git",
    "https://evil.example/github.com/owner/repo",
    "https://github.com/owner",
    "https://github.com/owner/repo/tree/main",
    "https://github.com/owner/repo?x=1",
    "https://github.com/../repo",
    "https://github.com/owner/%2e%2e",
    "",
]


@pytest.mark.parametrize("git_repo", REFUSED_REPOS)
def test_dockerfile_url_refuses_everything_off_the_allow_list(git_repo: str) -> None:
    with pytest.raises(ForbiddenTargetError, match="unsupported GitRepo") as caught:
        dockerfile_url(SETTINGS, git_repo, COMMIT, ".", "Dockerfile")
    assert caught.value.url == git_repo


@pytest.mark.parametrize(
    ("commit", "directory", "file"),
    [
        (COMMIT, "../../etc", "Dockerfile"),
        (COMMIT, "a/../../b", "Dockerfile"),
        (COMMIT, ".", "../Dockerfile"),
        (COMMIT, ".", ""),
        (COMMIT, ".", "."),
        (COMMIT, "a\\..\\b", "Dockerfile"),
        ("main/../x", ".", "Dockerfile"),
        ("", ".", "Dockerfile"),
    ],
)
def test_dockerfile_url_refuses_dot_dot_and_odd_paths(
    commit: str, directory: str, file: str
) -> None:
    with pytest.raises(ForbiddenTargetError, match="unsupported"):
        dockerfile_url(SETTINGS, "https://github.com/o/r", commit, directory, file)


def test_allow_list_is_configurable() -> None:
    settings = settings_for("http://127.0.0.1:8080", allowed_git_hosts=("www.github.com",))
    with pytest.raises(ForbiddenTargetError):
        dockerfile_url(settings, "https://github.com/o/r", COMMIT, ".", "Dockerfile")
    url = dockerfile_url(settings, "https://www.github.com/o/r", COMMIT, ".", "Dockerfile")
    assert url == f"{RAW}/o/r/{COMMIT}/Dockerfile"


# --- the client against a local server -------------------------------------------


@pytest.mark.asyncio
async def test_refused_git_repos_are_never_requested() -> None:
    async def anything(request: web.Request) -> web.Response:
        return web.Response(text="FROM scratch\n")

    async with rig({"/{tail:.*}": anything}) as r:
        github = GitHubClient(r.http, r.settings)
        for git_repo in REFUSED_REPOS:
            with pytest.raises(ForbiddenTargetError):
                await github.dockerfile(git_repo, COMMIT, ".", "Dockerfile")
        text = await github.dockerfile("https://github.com/o/r.git", COMMIT, "x y", "Dockerfile")
    assert text == "FROM scratch\n"
    assert r.recorder.paths() == [f"/github-raw/o/r/{COMMIT}/x%20y/Dockerfile"]
    assert sum(r.http.stats.requests.values()) == 1


@pytest.mark.asyncio
async def test_branch_head_and_its_etag() -> None:
    async def commits(request: web.Request) -> web.StreamResponse:
        if request.headers.get("If-None-Match") == '"etag-1"':
            return web.Response(status=304, headers={"ETag": '"etag-1"'})
        document = {"sha": HEAD, "node_id": "C_x", "commit": {"message": "Update python"}}
        return json_answer(document, ETag='"etag-1"')

    async with rig({f"{REPO_API}/commits/master": commits}) as r:
        github = GitHubClient(r.http, r.settings)
        head = await github.branch_head("master", None)
        unchanged = await github.branch_head("master", '"etag-1"')
    assert head == BranchHead(sha=HEAD, etag='"etag-1"')
    assert unchanged is None
    first, second = r.recorder.seen
    assert "If-None-Match" not in first.headers
    assert second.headers["If-None-Match"] == '"etag-1"'
    assert first.headers["Accept"] == "application/vnd.github+json"


@pytest.mark.asyncio
async def test_branch_head_without_sha_is_retried_then_given_up() -> None:
    async def commits(request: web.Request) -> web.Response:
        return json_answer({"message": "weird"})

    async with rig({f"{REPO_API}/commits/master": commits}, max_tries=2) as r:
        with pytest.raises(RetryableUpstreamError, match="gave up after 2 tries: malformed"):
            await GitHubClient(r.http, r.settings).branch_head("master", None)
    assert len(r.recorder.seen) == 2


@pytest.mark.asyncio
async def test_library_listing_is_typed_and_extra_fields_ignored() -> None:
    async def contents(request: web.Request) -> web.Response:
        return json_answer(LISTING)

    async with rig({f"{REPO_API}/contents/library": contents}) as r:
        entries = await GitHubClient(r.http, r.settings).library_listing(HEAD)
    assert r.recorder.seen[0].path_qs == f"{REPO_API}/contents/library?ref={HEAD}"
    assert entries == [
        LibraryEntry(
            name="python",
            path="library/python",
            sha=BLOB,
            size=8123,
            type="file",
            download_url=LISTING[0]["download_url"],  # type: ignore[arg-type]
        ),
        LibraryEntry(
            name="notes", path="library/notes", sha="a" * 40, size=0, type="dir", download_url=None
        ),
    ]


@pytest.mark.parametrize(
    "malformed",
    [
        {"message": "Not an array"},
        [{"name": "python", "path": "library/python", "size": 1, "type": "file"}],
        [{"name": "python", "path": "library/python", "sha": BLOB, "size": "1", "type": "file"}],
        ["python"],
    ],
)
@pytest.mark.asyncio
async def test_malformed_listing_is_retried(malformed: object) -> None:
    answers = [malformed, LISTING]

    async def contents(request: web.Request) -> web.Response:
        return json_answer(answers.pop(0) if len(answers) > 1 else answers[0])

    async with rig({f"{REPO_API}/contents/library": contents}) as r:
        entries = await GitHubClient(r.http, r.settings).library_listing(HEAD)
    assert [entry.name for entry in entries] == ["python", "notes"]
    assert len(r.recorder.seen) == 2


@pytest.mark.asyncio
async def test_library_file_and_404() -> None:
    async def library_file(request: web.Request) -> web.Response:
        if request.match_info["name"] != "python":
            raise web.HTTPNotFound
        return web.Response(text="Maintainers: x\n\nTags: 3.12\n")

    route = f"/github-raw/docker-library/official-images/{HEAD}/library/{{name}}"
    async with rig({route: library_file}) as r:
        github = GitHubClient(r.http, r.settings)
        text = await github.library_file(HEAD, "python")
        with pytest.raises(NotFoundError):
            await github.library_file(HEAD, "nosuch")
        with pytest.raises(ForbiddenTargetError):
            await github.library_file(HEAD, "../python")
    assert text.startswith("Maintainers: x")
    assert len(r.recorder.seen) == 2


@pytest.mark.asyncio
async def test_token_goes_to_github_only() -> None:
    async def anything(request: web.Request) -> web.Response:
        if request.path.startswith("/hub/"):
            return json_answer({"count": 0, "next": None, "previous": None, "results": []})
        if request.path.endswith("/commits/master"):
            return json_answer({"sha": HEAD})
        return web.Response(text="text")

    async with rig({"/{tail:.*}": anything}, github_token="s3cret") as r:
        github = GitHubClient(r.http, r.settings)
        await github.branch_head("master", None)
        await github.library_file(HEAD, "python")
        await github.dockerfile("https://github.com/o/r", COMMIT, ".", "Dockerfile")
        pages = [page async for page in HubClient(r.http, r.settings).pages("python")]
    assert len(pages) == 1
    by_prefix = {entry.path.split("/")[1]: entry.headers for entry in r.recorder.seen}
    assert by_prefix["github-api"]["Authorization"] == "Bearer s3cret"
    assert by_prefix["github-raw"]["Authorization"] == "Bearer s3cret"
    assert "Authorization" not in by_prefix["hub"]
    assert len(r.recorder.seen) == 4
