"""Hub client: paging by ``next`` on the configured host only, typed tags, shapes."""

from __future__ import annotations

import json
from contextlib import aclosing
from datetime import UTC, datetime

import pytest
from aiohttp import web

from indexer.errors import ForbiddenTargetError, NotFoundError, UpstreamError
from indexer.upstream import (
    HubClient,
    HubImage,
    HubPage,
    UpstreamHttp,
)
from tests.upstream.servers import Recorder, rig, serve, settings_for

TAGS = "/hub/v2/namespaces/library/repositories/python/tags"


def hub_tag(name: str) -> dict[str, object]:
    """A tag as the real Hub answers it, extra fields included."""
    return {
        "creator": 7,
        "id": 2_000_001,
        "images": [
            {
                "architecture": "amd64",
                "features": "",
                "variant": None,
                "digest": f"sha256:{'a' * 64}",
                "os": "linux",
                "os_features": "",
                "os_version": None,
                "size": 51_234_567,
                "status": "active",
                "last_pulled": "2026-09-20T10:00:00.123456Z",
                "last_pushed": "2026-09-17T20:37:26.15486Z",
            },
            {
                "architecture": "arm",
                "features": "",
                "variant": "v7",
                "digest": f"sha256:{'b' * 64}",
                "os": "linux",
                "os_features": "",
                "os_version": None,
                "size": 45_000_000,
                "status": "inactive",
                "last_pulled": None,
                "last_pushed": None,
            },
        ],
        "last_updated": "2026-09-17T20:38:01.774926Z",
        "last_updater": 7,
        "last_updater_username": "doijanky",
        "name": name,
        "repository": 62,
        "full_size": 51_234_567,
        "v2": True,
        "tag_status": "active",
        "tag_last_pulled": "2026-09-20T10:00:00.123456Z",
        "tag_last_pushed": "2026-09-17T20:38:01.774926Z",
        "media_type": "application/vnd.oci.image.index.v1+json",
        "content_type": "image",
        "digest": f"sha256:{'c' * 64}",
    }


def page_document(names: list[str], next_url: str | None) -> dict[str, object]:
    """One page of tags."""
    return {
        "count": 5,
        "next": next_url,
        "previous": None,
        "results": [hub_tag(name) for name in names],
    }


def json_answer(document: object) -> web.Response:
    """A JSON answer."""
    return web.Response(text=json.dumps(document), content_type="application/json")


class PagedTags:
    """Serves three pages; ``next`` links are absolute, built from ``next_base``."""

    def __init__(self) -> None:
        self.next_base = ""

    async def handle(self, request: web.Request) -> web.Response:
        """Answer page 1, 2 or 3 of the python tags."""
        page = int(request.query.get("page", "1"))
        names = {1: ["3.13", "3.12"], 2: ["3.11", "3.10"], 3: ["3.9"]}[page]
        following = f"{self.next_base}{TAGS}?page={page + 1}&page_size=2" if page < 3 else None
        return json_answer(page_document(names, following))


@pytest.mark.asyncio
async def test_pages_follow_next_on_the_hub_and_are_typed() -> None:
    tags = PagedTags()
    async with rig({TAGS: tags.handle}, hub_page_size=2) as r:
        tags.next_base = r.base
        pages = [page async for page in HubClient(r.http, r.settings).pages("python")]
    assert [entry.path_qs for entry in r.recorder.seen] == [
        f"{TAGS}?page_size=2&ordering=last_updated",
        f"{TAGS}?page=2&page_size=2",
        f"{TAGS}?page=3&page_size=2",
    ]
    assert [[tag.name for tag in page.results] for page in pages] == [
        ["3.13", "3.12"],
        ["3.11", "3.10"],
        ["3.9"],
    ]
    first = pages[0]
    assert isinstance(first, HubPage)
    assert first.url == f"{r.base}{TAGS}?page_size=2&ordering=last_updated"
    assert (first.count, first.next) == (5, f"{r.base}{TAGS}?page=2&page_size=2")
    assert pages[-1].next is None
    tag = first.results[0]
    assert tag.digest == f"sha256:{'c' * 64}"
    assert tag.media_type == "application/vnd.oci.image.index.v1+json"
    assert tag.tag_status == "active"
    assert tag.last_updated == datetime(2026, 9, 17, 20, 38, 1, 774926, tzinfo=UTC)
    assert tag.images == [
        HubImage(
            architecture="amd64",
            os="linux",
            variant=None,
            digest=f"sha256:{'a' * 64}",
            size=51_234_567,
            status="active",
            last_pushed=datetime(2026, 9, 17, 20, 37, 26, 154860, tzinfo=UTC),
        ),
        HubImage(
            architecture="arm",
            os="linux",
            variant="v7",
            digest=f"sha256:{'b' * 64}",
            size=45_000_000,
            status="inactive",
            last_pushed=None,
        ),
    ]


