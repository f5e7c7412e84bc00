"""RegistryClient against real local servers: tokens, realms, digests, size cap, headers."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from aiohttp import web

from indexer.errors import BodyTooLargeError, DigestMismatchError, ForbiddenTargetError
from indexer.upstream.registry import ACCEPT, RegistryClient, index_entries, parse_remaining
from tests.upstream.servers import Recorder, rig, serve

INDEX = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "digest": "sha256:" + "a" * 64,
                "size": 10,
                "platform": {"architecture": "arm", "os": "linux", "variant": "v7"},
                "annotations": {"org.opencontainers.image.revision": "abc"},
            },
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": "sha256:" + "b" * 64,
                "size": 10,
                "platform": {"architecture": "unknown", "os": "unknown"},
                "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
            },
        ],
    }
).encode()
DIGEST = "sha256:" + hashlib.sha256(INDEX).hexdigest()
MANIFEST_PATH = "/registry/v2/library/busybox/manifests/{reference}"


async def _token(request: web.Request) -> web.Response:
    return web.json_response({"token": "good", "expires_in": 300})


def _manifest(body: bytes) -> web.Response:
    return web.Response(
        body=body,
        headers={
            "Content-Type": "application/vnd.oci.image.index.v1+json",
            "ratelimit-remaining": "7;w=21600",
        },
    )


@pytest.mark.asyncio
async def test_reads_an_index_by_digest_with_a_token_and_checks_it() -> None:
    async def manifest(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Bearer good":
            return web.Response(status=401)
        return _manifest(INDEX)

    routes = {"/registry-auth/token": _token, MANIFEST_PATH: manifest}
    async with rig(routes, registry_username="me", registry_password="secret") as r:
        client = RegistryClient(r.http, r.settings)
        found = await client.manifest("busybox", DIGEST)
        assert found.body == INDEX and found.is_index and found.remaining == 7
        await client.manifest("busybox", DIGEST)  # the token is kept
        token_requests = [s for s in r.recorder.seen if s.path == "/registry-auth/token"]
        assert len(token_requests) == 1
        assert "scope=repository:library/busybox:pull" in token_requests[0].query
        assert (
            token_requests[0].headers["Authorization"]
            == "Basic " + base64.b64encode(b"me:secret").decode()
        )
        manifest_requests = [s for s in r.recorder.seen if s.path.startswith("/registry/")]
        assert manifest_requests[0].headers["Accept"] == ACCEPT
    entries = index_entries(INDEX)
    assert [(e.os, e.architecture, e.variant) for e in entries] == [("linux", "arm", "v7")]


@pytest.mark.asyncio
async def test_a_tag_is_never_requested() -> None:
    async with rig({}) as r:
        client = RegistryClient(r.http, r.settings)
        with pytest.raises(ForbiddenTargetError):
            await client.manifest("busybox", "latest")
        assert r.recorder.seen == []


@pytest.mark.asyncio
async def test_a_realm_on_another_host_is_not_requested() -> None:
    elsewhere = Recorder()

    async def stolen(request: web.Request) -> web.Response:
        return web.json_response({"token": "stolen"})

    async with serve({"/token": stolen}, elsewhere) as evil:

        async def manifest(request: web.Request) -> web.Response:
            challenge = f'Bearer realm="{evil}/token",service="x",scope="repository:y:pull"'
            return web.Response(status=401, headers={"WWW-Authenticate": challenge})

        async with rig({"/registry-auth/token": _token, MANIFEST_PATH: manifest}) as r:
            client = RegistryClient(r.http, r.settings)
            with pytest.raises(ForbiddenTargetError) as caught:
                await client.manifest("busybox", DIGEST)
            assert caught.value.url == f"{evil}/token"
    assert elsewhere.seen == []


@pytest.mark.asyncio
async def test_a_realm_on_the_auth_host_gets_a_new_token() -> None:
    async def renewed(request: web.Request) -> web.Response:
        assert request.query["scope"] == "repository:library/busybox:pull"
        return web.json_response({"access_token": "renewed", "expires_in": 300})

    async def manifest(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") == "Bearer renewed":
            return _manifest(INDEX)
        realm = f"http://{request.host}/registry-auth/renew"
        challenge = (
            f'Bearer realm="{realm}",service="registry.docker.io",'
            'scope="repository:library/busybox:pull"'
        )
        return web.Response(status=401, headers={"WWW-Authenticate": challenge})

    routes = {
        "/registry-auth/token": _token,
        "/registry-auth/renew": renewed,
        MANIFEST_PATH: manifest,
    }
    async with rig(routes) as r:
        found = await RegistryClient(r.http, r.settings).manifest("busybox", DIGEST)
        assert found.digest == DIGEST


@pytest.mark.asyncio
async def test_a_body_that_does_not_hash_to_its_digest_is_rejected() -> None:
    async def manifest(request: web.Request) -> web.Response:
        return _manifest(INDEX + b" ")

    async with rig({"/registry-auth/token": _token, MANIFEST_PATH: manifest}) as r:
        with pytest.raises(DigestMismatchError):
            await RegistryClient(r.http, r.settings).manifest("busybox", DIGEST)


@pytest.mark.asyncio
async def test_an_oversized_manifest_is_cut_off() -> None:
    huge = b"{" + b" " * 200_000 + b"}"
    digest = "sha256:" + hashlib.sha256(huge).hexdigest()

    async def manifest(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)  # chunked: no Content-Length to trust
        for start in range(0, len(huge), 16_384):
            await response.write(huge[start : start + 16_384])
        await response.write_eof()
        return response

    routes = {"/registry-auth/token": _token, MANIFEST_PATH: manifest}
    async with rig(routes, registry_max_manifest_bytes=50_000) as r:
        with pytest.raises(BodyTooLargeError):
            await RegistryClient(r.http, r.settings).manifest("busybox", digest)


def test_ratelimit_remaining_is_read() -> None:
    assert parse_remaining("76;w=21600") == 76
    assert parse_remaining("0") == 0
    assert parse_remaining(None) is None
    assert parse_remaining("lots") is None
