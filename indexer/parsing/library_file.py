"""Official-images library files: RFC 2822-style stanzas, resolved per architecture.

A library file (``library/<name>`` in docker-library/official-images) is a list of
paragraphs separated by blank lines. Lines whose first non-blank character is ``#``
are comments and are dropped before anything else, so a comment never ends a
paragraph. A line starting with a space or tab continues the field above it. The
first paragraph is global: ``Maintainers`` is required there, ``Tags`` are not
allowed, and every field it sets is the default of the stanzas that follow.

Fields (names are matched case-insensitively):

=================  ==============================================================
``Maintainers``    comma-separated ``Name <email> (@github)`` / ``Name (@github)``
``Tags``           comma-separated; required in every stanza
``SharedTags``     comma-separated; a stanza's own value replaces the global one
``Architectures``  comma-separated, default ``amd64``; a stanza's own value
                   replaces the global one (duplicates are dropped)
``GitRepo``        required (globally or in the stanza)
``GitFetch``       default ``refs/heads/master``; ``refs/(heads|tags)/...``
``GitCommit``      required; 40 or 64 lower-case hex digits
``Directory``      default ``.``; kept as written (see ``ArchBuild.dockerfile_path``)
``File``           default ``Dockerfile``
``Builder``        ``buildkit``, ``classic``, ``oci-import`` or empty
``Constraints``    comma-separated
``<arch>-X``       per-architecture override of ``GitRepo``, ``GitFetch``,
                   ``GitCommit``, ``Directory``, ``File`` or ``Builder``; the
                   architecture may itself contain dashes (``windows-amd64-File``)
=================  ==============================================================

Override precedence, as bashbrew implements it (``manifest/rfc2822.go``): every
stanza starts as a copy of the global paragraph, *including* the global
``<arch>-X`` values; the stanza's own fields then replace what they name, and
``ArchX(arch)`` answers the ``<arch>-X`` value if it is non-empty, else ``X``. So
for one architecture the order is::

    stanza <arch>-X  >  global <arch>-X  >  stanza X  >  global X  >  default

This differs from the simpler reading "stanza ``<arch>-X`` > stanza ``X`` > global
``<arch>-X`` > global ``X``" only when the global paragraph pins an architecture
(``amd64-GitCommit``) and a stanza sets the plain field without pinning that
architecture again; bashbrew then still builds that architecture from the global
pin, and so do we. An empty ``<arch>-X`` in a stanza cancels a global pin.

Validation follows bashbrew and reports *every* problem as a
:class:`~indexer.errors.LibraryFileError` carrying the file name and the 1-based
line: malformed fields, missing ``Maintainers``/``Tags``/``GitRepo``/``GitCommit``,
global ``Tags``, a tag outside ``^\\w[\\w.-]{0,127}$``, a tag defined twice, a tag
that is also a shared tag, a malformed ``GitCommit``/``GitFetch``/``Builder``. A
stanza with a problem is left out; every other stanza is kept. Unlike bashbrew,
stanzas with identical build artifacts are not merged: one paragraph, one
:class:`Stanza`, so the first tag of a stanza stays its canonical tag.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from indexer.errors import LibraryFileError

__all__ = [
    "DEFAULT_ARCHITECTURE",
    "ArchBuild",
    "LibraryFile",
    "Stanza",
    "parse_library_file",
]

DEFAULT_ARCHITECTURE = "amd64"
_DEFAULT_GIT_FETCH = "refs/heads/master"
_DEFAULT_DIRECTORY = "."
_DEFAULT_FILE = "Dockerfile"
_BUILDERS = frozenset({"buildkit", "classic", "oci-import"})

_TAG_RE = re.compile(r"\w[\w.-]{0,127}", re.ASCII)
_GIT_COMMIT_RE = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_GIT_FETCH_RE = re.compile(r"refs/(?:heads|tags)/[^*?:\s]+")
_ARCH_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_FIELD_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_MAINTAINER_RE = re.compile(r"[^\s<>()][^<>()]*?(?:\s+<[^\s<>()]+>)?\s+\(@[^\s<>()]+\)")

# canonical spelling of each known field, keyed by its lower-cased name
_LIST_FIELDS = {
    "maintainers": "Maintainers",
    "tags": "Tags",
    "sharedtags": "SharedTags",
    "architectures": "Architectures",
    "constraints": "Constraints",
}
_SCALAR_FIELDS = {
    "gitrepo": "GitRepo",
    "gitfetch": "GitFetch",
    "gitcommit": "GitCommit",
    "directory": "Directory",
    "file": "File",
    "builder": "Builder",
}
_ARCH_SUFFIXES = tuple((f"-{key}", key) for key in _SCALAR_FIELDS)


@dataclass(frozen=True, slots=True)
class ArchBuild:
    """One architecture of one stanza, all overrides applied."""

    architecture: str
    git_repo: str
    git_fetch: str
    git_commit: str
    directory: str
    file: str
    builder: str | None

    @property
    def dockerfile_path(self) -> str:
        """``Directory/File`` inside the repository, cleaned like Go's ``path.Clean``.

        ``directory`` keeps the library file's spelling (``./1.20/x``, ``default/amd64/``),
        as docker-library/meta and the corpus oracle record it; this is the path to fetch.
        """
        joined = posixpath.normpath(posixpath.join(self.directory, self.file))
        return joined.lstrip("/")


@dataclass(frozen=True, slots=True)
class Stanza:
    """One valid stanza (paragraph) of a library file, defaults applied."""

    tags: tuple[str, ...]
    shared_tags: tuple[str, ...]
    architectures: tuple[str, ...]
    constraints: tuple[str, ...]
    builds: tuple[ArchBuild, ...]
    line: int
    maintainers: tuple[str, ...] = ()

    def build_for(self, architecture: str) -> ArchBuild | None:
        """The build of ``architecture``, or ``None`` when the stanza lacks it."""
        for build in self.builds:
            if build.architecture == architecture:
                return build
        return None


@dataclass(frozen=True, slots=True)
class LibraryFile:
    """A parsed library file: the valid stanzas and every problem found."""

    name: str
    maintainers: tuple[str, ...]
    stanzas: tuple[Stanza, ...]
    errors: tuple[LibraryFileError, ...]

    @property
    def tags(self) -> tuple[str, ...]:
        """Every tag of every valid stanza, in file order."""
        return tuple(tag for stanza in self.stanzas for tag in stanza.tags)


@dataclass(slots=True)
class _Field:
    """One field of a paragraph as written: its name, raw value lines and line number."""

    name: str
    line: int
    parts: list[str]

    @property
    def text(self) -> str:
        """The value with continuation lines joined by newlines, outer blanks stripped."""
        return "\n".join(self.parts).strip()


@dataclass(slots=True)
class _Paragraph:
    """The fields of one paragraph, keyed by lower-cased name (arch fields keep the arch)."""

    line: int
    fields: dict[str, _Field] = field(default_factory=dict)
    arch_fields: dict[tuple[str, str], _Field] = field(default_factory=dict)
    broken: bool = False


class _Collector:
    """Gathers errors for one file, each with the file name as its source."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.errors: list[LibraryFileError] = []

    def add(self, line: int, message: str) -> None:
        """Record one problem at ``line``."""
        self.errors.append(LibraryFileError(message, source=self.name, line=line))


