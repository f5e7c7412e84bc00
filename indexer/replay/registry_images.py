"""What the replayed registry publishes behind each Hub tag: OCI indexes and platform manifests.

The replayed Hub and registry tell one story: the digest the Hub lists for a tag is the
sha256 of the OCI index body the registry serves for it, and each platform image's
digest is the sha256 of its manifest body. Both bodies are generated here from the
corpus, per tag as :func:`indexer.replay.hub_view.hub_tags_for` describes it (its
digests are the *identity* of an image; the published digests replace them):

- **platform manifest** (Docker v2 manifest): a config descriptor derived from the
  image's identity, and the corpus's layers of that platform (``hub/<name>.json.gz``),
  so a child's layers start with its parent's, as in the corpus;
- **OCI index**: one entry per platform with the official images' annotations, and one
  attestation entry (``unknown/unknown``) per platform:

  - ``com.docker.official-images.bashbrew.arch``: the platform's bashbrew name;
  - ``org.opencontainers.image.revision``/``.source``: the library's ``GitCommit``
    (and ``GitRepo``, ``Directory``) of that architecture in the snapshot the tag was
    last seen in;
  - ``org.opencontainers.image.base.name``/``.base.digest``: the parent the project's
    Dockerfile resolver finds in the corpus's Dockerfile head, and the published index
    digest of that parent tag when the tag was built: at the oldest snapshot defining
    the tag as it is served (an image outside the corpus's Hub gets a stand-in digest). Built ``FROM scratch`` (or ``oci-import``): no base
    annotations. No Dockerfile head in the corpus: no base annotations either, so a
    client has to check the layers;
  - ``org.opencontainers.image.created``: the image's ``last_pushed``.

:class:`RegistryOptions` makes a share of images **stale** (the base digest is that of
another, older build of the parent), **pending** (the revision is another commit
than the library's) or **bare** (no annotations but the bashbrew architecture), drawn by a hash of (repository, image, architecture), so aliases
and every request agree. A tag whose definition did not change keeps its digest when
its parent is built again: it becomes stale, as a published image does until the
next rebuild.

:class:`PublishedImages` computes all this lazily per (snapshot, repository) and keeps
every body it generated, by digest, for the registry routes
(:mod:`indexer.replay.registry_routes`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import msgspec

from indexer.errors import IndexerError
from indexer.parsing.dockerfile import resolve_build
from indexer.platforms import bashbrew_arch
from indexer.refs import split_ref
from indexer.replay.corpus import Corpus
from indexer.replay.hub_view import HubTagView, hub_tags_for
from indexer.replay.library_tags import BuildSource

__all__ = [
    "ATTESTATION_TYPE",
    "DOCKER_MANIFEST",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "PublishedBuild",
    "PublishedImages",
    "PublishedTag",
    "RegistryAccess",
    "RegistryOptions",
    "published_images",
]

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
ATTESTATION_TYPE = "attestation-manifest"
_SCRATCH = "scratch"


@dataclass(frozen=True)
class RegistryOptions:
    """Shares of the published images made stale or pending (0 to 1)."""

    stale_share: float = 0.0
    pending_share: float = 0.0
    #: fraction published without the official images' annotations (the bashbrew
    #: architecture aside), as images built before they existed
    bare_share: float = 0.0


@dataclass(frozen=True)
class RegistryAccess:
    """Who may read manifests, and how many (changeable while the replay serves)."""

    require_token: bool = False
    #: manifest GETs allowed in all; ``None``: unlimited
    pull_limit: int | None = None
    #: the realm announced by a 401 (default: the replay's own token endpoint)
    token_realm: str | None = None


@dataclass(frozen=True)
class PublishedBuild:
    """One platform of a published index, as the replay built it (what a test expects)."""

    #: bashbrew name
    architecture: str
    manifest_digest: str
    #: normalised parent the annotations name; ``None``: no base annotation
    base_name: str | None
    base_digest: str | None
    #: the annotated revision; ``None`` when the library has no source for it
    revision: str | None
    #: the base digest is not the parent tag's current one: the parent was built again
    #: since (between the snapshot the tag was built at and the served one), or the
    #: option replaced it by an older build
    stale: bool
    #: the revision was replaced by an unpublished commit (option)
    pending: bool
    #: published without annotations (option): a client must check the layers
    bare: bool = False


@dataclass(frozen=True)
class PublishedTag:
    """One tag: the Hub view with published digests, and its index's builds."""

    view: HubTagView
    builds: tuple[PublishedBuild, ...]


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _draw(kind: str, repository: str, identity: str, arch: str) -> float:
    digest = hashlib.sha256(f"{kind}|{repository}|{identity}|{arch}".encode()).hexdigest()
    return int(digest[:8], 16) / 2**32


