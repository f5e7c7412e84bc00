"""The registry: OCI indexes and platform manifests by digest, with a token per repository.

``GET {registry_url}/v2/{namespace}/{repository}/manifests/{digest}`` with
``Authorization: Bearer {token}`` and ``Accept`` for the four manifest media types.
Rules (CONTRACT §1):

- **By digest only.** A reference that is not ``sha256:<64 hex>`` is refused
  (`ForbiddenTargetError`), never requested; a tag would be a pull whose answer can
  change. The body's sha256 must equal the digest, else `DigestMismatchError`.
- **Token per repository scope**, from ``{registry_auth_url}/token?service=...&scope=
  repository:{namespace}/{repository}:pull`` (anonymous, or Basic with
  ``registry_username``/``registry_password``), kept until shortly before it expires.
  A ``401`` whose ``WWW-Authenticate`` names a ``realm`` under ``registry_auth_url``
  gets one new token from that realm (with the service and scope it names) and one
  more try; a realm anywhere else is never requested (`ForbiddenTargetError`).
- **Size cap** ``registry_max_manifest_bytes`` (`BodyTooLargeError`); retries, pacing
  and ``429`` handling are `UpstreamHttp.request`'s, as for the other clients.
- **Pull budget.** Every GET answer's ``ratelimit-remaining`` (``N;w=SECONDS``) is
  returned with the manifest (`Manifest.remaining`), for the caller to stop in time.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import quote, urlencode

import msgspec

from indexer.errors import DigestMismatchError, ForbiddenTargetError, UpstreamError
from indexer.settings import Settings
from indexer.upstream.http import Response, ShapeError, UpstreamHttp, url_is_under

__all__ = [
    "ACCEPT",
    "ATTESTATION_TYPE",
    "INDEX_TYPES",
    "IndexEntry",
    "Manifest",
    "RegistryClient",
    "index_entries",
    "manifest_layers",
    "parse_remaining",
]

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
#: every manifest kind the indexer reads, in the ``Accept`` header
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
INDEX_TYPES = frozenset((OCI_INDEX, DOCKER_LIST))
ATTESTATION_TYPE = "attestation-manifest"
SERVICE = "registry.docker.io"
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
#: a token is renewed this many seconds before it expires
_TOKEN_MARGIN = 30.0


class _Platform(msgspec.Struct, frozen=True):
    architecture: str = ""
    os: str = ""
    variant: str | None = None


class _Descriptor(msgspec.Struct, frozen=True):
    digest: Annotated[str, msgspec.Meta(pattern=r"^sha256:[0-9a-f]{64}$")]
    mediaType: str = ""  # noqa: N815 (the wire name)
    size: int = 0
    platform: _Platform | None = None
    annotations: dict[str, str] = msgspec.field(default_factory=dict)


class _ManifestBody(msgspec.Struct, frozen=True):
    mediaType: str = ""  # noqa: N815 (the wire name)
    manifests: list[_Descriptor] = msgspec.field(default_factory=list)
    layers: list[_Descriptor] = msgspec.field(default_factory=list)


class _TokenBody(msgspec.Struct, frozen=True):
    token: str | None = None
    access_token: str | None = None
    expires_in: int = 60


_BODY_DECODER = msgspec.json.Decoder(_ManifestBody)
_TOKEN_DECODER = msgspec.json.Decoder(_TokenBody)


@dataclass(frozen=True)
class IndexEntry:
    """One platform image of an index (attestations left out)."""

    digest: str
    os: str
    architecture: str
    variant: str | None
    annotations: Mapping[str, str]


@dataclass(frozen=True)
class Manifest:
    """A manifest or index whose body hashed to its digest."""

    digest: str
    media_type: str
    body: bytes
    #: the registry's ``ratelimit-remaining`` after this pull, where it said
    remaining: int | None

    @property
    def is_index(self) -> bool:
        """An OCI index or Docker manifest list (else a single-platform manifest)."""
        return self.media_type in INDEX_TYPES


def parse_remaining(value: str | None) -> int | None:
    """``ratelimit-remaining: 76;w=21600`` as ``76``; ``None`` when absent or unreadable."""
    if not value:
        return None
    head = value.split(";", 1)[0].strip()
    return int(head) if head.isdigit() else None


def _decode(body: bytes) -> _ManifestBody:
    try:
        return _BODY_DECODER.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ShapeError(f"unexpected manifest: {exc}") from exc


def index_entries(body: bytes) -> list[IndexEntry]:
    """The platform images of an index body; attestation and platform-less entries skipped."""
    entries = []
    for descriptor in _decode(body).manifests:
        platform = descriptor.platform
        if platform is None or platform.os in ("", "unknown"):
            continue
        if descriptor.annotations.get("vnd.docker.reference.type") == ATTESTATION_TYPE:
            continue
        entries.append(
            IndexEntry(
                digest=descriptor.digest,
                os=platform.os,
                architecture=platform.architecture,
                variant=platform.variant or None,
                annotations=dict(descriptor.annotations),
            )
        )
    return entries


def manifest_layers(body: bytes) -> list[str]:
    """The layer digests of a single-platform manifest body, in order."""
    return [layer.digest for layer in _decode(body).layers]


@dataclass
class _Tokens:
    values: dict[str, tuple[str, float]] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)


class RegistryClient:
    """Manifests by digest over a shared `UpstreamHttp`, with per-scope tokens."""

    def __init__(self, http: UpstreamHttp, settings: Settings) -> None:
        self._http = http
        self._settings = settings
        self._base = settings.registry_url.rstrip("/")
        self._auth = settings.registry_auth_url.rstrip("/")
        self._tokens = _Tokens()

    def manifest_url(self, repository: str, digest: str) -> str:
        """The URL of ``repository``'s manifest ``digest`` (refuses anything but a digest)."""
        if not _DIGEST.fullmatch(digest):
            raise ForbiddenTargetError(f"manifests are read by sha256 digest only, not {digest!r}")
        if not repository or "/" in repository or repository in (".", ".."):
            raise ForbiddenTargetError(f"unsupported repository name {repository!r}")
        namespace = quote(self._settings.hub_namespace, safe="")
        return f"{self._base}/v2/{namespace}/{quote(repository, safe='')}/manifests/{digest}"

    def scope(self, repository: str) -> str:
        """The token scope that allows pulling ``repository``."""
        return f"repository:{self._settings.hub_namespace}/{repository}:pull"

    async def manifest(self, repository: str, digest: str) -> Manifest:
        """GET one manifest or index by digest, checked against the digest."""
        url = self.manifest_url(repository, digest)
        scope = self.scope(repository)
        token = await self._token(scope, f"{self._auth}/token", SERVICE)
        try:
            response = await self._get(url, token)
        except UpstreamError as exc:
            if exc.status != 401:
                raise
            realm, service, asked_scope = self._challenge(exc, url)
            token = await self._token(asked_scope or scope, realm, service, renew=True)
            response = await self._get(url, token)
        actual = "sha256:" + hashlib.sha256(response.body).hexdigest()
        if actual != digest:
            raise DigestMismatchError(f"body hashes to {actual}, not the digest asked for", url=url)
        media_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip()
        if not media_type:
            media_type = _decode(response.body).mediaType
        return Manifest(
            digest=digest,
            media_type=media_type,
            body=response.body,
            remaining=parse_remaining(response.headers.get("ratelimit-remaining")),
        )

    async def _get(self, url: str, token: str | None) -> Response:
        headers = {"Accept": ACCEPT}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return await self._http.request(
            url,
            kind="registry-manifest",
            headers=headers,
            decode=_whole,
            max_bytes=self._settings.registry_max_manifest_bytes,
        )

    def _challenge(self, error: UpstreamError, url: str) -> tuple[str, str, str | None]:
        """``(realm, service, scope)`` of a 401; refuses a realm off the auth host."""
        header = error.headers.get("WWW-Authenticate", "")
        scheme, _, params = header.partition(" ")
        values = dict(_CHALLENGE_PARAM.findall(params))
        realm = values.get("realm")
        if scheme.lower() != "bearer" or not realm:
            raise UpstreamError(
                "registry refused the token and asked for none", url=url, status=401
            )
        if not url_is_under(realm, self._auth):
            raise ForbiddenTargetError(
                "token realm outside the configured registry auth URL, not followed", url=realm
            )
        return realm, values.get("service", SERVICE), values.get("scope")

    async def _token(
        self, scope: str, realm: str, service: str, *, renew: bool = False
    ) -> str | None:
        """A bearer token for ``scope`` from ``realm`` (cached until shortly before expiry)."""
        lock = self._tokens.locks.setdefault(scope, asyncio.Lock())
        async with lock:
            cached = self._tokens.values.get(scope)
            if cached is not None and not renew and cached[1] > time.monotonic():
                return cached[0]
            query = urlencode({"service": service, "scope": scope})
            headers = {"Accept": "application/json"}
            username, password = self._settings.registry_username, self._settings.registry_password
            if username is not None and password is not None:
                pair = base64.b64encode(f"{username}:{password}".encode()).decode()
                headers["Authorization"] = f"Basic {pair}"
            body = await self._http.request(
                f"{realm}?{query}", kind="registry-token", headers=headers, decode=_token_body
            )
            value = body.token or body.access_token
            if not value:
                raise UpstreamError("token service answered no token", url=realm)
            lifetime = max(1.0, body.expires_in - _TOKEN_MARGIN)
            self._tokens.values[scope] = (value, time.monotonic() + lifetime)
            return value


def _whole(response: Response) -> Response:
    return response


def _token_body(response: Response) -> _TokenBody:
    try:
        return _TOKEN_DECODER.decode(response.body)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ShapeError(f"unexpected token answer: {exc}") from exc