def parse_library_file(name: str, text: str) -> LibraryFile:
    """Parse the library file ``name`` (e.g. ``"python"``) from ``text``.

    Never raises for bad content: every problem is returned in ``errors`` and the
    stanza it belongs to is left out of ``stanzas``.
    """
    errors = _Collector(name)
    paragraphs = list(_paragraphs(text, errors))
    if not paragraphs:
        errors.add(1, "no global paragraph (Maintainers is required)")
        return LibraryFile(name, (), (), tuple(errors.errors))
    global_paragraph, *stanza_paragraphs = paragraphs
    maintainers = _check_global(global_paragraph, errors)
    stanzas = _build_stanzas(global_paragraph, stanza_paragraphs, errors)
    return LibraryFile(name, maintainers, tuple(stanzas), tuple(errors.errors))


# ---------------------------------------------------------------------------
# lexing: lines -> paragraphs of fields


def _paragraphs(text: str, errors: _Collector) -> Iterator[_Paragraph]:
    """Split ``text`` into paragraphs; syntax problems mark their paragraph broken."""
    if text.startswith("\ufeff"):
        text = text[1:]
    current: _Paragraph | None = None
    last: _Field | None = None
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        stripped = line.strip()
        if stripped.startswith("#"):
            continue
        if not stripped:
            if current is not None:
                yield current
            current, last = None, None
            continue
        if current is None:
            current = _Paragraph(line=number)
        if line[0] in " \t":
            if last is None:
                errors.add(number, "continuation line without a field above it")
                current.broken = True
            else:
                last.parts.append(stripped)
            continue
        last = _add_field(current, line, number, errors)
    if current is not None:
        yield current


