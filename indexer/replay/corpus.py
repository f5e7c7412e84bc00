"""The corpus folder, read lazily and cheaply: library snapshots, Hub facts, Dockerfile heads.

Layout (see the corpus README): ``library/<snapshot>/<name>``, ``library/COMMITS.txt``,
``library/BLOBS.tsv``, ``hub/<name>.json.gz`` and
``dockerfiles/<owner>/<repo>/<commit>/<Directory>/<File>``.

Opening a :class:`Corpus` reads only ``COMMITS.txt``, ``BLOBS.tsv`` and three directory
listings. Library files, Hub files and Dockerfile heads are read on first use and kept.

Every folder under ``library/`` is a snapshot. Its commit and date come from
``COMMITS.txt``; a folder that file does not name (a hand-made test corpus) gets the
commit ``sha1("replay-snapshot:<name>")`` and the folder's modification time as date.
Listed blob ids are always computed from the bytes served; ``BLOBS.tsv`` is checked
against them (a mismatch is logged and the computed id wins).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from indexer.errors import IndexerError
from indexer.replay.library_tags import BuildSource, TagDefinition, tag_definitions, tag_sources

__all__ = [
    "HUB_TIME_FORMAT",
    "Corpus",
    "CorpusError",
    "HubPlatform",
    "HubTag",
    "LibraryBlob",
    "Snapshot",
    "UnknownSnapshotError",
    "git_blob_sha",
    "hub_time",
]

log = logging.getLogger(__name__)

#: the one time format the replayed Hub uses
HUB_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_HUB_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_LAYER_PAIR = re.compile(rb'\["sha256:[0-9a-f]{64}",\s*\d+\]')


class CorpusError(IndexerError):
    """The corpus folder is missing or unusable."""

    kind = "replay-corpus"


class UnknownSnapshotError(CorpusError):
    """A snapshot name that is not a folder under ``library/``."""

    kind = "replay-unknown-snapshot"


@dataclass(frozen=True)
class Snapshot:
    """One library snapshot: a docker-library/official-images commit."""

    name: str
    commit: str
    #: commit date, timezone-aware
    date: datetime


@dataclass(frozen=True)
class LibraryBlob:
    """One library file of a snapshot as the GitHub contents API lists it."""

    name: str
    #: git blob id of the bytes: sha1(b"blob <size>\\0" + data)
    sha: str
    size: int


class HubPlatform(NamedTuple):
    """One platform image of a Hub tag, as stored in ``hub/<name>.json.gz`` (layers dropped).

    A named tuple: tens of thousands are built when a large repository is loaded.
    """

    os: str
    architecture: str
    variant: str | None
    digest: str
    media_type: str
    size: int
    #: ``YYYY-MM-DDTHH:MM:SSZ`` (normalised to that form on load: compares as a string)
    last_modified: str


@dataclass(frozen=True)
class HubTag:
    """One tag of ``hub/<name>.json.gz``: the newest snapshot's values."""

    name: str
    digest: str
    media_type: str
    platforms: tuple[HubPlatform, ...]