@pytest.mark.asyncio
async def test_no_ordering_parameter_when_ordering_is_none() -> None:
    async def one_page(request: web.Request) -> web.Response:
        return json_answer(page_document([], None))

    async with rig({TAGS: one_page}) as r:
        pages = [
            page async for page in HubClient(r.http, r.settings).pages("python", ordering=None)
        ]
    assert len(pages) == 1
    assert r.recorder.seen[0].path_qs == f"{TAGS}?page_size=100"


@pytest.mark.asyncio
async def test_stopping_early_requests_no_more_pages() -> None:
    tags = PagedTags()
    async with rig({TAGS: tags.handle}, hub_page_size=2) as r:
        tags.next_base = r.base
        async with aclosing(HubClient(r.http, r.settings).pages("python")) as pages:
            async for page in pages:
                assert page.results[0].name == "3.13"
                break
    assert len(r.recorder.seen) == 1


@pytest.mark.parametrize(
    "foreign",
    [
        "{other}",  # another port on the same host
        "{other_localhost}",  # another host name
        "{base}/elsewhere",  # same host and port, outside the /hub prefix
        "https://hub.docker.com",  # the real Hub is not the configured one
        "{userinfo}",  # user information smuggled into the link
    ],
)
@pytest.mark.asyncio
async def test_a_foreign_next_is_not_followed(foreign: str) -> None:
    decoy_recorder = Recorder()

    async def decoy(request: web.Request) -> web.Response:
        return json_answer(page_document(["stolen"], None))

    async with serve({"/{tail:.*}": decoy}, decoy_recorder) as decoy_base:

        async def first_page(request: web.Request) -> web.Response:
            base = f"http://{request.host}"
            next_base = foreign.format(
                other=decoy_base,
                other_localhost=decoy_base.replace("127.0.0.1", "localhost"),
                base=base,
                userinfo=base.replace("http://", "http://user:pw@") + "/hub",
            )
            return json_answer(page_document(["3.13"], f"{next_base}{TAGS}?page=2"))

        async with rig({TAGS: first_page, "/elsewhere/{tail:.*}": decoy}) as r:
            seen: list[HubPage] = []
            with pytest.raises(ForbiddenTargetError, match="next link outside") as caught:
                async for page in HubClient(r.http, r.settings).pages("python"):
                    seen.append(page)
    assert [tag.name for page in seen for tag in page.results] == ["3.13"]
    assert caught.value.url == seen[0].next
    assert decoy_recorder.seen == []
    assert len(r.recorder.seen) == 1


@pytest.mark.asyncio
async def test_a_next_link_that_loops_is_an_error() -> None:
    async def looping(request: web.Request) -> web.Response:
        return json_answer(page_document(["3.13"], f"http://{request.host}{TAGS}?page=2"))

    async with rig({TAGS: looping}) as r:
        with pytest.raises(UpstreamError, match="repeats"):
            async for _ in HubClient(r.http, r.settings).pages("python"):
                pass
    assert len(r.recorder.seen) == 2


@pytest.mark.asyncio
async def test_unknown_repository_is_not_found() -> None:
    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404, text='{"message": "object not found"}')

    async with rig({"/{tail:.*}": missing}) as r:
        with pytest.raises(NotFoundError):
            async for _ in HubClient(r.http, r.settings).pages("nosuch"):
                pass
    assert len(r.recorder.seen) == 1


@pytest.mark.parametrize(
    "malformed",
    [
        '{"count": 1, "next": null, "results": [',
        '{"count": "1", "next": null, "results": []}',
        '{"count": 1, "next": null, "results": {}}',
        '{"count": 1, "next": null, "results": [{"images": []}]}',
        '{"count": 1, "next": null, "results": [{"name": "x", "images": [{"os": "linux"}]}]}',
        '{"count": 1, "next": null, "results": [{"name": "x", "last_updated": "yesterday"}]}',
        '{"count": 1, "next": 7, "results": []}',
        "[]",
    ],
)
@pytest.mark.asyncio
async def test_malformed_pages_are_retried(malformed: str) -> None:
    answers = [malformed]

    async def flaky(request: web.Request) -> web.Response:
        if answers:
            return web.Response(text=answers.pop(), content_type="application/json")
        return json_answer(page_document(["3.13"], None))

    async with rig({TAGS: flaky}) as r:
        pages = [page async for page in HubClient(r.http, r.settings).pages("python")]
    assert [tag.name for tag in pages[0].results] == ["3.13"]
    assert len(r.recorder.seen) == 2
    assert r.http.stats.failures["malformed"] == 1