def _add_field(paragraph: _Paragraph, line: str, number: int, errors: _Collector) -> _Field | None:
    """Add the ``Name: value`` line to ``paragraph``; ``None`` if it is not a field."""
    name, colon, value = line.partition(":")
    name = name.strip()
    if not colon or not _FIELD_NAME_RE.fullmatch(name):
        errors.add(number, f"not a field (expected 'Name: value'): {line.strip()!r}")
        paragraph.broken = True
        return None
    new = _Field(name=name, line=number, parts=[value.strip()])
    key = name.lower()
    arch_key = _arch_field_key(name)
    if arch_key is not None:
        existing = paragraph.arch_fields.get(arch_key)
        paragraph.arch_fields[arch_key] = new
    else:
        existing = paragraph.fields.get(key)
        paragraph.fields[key] = new
    if existing is not None:
        errors.add(number, f"field {name} repeated (first on line {existing.line})")
        paragraph.broken = True
    return new


def _arch_field_key(name: str) -> tuple[str, str] | None:
    """``("windows-amd64", "directory")`` for ``windows-amd64-Directory``, else ``None``."""
    lowered = name.lower()
    for suffix, key in _ARCH_SUFFIXES:
        if lowered.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], key
    return None


# ---------------------------------------------------------------------------
# values


def _list_value(paragraph: _Paragraph, key: str) -> tuple[str, ...] | None:
    """The comma-separated field ``key`` (``None`` when absent), empty items dropped."""
    found = paragraph.fields.get(key)
    if found is None:
        return None
    items = (item.strip() for item in found.text.split(","))
    return tuple(item for item in items if item)


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    """``items`` without repeats, first occurrence kept."""
    return tuple(dict.fromkeys(items))


# ---------------------------------------------------------------------------
# the global paragraph


def _check_global(paragraph: _Paragraph, errors: _Collector) -> tuple[str, ...]:
    """Validate the global paragraph; answers its Maintainers."""
    maintainers = _list_value(paragraph, "maintainers") or ()
    if not maintainers:
        errors.add(paragraph.line, "the global paragraph has no Maintainers")
    _check_maintainers(paragraph, maintainers, errors)
    if "tags" in paragraph.fields:
        errors.add(paragraph.fields["tags"].line, "Tags are not allowed in the global paragraph")
    for found in _scalar_fields(paragraph):
        message = _scalar_problem(found.key, found.field)
        if message is not None:
            errors.add(found.field.line, message)
    _check_architectures(paragraph, errors)
    return maintainers


def _check_maintainers(
    paragraph: _Paragraph, maintainers: tuple[str, ...], errors: _Collector
) -> bool:
    """Report Maintainers not in bashbrew's format; ``True`` when all are fine."""
    bad = [m for m in maintainers if not _MAINTAINER_RE.fullmatch(m)]
    if bad:
        errors.add(
            paragraph.fields["maintainers"].line,
            f"invalid Maintainers {', '.join(map(repr, bad))} "
            "(expected 'Full Name <email> (@github)' or 'Full Name (@github)')",
        )
    return not bad


@dataclass(frozen=True, slots=True)
class _ScalarField:
    key: str
    field: _Field


def _scalar_fields(paragraph: _Paragraph) -> Iterator[_ScalarField]:
    """Every GitRepo/GitFetch/... field of ``paragraph``, plain and per architecture."""
    for key in _SCALAR_FIELDS:
        found = paragraph.fields.get(key)
        if found is not None:
            yield _ScalarField(key, found)
    for (_, key), found in paragraph.arch_fields.items():
        yield _ScalarField(key, found)