def git_blob_sha(data: bytes) -> str:
    """The git blob id of ``data`` (what the GitHub contents API reports as ``sha``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _read_commits(path: Path) -> dict[str, tuple[str, datetime]]:
    commits: dict[str, tuple[str, datetime]] = {}
    if not path.is_file():
        return commits
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if line.startswith("#") or len(fields) < 3:
            continue
        try:
            date = datetime.fromisoformat(fields[2].strip())
        except ValueError:
            log.warning("COMMITS.txt: bad date in %r", line)
            continue
        if date.tzinfo is None:
            date = date.replace(tzinfo=UTC)
        commits[fields[0].strip()] = (fields[1].strip(), date)
    return commits


def _read_blobs(path: Path) -> dict[tuple[str, str], tuple[str, int]]:
    blobs: dict[tuple[str, str], tuple[str, int]] = {}
    if not path.is_file():
        return blobs
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        fields = line.split("\t")
        if len(fields) == 4 and fields[3].isdigit():
            blobs[fields[0], fields[1]] = (fields[2], int(fields[3]))
    return blobs


def hub_time(value: object) -> str:
    """``value`` (an ISO 8601 time) as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC; the epoch if unreadable.

    Every time the replay serves has this form, so times compare correctly as strings.
    """
    text = str(value or "")
    if _HUB_TIME.fullmatch(text):
        return text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = datetime.fromtimestamp(0, UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(HUB_TIME_FORMAT)


def _hub_platform(raw: Mapping[str, Any]) -> HubPlatform:
    return HubPlatform(
        os=str(raw["os"]),
        architecture=str(raw["architecture"]),
        variant=raw.get("variant") or None,
        digest=str(raw["digest"]),
        media_type=str(raw.get("media_type") or ""),
        size=int(raw.get("size") or 0),
        last_modified=hub_time(raw.get("last_modified")),
    )


class Corpus:
    """A corpus folder; cheap to open, everything else is loaded on first use and cached."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        library = self.root / "library"
        if not library.is_dir():
            raise CorpusError(f"not a corpus folder (no library/ in it): {self.root}")
        commits = _read_commits(library / "COMMITS.txt")
        snapshots: list[Snapshot] = []
        with os.scandir(library) as entries:
            for entry in entries:
                if not entry.is_dir() or entry.name.startswith("."):
                    continue
                if entry.name in commits:
                    commit, date = commits[entry.name]
                else:
                    seed = f"replay-snapshot:{entry.name}".encode()
                    commit = hashlib.sha1(seed, usedforsecurity=False).hexdigest()
                    date = datetime.fromtimestamp(entry.stat().st_mtime, UTC)
                snapshots.append(Snapshot(entry.name, commit, date))
        if not snapshots:
            raise CorpusError(f"no snapshot folders under {library}")
        snapshots.sort(key=lambda s: (s.date, s.name))
        self._snapshots = {s.name: s for s in snapshots}
        self._by_commit = {s.commit: s for s in snapshots}
        self._recorded_blobs = _read_blobs(library / "BLOBS.tsv")
        hub = self.root / "hub"
        self._hub_names = (
            frozenset(p.name.removesuffix(".json.gz") for p in hub.glob("*.json.gz"))
            if hub.is_dir()
            else frozenset()
        )
        self._dockerfiles = (self.root / "dockerfiles").resolve()
        self._library_names: dict[str, frozenset[str]] = {}
        self._library_files: dict[tuple[str, str], bytes] = {}
        self._blobs: dict[str, tuple[LibraryBlob, ...]] = {}
        self._definitions: dict[tuple[str, str], dict[str, TagDefinition]] = {}
        self._hub: dict[str, dict[str, HubTag]] = {}
        self._layers: dict[str, dict[str, tuple[tuple[str, int], ...]]] = {}
        self._sources: dict[tuple[str, str], dict[str, dict[str, BuildSource]]] = {}
        self._dockerfile_cache: dict[tuple[str, ...], bytes] = {}

    # --- snapshots -------------------------------------------------------------------

    @property
    def snapshots(self) -> tuple[Snapshot, ...]:
        """Every snapshot, oldest first (by commit date)."""
        return tuple(self._snapshots.values())

    def snapshot(self, name: str) -> Snapshot:
        """The snapshot called ``name``; :class:`UnknownSnapshotError` if there is none."""
        try:
            return self._snapshots[name]
        except KeyError:
            known = ", ".join(self._snapshots)
            raise UnknownSnapshotError(f"unknown snapshot {name!r} (known: {known})") from None

    def snapshot_for_commit(self, commit: str) -> Snapshot | None:
        """The snapshot whose official-images commit is ``commit``, if any."""
        return self._by_commit.get(commit)

    # --- library files ---------------------------------------------------------------

    def library_names(self, snapshot: str) -> frozenset[str]:
        """The names of the library files of ``snapshot``."""
        names = self._library_names.get(snapshot)
        if names is None:
            folder = self.root / "library" / self.snapshot(snapshot).name
            names = frozenset(
                p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
            )
            self._library_names[snapshot] = names
        return names

    def library_file(self, snapshot: str, name: str) -> bytes | None:
        """The bytes of library file ``name`` in ``snapshot``, or ``None``."""
        key = (snapshot, name)
        data = self._library_files.get(key)
        if data is None:
            if name not in self.library_names(snapshot):
                return None
            data = (self.root / "library" / snapshot / name).read_bytes()
            self._library_files[key] = data
        return data

    def library_blobs(self, snapshot: str) -> tuple[LibraryBlob, ...]:
        """Every library file of ``snapshot`` with its blob id and size, sorted by name."""
        blobs = self._blobs.get(snapshot)
        if blobs is None:
            listed: list[LibraryBlob] = []
            for name in sorted(self.library_names(snapshot)):
                data = self.library_file(snapshot, name) or b""
                blob = LibraryBlob(name, git_blob_sha(data), len(data))
                recorded = self._recorded_blobs.get((snapshot, name))
                if recorded is not None and recorded != (blob.sha, blob.size):
                    log.warning("BLOBS.tsv disagrees with library/%s/%s", snapshot, name)
                listed.append(blob)
            blobs = tuple(listed)
            self._blobs[snapshot] = blobs
        return blobs

    def recorded_blob(self, snapshot: str, name: str) -> tuple[str, int] | None:
        """``(blob sha, size)`` of a library file as ``BLOBS.tsv`` records it."""
        return self._recorded_blobs.get((snapshot, name))

    def tag_definitions(self, snapshot: str, repository: str) -> Mapping[str, TagDefinition]:
        """``{tag: definition}`` of ``repository`` in ``snapshot`` (empty if no such file)."""
        key = (snapshot, repository)
        definitions = self._definitions.get(key)
        if definitions is None:
            data = self.library_file(snapshot, repository)
            text = data.decode("utf-8", errors="replace") if data is not None else ""
            definitions = tag_definitions(text)
            self._definitions[key] = definitions
        return definitions

    def tag_sources(
        self, snapshot: str, repository: str
    ) -> Mapping[str, Mapping[str, BuildSource]]:
        """``{tag: {architecture: source}}`` of ``repository`` in ``snapshot`` (empty if none)."""
        key = (snapshot, repository)
        sources = self._sources.get(key)
        if sources is None:
            data = self.library_file(snapshot, repository)
            text = data.decode("utf-8", errors="replace") if data is not None else ""
            sources = tag_sources(text)
            self._sources[key] = sources
        return sources

    # --- Hub facts -------------------------------------------------------------------

    @property
    def hub_repositories(self) -> frozenset[str]:
        """The repositories that have a ``hub/<name>.json.gz``."""
        return self._hub_names

    def hub_tags(self, repository: str) -> Mapping[str, HubTag] | None:
        """``{tag: HubTag}`` from ``hub/<repository>.json.gz`` in file order, or ``None``."""
        if repository not in self._hub_names:
            return None
        tags = self._hub.get(repository)
        if tags is None:
            data = gzip.decompress((self.root / "hub" / f"{repository}.json.gz").read_bytes())
            # layers are not served: turning each [digest, size] pair into 0 first
            # makes json.loads about three times faster
            raw = json.loads(_LAYER_PAIR.sub(b"0", data))
            tags = {}
            for entry in raw.get("tags", []):
                tags[str(entry["name"])] = HubTag(
                    name=str(entry["name"]),
                    digest=str(entry["digest"]),
                    media_type=str(entry.get("media_type") or ""),
                    platforms=tuple(_hub_platform(p) for p in entry.get("platforms", [])),
                )
            self._hub[repository] = tags
        return tags

    def hub_layers(self, repository: str) -> Mapping[str, tuple[tuple[str, int], ...]]:
        """``{platform digest: ((layer digest, size), ...)}`` of ``hub/<repository>.json.gz``.

        Read apart from :meth:`hub_tags` (which skips the layers for speed), on first use.
        """
        layers = self._layers.get(repository)
        if layers is None:
            layers = {}
            if repository in self._hub_names:
                path = self.root / "hub" / f"{repository}.json.gz"
                raw = json.loads(gzip.decompress(path.read_bytes()))
                for entry in raw.get("tags", []):
                    for platform in entry.get("platforms", []):
                        layers[str(platform["digest"])] = tuple(
                            (str(digest), int(size)) for digest, size in platform.get("layers", [])
                        )
            self._layers[repository] = layers
        return layers

    # --- Dockerfile heads ------------------------------------------------------------

    def dockerfile(self, segments: Sequence[str]) -> bytes | None:
        """The head at ``owner/repo/commit/[directory...]/file``, or ``None``.

        Empty and ``.`` segments are dropped (a ``Directory`` of ``.`` is the root);
        ``..``, separators and NUL in a segment, and anything resolving outside
        ``dockerfiles/`` (symbolic links included) answer ``None``.
        """
        parts = tuple(s for s in segments if s not in ("", "."))
        if len(parts) < 4 or any(s == ".." or "/" in s or "\\" in s or "\0" in s for s in parts):
            return None
        data = self._dockerfile_cache.get(parts)
        if data is not None:
            return data
        try:
            resolved = self._dockerfiles.joinpath(*parts).resolve(strict=True)
            if not resolved.is_relative_to(self._dockerfiles) or not resolved.is_file():
                return None
            data = resolved.read_bytes()
        except (OSError, ValueError):
            return None
        self._dockerfile_cache[parts] = data
        return data