@pytest.mark.asyncio
async def test_hub_times_past_the_microsecond_and_without_a_zone() -> None:
    async def handle(request: web.Request) -> web.Response:
        body = page_document(["a", "b"], None)
        body["results"][0]["last_updated"] = "2024-06-19T16:40:09.123456789Z"  # type: ignore[index]
        body["results"][1]["last_updated"] = "2024-06-19T16:40:09"  # type: ignore[index]
        return web.json_response(body)

    async with rig({TAGS: handle}) as r:
        (page,) = [page async for page in HubClient(r.http, r.settings).pages("python")]
    first, second = page.results
    assert first.last_updated == datetime(2024, 6, 19, 16, 40, 9, 123457, tzinfo=UTC)
    assert second.last_updated == datetime(2024, 6, 19, 16, 40, 9)  # naive: the store takes UTC


def test_repository_names_are_single_segments() -> None:
    settings = settings_for("http://127.0.0.1:1")
    client = HubClient(UpstreamHttp(settings), settings)
    assert client.tags_url("python") == (
        f"http://127.0.0.1:1{TAGS}?page_size=100&ordering=last_updated"
    )
    for bad in ("", "..", "a/b"):
        with pytest.raises(ForbiddenTargetError):
            client.tags_url(bad)


REPOSITORIES = "/hub/v2/namespaces/library/repositories"


def repository_entry(name: str, last_updated: str | None) -> dict[str, object]:
    """A repository as the Hub's repository list answers it, extra fields included."""
    return {
        "name": name,
        "namespace": "library",
        "repository_type": "image",
        "status": 1,
        "is_private": False,
        "star_count": 9,
        "pull_count": 1_000_000,
        "last_updated": last_updated,
        "date_registered": "2014-06-05T19:00:00Z",
    }


@pytest.mark.asyncio
async def test_repository_times_follow_next_and_read_last_updated() -> None:
    base = ""

    async def handle(request: web.Request) -> web.Response:
        if request.query.get("page") == "2":
            return web.json_response(
                {
                    "count": 3,
                    "next": None,
                    "previous": None,
                    "results": [repository_entry("debian", "2026-09-17T20:38:01.774926")],
                }
            )
        return web.json_response(
            {
                "count": 3,
                "next": f"{base}{REPOSITORIES}?page=2&page_size=100",
                "previous": None,
                "results": [
                    repository_entry("python", "2026-09-18T01:02:03.123456Z"),
                    repository_entry("scratch", None),
                ],
            }
        )

    async with rig({REPOSITORIES: handle}) as r:
        base = r.base
        times = await HubClient(r.http, r.settings).repository_times()
    assert [entry.path_qs for entry in r.recorder.seen] == [
        f"{REPOSITORIES}?page_size=100&ordering=name",
        f"{REPOSITORIES}?page=2&page_size=100",
    ]
    assert times == {
        "python": datetime(2026, 9, 18, 1, 2, 3, 123456, tzinfo=UTC),
        "scratch": None,
        "debian": datetime(2026, 9, 17, 20, 38, 1, 774926, tzinfo=UTC),  # naive: UTC
    }
    assert r.http.stats.requests["hub-repositories"] == 2


@pytest.mark.asyncio
async def test_repository_times_refuse_a_foreign_next_and_retry_a_malformed_list() -> None:
    answers = ['{"count": 1, "next": null, "results": [{"name": 5}]}']

    async def handle(request: web.Request) -> web.Response:
        if answers:
            return web.Response(text=answers.pop(), content_type="application/json")
        return web.json_response(
            {"count": 1, "next": "http://elsewhere.test/hub/next", "results": []}
        )

    async with rig({REPOSITORIES: handle}) as r:
        with pytest.raises(ForbiddenTargetError, match="next link outside") as caught:
            await HubClient(r.http, r.settings).repository_times()
    assert caught.value.url == "http://elsewhere.test/hub/next"
    assert len(r.recorder.seen) == 2
    assert r.http.stats.failures["malformed"] == 1


@pytest.mark.asyncio
async def test_a_malformed_tag_page_names_the_place_of_the_fault() -> None:
    async def handle(request: web.Request) -> web.Response:
        body = page_document(["3.13"], None)
        body["results"][0]["images"][0]["size"] = "big"  # type: ignore[index]
        return web.json_response(body)

    async with rig({TAGS: handle}, max_tries=1) as r:
        with pytest.raises(UpstreamError) as caught:
            async for _ in HubClient(r.http, r.settings).pages("python"):
                pass
    assert "$.results[0].images[0].size" in str(caught.value)