def _scalar_problem(key: str, found: _Field) -> str | None:
    """What is wrong with the value of one scalar field, or ``None``."""
    value = found.text
    if "\n" in value:
        return f"{found.name} must fit on one line"
    if not value:
        return None  # an empty value falls back to the next level
    if key == "gitcommit" and not _GIT_COMMIT_RE.fullmatch(value):
        return f"invalid {found.name} {value!r} (must be 40 or 64 lower-case hex digits)"
    if key == "gitfetch" and not _GIT_FETCH_RE.fullmatch(value):
        return f"invalid {found.name} {value!r} (must be refs/heads/... or refs/tags/...)"
    if key == "builder" and value not in _BUILDERS:
        return f"invalid {found.name} {value!r} (must be buildkit, classic or oci-import)"
    if key == "gitrepo" and any(ch.isspace() for ch in value):
        return f"invalid {found.name} {value!r}"
    return None


def _check_architectures(paragraph: _Paragraph, errors: _Collector) -> bool:
    """Report malformed architecture names; ``True`` when all are fine."""
    architectures = _list_value(paragraph, "architectures") or ()
    bad = [arch for arch in architectures if not _ARCH_RE.fullmatch(arch)]
    if bad:
        errors.add(
            paragraph.fields["architectures"].line,
            f"invalid Architectures {', '.join(map(repr, bad))}",
        )
    return not bad


# ---------------------------------------------------------------------------
# stanzas


@dataclass(slots=True)
class _Registry:
    """Tags and shared tags of the stanzas accepted so far, with their first tag."""

    tags: dict[str, str] = field(default_factory=dict)
    shared_tags: dict[str, str] = field(default_factory=dict)


def _build_stanzas(
    global_paragraph: _Paragraph, paragraphs: list[_Paragraph], errors: _Collector
) -> list[Stanza]:
    """Validate and resolve every stanza paragraph; bad ones are reported and skipped."""
    registry = _Registry()
    stanzas: list[Stanza] = []
    for paragraph in paragraphs:
        before = len(errors.errors)
        stanza = _build_stanza(global_paragraph, paragraph, registry, errors)
        if stanza is None or paragraph.broken or len(errors.errors) > before:
            continue
        for tag in stanza.tags:
            registry.tags[tag] = stanza.tags[0]
        for tag in stanza.shared_tags:
            registry.shared_tags.setdefault(tag, stanza.tags[0])
        stanzas.append(stanza)
    return stanzas


def _build_stanza(
    global_paragraph: _Paragraph,
    paragraph: _Paragraph,
    registry: _Registry,
    errors: _Collector,
) -> Stanza | None:
    """One stanza with defaults applied; ``None`` (and errors recorded) when invalid."""
    tags = _list_value(paragraph, "tags") or ()
    if not tags:
        errors.add(paragraph.line, "stanza has no Tags")
        return None
    shared_tags = _dedupe(_inherited_list(paragraph, global_paragraph, "sharedtags") or ())
    ok = _check_tags(paragraph, tags, shared_tags, registry, errors)
    maintainers = _list_value(paragraph, "maintainers")
    if maintainers is not None:
        ok = _check_maintainers(paragraph, maintainers, errors) and ok
    else:
        maintainers = _list_value(global_paragraph, "maintainers") or ()
    ok = _check_architectures(paragraph, errors) and ok
    for found in _scalar_fields(paragraph):
        message = _scalar_problem(found.key, found.field)
        if message is not None:
            errors.add(found.field.line, message)
            ok = False
    architectures = _inherited_list(paragraph, global_paragraph, "architectures")
    architectures = _dedupe(architectures or (DEFAULT_ARCHITECTURE,))
    constraints = _inherited_list(paragraph, global_paragraph, "constraints") or ()
    builds = [
        _arch_build(global_paragraph, paragraph, arch, tags[0], errors) for arch in architectures
    ]
    if not ok or any(build is None for build in builds):
        return None
    return Stanza(
        tags=tags,
        shared_tags=shared_tags,
        architectures=architectures,
        constraints=constraints,
        builds=tuple(build for build in builds if build is not None),
        line=paragraph.line,
        maintainers=maintainers,
    )