def _body(payload: Mapping[str, Any]) -> bytes:
    return msgspec.json.encode(payload)


def _github_segments(source: BuildSource) -> list[str] | None:
    prefix = "https://github.com/"
    if not source.git_repo.startswith(prefix):
        return None
    owner_repo = source.git_repo.removeprefix(prefix).removesuffix(".git").strip("/")
    if owner_repo.count("/") != 1:
        return None
    return [*owner_repo.split("/"), source.commit, *source.directory.split("/"), source.file]


class PublishedImages:
    """Bodies and published Hub views of one corpus under one set of options (thread-safe)."""

    def __init__(self, corpus: Corpus, options: RegistryOptions | None = None) -> None:
        # a weak reference: the shared cache (`published_images`) holds this object under
        # a weak key on the corpus, which a strong reference here would keep alive forever
        self._corpus = cast(Corpus, weakref.proxy(corpus))
        self.options = options or RegistryOptions()
        self._lock = threading.RLock()
        self._tags: dict[tuple[str, str], dict[str, PublishedTag]] = {}
        self._views: dict[tuple[str, str], dict[str, HubTagView]] = {}
        self._by_identity: dict[tuple[str, str, str], PublishedTag] = {}
        self._busy: set[tuple[str, str, str]] = set()
        self._bodies: dict[str, tuple[str, bytes]] = {}
        self._parents: dict[tuple[BuildSource, str], str | None] = {}
        #: platform manifest (digest, size) by the image's identity digest
        self._manifests: dict[str, tuple[str, int]] = {}

    def body(self, digest: str) -> tuple[str, bytes] | None:
        """``(media type, body)`` of a manifest or index generated so far, by digest."""
        return self._bodies.get(digest)

    def views(self, snapshot: str, repository: str) -> list[HubTagView]:
        """``hub_tags_for`` with the published digests, in the same order."""
        return [tag.view for tag in self.tags(snapshot, repository).values()]

    def tags(self, snapshot: str, repository: str) -> dict[str, PublishedTag]:
        """``{tag: PublishedTag}`` of ``repository`` at ``snapshot``, in Hub order."""
        key = (snapshot, repository)
        with self._lock:
            tags = self._tags.get(key)
            if tags is None:
                tags = {}
                for view in self._hub_views(snapshot, repository).values():
                    done = self._published(snapshot, repository, view)
                    assert done is not None  # nothing is being built at the top level
                    tags[view.name] = done
                self._tags[key] = tags
            return tags

    # --- building --------------------------------------------------------------------

    def _hub_views(self, snapshot: str, repository: str) -> dict[str, HubTagView]:
        key = (snapshot, repository)
        views = self._views.get(key)
        if views is None:
            views = {v.name: v for v in hub_tags_for(self._corpus, snapshot, repository)}
            self._views[key] = views
        return views

    def _published(self, snapshot: str, repository: str, view: HubTagView) -> PublishedTag | None:
        """One tag, published; ``None`` while that very image is being built (a cycle)."""
        key = (snapshot, repository, view.digest)
        done = self._by_identity.get(key)
        if done is None:
            if key in self._busy:
                return None
            self._busy.add(key)
            try:
                corpus = self._corpus
                sources = corpus.tag_sources(view.seen_in, repository).get(view.name, {})
                stored = corpus.hub_tags(repository) or {}
                original = stored[view.name].platforms if view.name in stored else ()
                layers = corpus.hub_layers(repository)
                done = self._index(snapshot, repository, view, sources, original, layers)
            finally:
                self._busy.discard(key)
            self._by_identity[key] = done
        return PublishedTag(
            view=dataclasses.replace(
                done.view, name=view.name, last_updated=view.last_updated, seen_in=view.seen_in
            ),
            builds=done.builds,
        )

    def _index(
        self,
        snapshot: str,
        repository: str,
        view: HubTagView,
        sources: Mapping[str, BuildSource],
        original: tuple[Any, ...],
        layers: Mapping[str, tuple[tuple[str, int], ...]],
    ) -> PublishedTag:
        entries: list[dict[str, Any]] = []
        attestations: list[dict[str, Any]] = []
        images = []
        builds = []
        built_at = self._built_at(repository, view)
        for position, image in enumerate(view.images):
            manifest = self._manifests.get(image.digest)
            if manifest is None:
                corpus_digest = original[position].digest if position < len(original) else ""
                manifest = self._manifest(image.digest, position, layers.get(corpus_digest, ()))
                self._manifests[image.digest] = manifest
            arch = bashbrew_arch(image.os, image.architecture, image.variant)
            platform: dict[str, str] = {"architecture": image.architecture, "os": image.os}
            if image.variant:
                platform["variant"] = image.variant
            build, annotations = self._annotations(
                (snapshot, built_at),
                repository,
                view.digest,
                arch,
                sources.get(arch),
                manifest,
                image,
            )
            builds.append(build)
            entries.append(
                {
                    "mediaType": DOCKER_MANIFEST,
                    "digest": manifest[0],
                    "size": manifest[1],
                    "platform": platform,
                    "annotations": annotations,
                }
            )
            attestation = self._store(
                OCI_MANIFEST,
                _body({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "subject": manifest[0]}),
            )
            attestations.append(
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": attestation[0],
                    "size": attestation[1],
                    "platform": {"architecture": "unknown", "os": "unknown"},
                    "annotations": {
                        "vnd.docker.reference.digest": manifest[0],
                        "vnd.docker.reference.type": ATTESTATION_TYPE,
                    },
                }
            )
            images.append(image._replace(digest=manifest[0]))
        index = self._store(
            OCI_INDEX,
            _body(
                {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries + attestations}
            ),
        )
        published = dataclasses.replace(
            view, digest=index[0], media_type=OCI_INDEX, images=tuple(images)
        )
        return PublishedTag(view=published, builds=tuple(builds))

    def _built_at(self, repository: str, view: HubTagView) -> str:
        """The oldest snapshot that defines the tag as it was built (its build time)."""
        definition = self._corpus.tag_definitions(view.seen_in, repository).get(view.name)
        for snapshot in self._corpus.snapshots:
            if self._corpus.tag_definitions(snapshot.name, repository).get(view.name) == definition:
                return snapshot.name
        return view.seen_in

    def _annotations(
        self,
        snapshots: tuple[str, str],
        repository: str,
        identity: str,
        arch: str,
        source: BuildSource | None,
        manifest: tuple[str, int],
        image: Any,
    ) -> tuple[PublishedBuild, dict[str, str]]:
        annotations = {
            "com.docker.official-images.bashbrew.arch": arch,
            "org.opencontainers.image.created": image.last_pushed,
            "org.opencontainers.image.url": f"https://hub.docker.com/_/{repository}",
        }
        base_name = base_digest = revision = None
        stale = pending = False
        bare = _draw("bare", repository, identity, arch) < self.options.bare_share
        if source is not None and not bare:
            revision = source.commit
            if _draw("pending", repository, identity, arch) < self.options.pending_share:
                revision = hashlib.sha1(
                    f"unpublished|{source.commit}".encode(), usedforsecurity=False
                ).hexdigest()
                pending = True
            annotations["org.opencontainers.image.revision"] = revision
            annotations["org.opencontainers.image.source"] = (
                f"{source.git_repo}#{revision}:{source.directory}"
            )
            parent = self._parent(source, arch)
            if parent is not None and parent != _SCRATCH:
                base_name = parent
                served, built_at = snapshots
                current, from_hub = self._base_digest(served, parent)
                base_digest, then = self._base_digest(built_at, parent)
                if not then:
                    base_digest = current
                if (
                    from_hub
                    and _draw("stale", repository, identity, arch) < self.options.stale_share
                ):
                    base_digest = _sha256(f"older-build|{base_digest}".encode())
                stale = from_hub and base_digest != current
                annotations["org.opencontainers.image.base.name"] = parent
                annotations["org.opencontainers.image.base.digest"] = base_digest
        build = PublishedBuild(
            architecture=arch,
            manifest_digest=manifest[0],
            base_name=base_name,
            base_digest=base_digest,
            revision=revision,
            stale=stale,
            pending=pending,
            bare=bare,
        )
        return build, dict(sorted(annotations.items()))

    def _base_digest(self, snapshot: str, parent: str) -> tuple[str, bool]:
        """The parent's published index digest at ``snapshot``; ``True`` if on the Hub."""
        repository, tag = split_ref(parent)
        if tag is not None and repository in self._corpus.hub_repositories:
            view = self._hub_views(snapshot, repository).get(tag)
            found = self._published(snapshot, repository, view) if view is not None else None
            if found is not None:
                return found.view.digest, True
        return _sha256(f"external-base|{parent}".encode()), False

    def _parent(self, source: BuildSource, arch: str) -> str | None:
        """The parent the corpus's Dockerfile head names; ``None`` without a head."""
        key = (source, arch)
        if key in self._parents:
            return self._parents[key]
        parent: str | None = None
        if source.builder == "oci-import":
            parent = _SCRATCH
        else:
            segments = _github_segments(source)
            data = self._corpus.dockerfile(segments) if segments is not None else None
            if data is not None:
                try:
                    parent = resolve_build(
                        source.builder or None,
                        data.decode("utf-8", errors="replace"),
                        architecture=arch,
                    ).parent
                except IndexerError:
                    parent = None
        self._parents[key] = parent
        return parent

    def _manifest(
        self, identity: str, position: int, layers: tuple[tuple[str, int], ...]
    ) -> tuple[str, int]:
        return self._store(
            DOCKER_MANIFEST,
            _body(
                {
                    "schemaVersion": 2,
                    "mediaType": DOCKER_MANIFEST,
                    "config": {
                        "mediaType": _DOCKER_CONFIG,
                        "size": 1024 + position,
                        "digest": _sha256(f"config|{identity}".encode()),
                    },
                    "layers": [
                        {"mediaType": _DOCKER_LAYER, "size": size, "digest": digest}
                        for digest, size in layers
                    ],
                }
            ),
        )

    def _store(self, media_type: str, body: bytes) -> tuple[str, int]:
        digest = _sha256(body)
        self._bodies[digest] = (media_type, body)
        return digest, len(body)


#: one :class:`PublishedImages` per corpus object and options, shared by every server on
#: them (tests start many; generating every body of a large corpus takes seconds)
_SHARED: weakref.WeakKeyDictionary[Corpus, dict[RegistryOptions, PublishedImages]] = (
    weakref.WeakKeyDictionary()
)
_SHARED_LOCK = threading.Lock()


def published_images(corpus: Corpus, options: RegistryOptions | None = None) -> PublishedImages:
    """The shared :class:`PublishedImages` of ``corpus`` under ``options``."""
    key = options or RegistryOptions()
    with _SHARED_LOCK:
        per_corpus = _SHARED.setdefault(corpus, {})
        found = per_corpus.get(key)
        if found is None:
            found = per_corpus[key] = PublishedImages(corpus, key)
        return found