def _inherited_list(
    paragraph: _Paragraph, global_paragraph: _Paragraph, key: str
) -> tuple[str, ...] | None:
    """A list field of the stanza, else of the global paragraph (replaced, never merged)."""
    own = _list_value(paragraph, key)
    return own if own else _list_value(global_paragraph, key)


def _check_tags(
    paragraph: _Paragraph,
    tags: tuple[str, ...],
    shared_tags: tuple[str, ...],
    registry: _Registry,
    errors: _Collector,
) -> bool:
    """Tag grammar, duplicates and tag/shared-tag conflicts; ``True`` when all are fine."""
    ok = True
    tags_line = paragraph.fields["tags"].line
    shared_field = paragraph.fields.get("sharedtags")
    shared_line = shared_field.line if shared_field is not None else paragraph.line
    seen: set[str] = set()
    for tag in tags:
        if not _TAG_RE.fullmatch(tag):
            errors.add(tags_line, f"invalid tag {tag!r}")
            ok = False
        elif tag in seen:
            errors.add(tags_line, f"tag {tag!r} listed twice")
            ok = False
        elif tag in registry.tags:
            errors.add(tags_line, f"tag {tag!r} already defined (stanza {registry.tags[tag]!r})")
            ok = False
        elif tag in registry.shared_tags:
            errors.add(
                tags_line,
                f"tag {tag!r} is a shared tag of stanza {registry.shared_tags[tag]!r}",
            )
            ok = False
        seen.add(tag)
    for tag in shared_tags:
        if not _TAG_RE.fullmatch(tag):
            errors.add(shared_line, f"invalid shared tag {tag!r}")
            ok = False
        elif tag in seen:
            errors.add(shared_line, f"shared tag {tag!r} is also a tag of this stanza")
            ok = False
        elif tag in registry.tags:
            errors.add(shared_line, f"shared tag {tag!r} is a tag of stanza {registry.tags[tag]!r}")
            ok = False
    return ok


def _arch_value(
    global_paragraph: _Paragraph, paragraph: _Paragraph, arch: str, key: str
) -> _Field | None:
    """The field deciding ``key`` for ``arch``, in bashbrew's precedence; ``None`` if unset."""
    own_arch = paragraph.arch_fields.get((arch, key))
    arch_field = own_arch if own_arch is not None else global_paragraph.arch_fields.get((arch, key))
    if arch_field is not None and arch_field.text:
        return arch_field
    own = paragraph.fields.get(key)
    return own if own is not None else global_paragraph.fields.get(key)


def _arch_build(
    global_paragraph: _Paragraph,
    paragraph: _Paragraph,
    arch: str,
    first_tag: str,
    errors: _Collector,
) -> ArchBuild | None:
    """The :class:`ArchBuild` of ``arch``; ``None`` (errors recorded) when incomplete."""
    values: dict[str, str] = {}
    ok = True
    for key in _SCALAR_FIELDS:
        found = _arch_value(global_paragraph, paragraph, arch, key)
        values[key] = found.text if found is not None else ""
        inherited = found is not None and found.line < paragraph.line
        if inherited and found is not None and _scalar_problem(key, found) is not None:
            errors.add(
                paragraph.line,
                f"stanza {first_tag!r} ({arch}) inherits the invalid {found.name} "
                f"of line {found.line}",
            )
            ok = False
    for key in ("gitrepo", "gitcommit"):
        if not values[key]:
            errors.add(
                paragraph.line,
                f"stanza {first_tag!r} ({arch}) has no {_SCALAR_FIELDS[key]}",
            )
            ok = False
    if not ok:
        return None
    return ArchBuild(
        architecture=arch,
        git_repo=values["gitrepo"],
        git_fetch=values["gitfetch"] or _DEFAULT_GIT_FETCH,
        git_commit=values["gitcommit"],
        directory=values["directory"] or _DEFAULT_DIRECTORY,
        file=values["file"] or _DEFAULT_FILE,
        builder=values["builder"] or None,
    )
