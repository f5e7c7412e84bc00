"""Dockerfile resolution: what BuildKit would build, its parent and every external image.

Pure text in, :class:`DockerfileResolution` out: no I/O, no network. The answer
is BuildKit's (moby/buildkit, Dockerfile frontend 1.16 and later); where this
module and BuildKit disagree, this module is wrong. ``bench/parse.py`` measures
it against ``dockerfile-parse`` on the corpus; ``tests/parsing`` holds one test
per rule below, a differential test against BuildKit's own parser (the
``dockerfile`` binding) and property tests.

Why a hand-written lexer: ``dockerfile-parse`` is a line scanner (a ``FROM``
naming a stage is an image to it, heredoc bodies are instructions, the escape
directive is ignored); the ``dockerfile`` binding is BuildKit's parser only, an
old one, and every call crosses into Go. Expansion, stages and ``--from`` would
be ours to write either way.

Rules, by the BuildKit file they come from
------------------------------------------
``parser/parser.go``, ``parser/directives.go`` (lines, directives, heredocs):

* parser directives only at the very top (``syntax``, ``escape``, ``check``;
  case-insensitive keys; the first line that is not a known directive ends
  them; a repeated one is an error); a byte-order mark; CRLF line ends;
* line continuation with the active escape token (backslash, or backtick after
  ``# escape=``), blanks after it allowed, an escaped escape token at the end
  not continuing (``([^E])E[ \\t]*$``); comment and empty lines inside a
  continuation are skipped, an empty one is the ``NoEmptyContinuation`` check;
* heredocs in ``RUN``/``COPY``/``ADD`` (also behind ``ONBUILD``, never in JSON
  form): the line is split into words by ``shell.Lex`` with raw quotes, raw
  escapes, unset names kept (``<<$EOF`` ends at ``$EOF``) and the blanks after
  ``<<`` kept in the word, so ``<< EOF`` and ``<<  EOF  > f`` are heredocs;
  a word matching ``^(\\d*)<<(-?)\\s*([^<]*)$`` whose rest is one shell word
  names one. ``<<- EOF`` is two words (``<<-`` and ``EOF``), so no heredoc, and
  ``<< -EOF`` ends at ``-EOF``, as in BuildKit. Bodies are read raw up to a line
  equal to the name (leading tabs stripped for ``<<-``); nothing in them is an
  instruction;
* ``parser/split_command.go``, ``line_parsers.go``: an instruction is its first
  word (any case), the rest split off; flags are the leading ``--name=value``
  words, quotes removed and one level of backslashes applied
  (``extractBuilderFlags``); ``ENV``/``LABEL`` name-value forms and JSON arrays
  of strings are checked when parsed, as BuildKit does.

``instructions/parse.go`` (stages and flags):

* unknown instructions, and anything but ``ARG`` before the first ``FROM``, are
  errors; ``ARG`` needs a name;
* ``FROM [--platform=p] image [AS name]``: one or three words; the name is
  lower-cased and must match ``^[a-z][a-z0-9-_.]*$``; checks
  ``StageNameCasing`` (``AS Builder``), ``FromAsCasing`` (``FROM x as y``),
  ``DuplicateStageName``, ``ReservedStageName`` (``scratch``, ``context``),
  ``ConsistentInstructionCasing`` and ``MaintainerDeprecated``;
* ``COPY --from`` given twice is an error; flags need a value.

``shell/lex.go`` (word expansion; :mod:`indexer.parsing.shell_lex`): quotes,
escapes, ``$v``, ``${v}`` and every modifier, with BuildKit's patterns for
``#``/``%``/``/`` (``*`` and ``?`` only, ``\\*`` literal, no bracket
expressions, ``$`` expanded inside the pattern and replacement).

``dockerfile2llb/convert.go`` (what is built):

* ``ARG`` before the first ``FROM`` feed ``FROM``: a build arg replaces a
  declared ARG's value, else its default is expanded with the ARGs before it;
  an ARG without a value stays unset. Other ``ARG`` do not reach ``FROM``;
* automatic ARGs: ``TARGETPLATFORM``, ``TARGETOS``, ``TARGETARCH``,
  ``TARGETVARIANT``, ``TARGETOSVERSION`` and the same ``BUILD*`` from
  ``architecture`` (a bashbrew name such as ``arm64v8`` or ``os/arch[/variant]``;
  bashbrew builds natively, so the build platform is the target platform; the
  OS versions are empty, as on Linux); ``TARGETSTAGE`` is the last stage's name,
  else ``default``. Build args override them. Without an architecture the
  platform ARGs have no value and using one is an
  :class:`~indexer.errors.UnresolvedReferenceError` (a guess we do not make);
* a name that has no value expands to ``""``, as in BuildKit (bashbrew passes no
  build args, so this is deterministic); in ``FROM`` a name that is neither a
  declared ARG nor an automatic one is the ``UndefinedArgInFrom`` check. A blank
  result is an error (``base name ... should not be blank``), and so is
  ``${v:?message}`` with ``v`` unset or empty;
* ``FROM --platform``: expanded like the image; empty is ``empty platform value
  from expression``, an unparsable platform an error (``containerd/platforms``
  rules, :mod:`indexer.parsing.platform_spec`); ``RedundantTargetPlatform`` and
  ``FromPlatformFlagConstDisallowed`` checks; a literal empty ``--platform=`` is
  no flag. The flag picks the platform the base is pulled for; the base's name
  does not change;
* ``FROM name`` is a stage only when ``name`` equals (case and all) the
  lower-cased name of an earlier stage; otherwise it is an image, so
  ``FROM Builder`` after ``AS builder`` is an invalid image name;
* ``COPY --from=x`` and ``RUN --mount=...,from=x`` take no variables
  (``variable expansion is not supported for --from``); ``COPY --from`` is a
  stage index (Go's ``Atoi``) into the list of states, then a stage name (any
  case; the last stage of that name), then an image; ``--mount`` ``from`` is a
  name or an image (a mount without ``from`` is ``scratch``). Images used this
  way join the list of states after the stages, so an index past the last stage
  names one of them, as in BuildKit;
* a ``--from`` cycle among stages is an error; the stages built are the last
  one and those it reaches through ``FROM <stage>`` and ``--from``; in those, a
  ``--from`` naming a stage defined later is an error (``needs to be defined
  before current stage``);
* ``ONBUILD COPY --from`` / ``ONBUILD RUN --mount`` of a stage run in each
  stage built on it (``FROM <stage>``), when that stage is built; their images
  join ``froms`` after the others;
* ``# check=skip=...;error=true`` silences checks or turns them into errors.

The answer: ``parent`` is the image the last stage is built on (a stage's base
resolved through ``FROM <stage>``); ``froms`` every image the file uses, in file
order: each ``FROM`` (a stage replaced by its image) and each ``--from`` (the
same), in every stage; ``warnings`` the checks BuildKit would report.

Not modelled: instruction argument checks that do not affect images (``COPY``
needs two arguments, ...), ``ENV`` and the ``UndefinedVar`` check, ``ONBUILD``
triggers of a base image (they are in its registry config, not in the text),
named build contexts (``--build-context``), and checks on instructions that do
not touch images (``JSONArgsRecommended``, ``SecretsUsedInArgOrEnv``, ...).

References are normalised with :func:`indexer.refs.normalize_ref` (CONTRACT §2).
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from indexer.errors import DockerfileError, ImageReferenceError, UnresolvedReferenceError
from indexer.parsing.dockerfile_checks import (
    DUPLICATE_STAGE_NAME,
    FROM_AS_CASING,
    FROM_PLATFORM_FLAG_CONST_DISALLOWED,
    MAINTAINER_DEPRECATED,
    NO_EMPTY_CONTINUATION,
    REDUNDANT_TARGET_PLATFORM,
    RESERVED_STAGE_NAME,
    STAGE_NAME_CASING,
    UNDEFINED_ARG_IN_FROM,
    BuildWarning,
    CheckConfig,
    Linter,
    casing_warnings,
    from_as_casing_differs,
    parse_check_directive,
)
from indexer.parsing.platform_spec import parse_platform
from indexer.parsing.shell_lex import Processed, RequiredValueError, ShellLex, ShellSyntaxError
from indexer.platforms import BASHBREW_ARCHES
from indexer.refs import SCRATCH, normalize_ref

__all__ = [
    "OCI_IMPORT",
    "BuildWarning",
    "DockerfileResolution",
    "Stage",
    "platform_args",
    "resolve_build",
    "resolve_dockerfile",
]

OCI_IMPORT = "oci-import"

_INSTRUCTIONS = frozenset(
    {
        "add",
        "arg",
        "cmd",
        "copy",
        "entrypoint",
        "env",
        "expose",
        "from",
        "healthcheck",
        "label",
        "maintainer",
        "onbuild",
        "run",
        "shell",
        "stopsignal",
        "user",
        "volume",
        "workdir",
    }
)
#: upper-case keyword -> keyword: the usual spelling, found without lower-casing
_UPPER_KEYWORDS = {keyword.upper(): keyword for keyword in _INSTRUCTIONS}
_HEREDOC_INSTRUCTIONS = frozenset({"add", "copy", "run"})
_JSON_FORM_INSTRUCTIONS = frozenset(
    {"add", "cmd", "copy", "entrypoint", "healthcheck", "run", "shell", "volume"}
)
_ALWAYS_CHECKED = frozenset({"env", "label", "onbuild"})
_CHECKED_INSTRUCTIONS = _JSON_FORM_INSTRUCTIONS | _ALWAYS_CHECKED
_DIRECTIVES = frozenset({"syntax", "escape", "check"})
_RESERVED_STAGE_NAMES = frozenset({"context", "scratch"})
_PLATFORM_NAMES = frozenset(
    f"{prefix}{suffix}"
    for prefix in ("TARGET", "BUILD")
    for suffix in ("PLATFORM", "OS", "ARCH", "VARIANT")
)
_DEFAULT_TARGET = "default"
_DEFAULT_CHECKS = CheckConfig()
#: an empty set of names, shared until a file declares global ARGs (never added to)
_NO_NAMES: set[str] = set()

# Go's regexp \s is [\t\n\f\r ]
_DIRECTIVE_RE = re.compile(
    r"#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*"
)
_COMMAND_RE = re.compile(r"([^\t\v\f\r ]+)[\t\v\f\r ]*(.*)", re.DOTALL)
_WHITESPACE_RE = re.compile(r"[\t\v\f\r ]+")
_STAGE_NAME_RE = re.compile(r"[a-z][a-z0-9\-_.]*")
_HEREDOC_RE = re.compile(r"([0-9]*)<<(-?)[\t\n\f\r ]*([^<]*)", re.DOTALL)
_ATOI_RE = re.compile(r"[+-]?[0-9]+")
_ATOI_FIRST = frozenset("+-0123456789")
_INT64_MAX = 2**63 - 1

#: BuildKit's lexers: heredoc detection, heredoc names, and ``--from`` checks per escape
_HEREDOC_LINE_LEX = ShellLex(
    "\\", raw_quotes=True, raw_escapes=True, skip_unset=True, heredocs=True
)
_HEREDOC_NAME_LEX = ShellLex("\\", skip_unset=True)
_LEXERS = {"\\": ShellLex("\\"), "`": ShellLex("`")}


@dataclass(frozen=True, slots=True)
class Stage:
    """One build stage (one ``FROM``)."""

    index: int
    name: str | None
    base: str
    line: int
    #: index of the earlier stage this one is built on (``FROM <stage>``), else ``None``
    parent_stage: int | None = None
    #: the ``--platform`` flag as written, else ``None``
    platform: str | None = None


@dataclass(frozen=True, slots=True)
class DockerfileResolution:
    """What a Dockerfile is built from, and what BuildKit would warn about."""

    stages: tuple[Stage, ...]
    parent: str
    froms: tuple[str, ...]
    warnings: tuple[BuildWarning, ...] = ()


# ---------------------------------------------------------------------------
# public entry points


def resolve_dockerfile(
    text: str,
    *,
    build_args: Mapping[str, str] | None = None,
    architecture: str | None = None,
    source: str = "Dockerfile",
) -> DockerfileResolution:
    """Resolve the stages, the parent, every external image and the warnings of a Dockerfile.

    Raises :class:`DockerfileError` (with ``source`` and line) for text BuildKit
    would reject, and :class:`UnresolvedReferenceError` for an image that depends
    on something unknown (a platform ARG without an architecture, ``${v:?...}``).
    """
    lexed = _lex(text, source)
    return _resolve(lexed, build_args or {}, architecture, source)


def resolve_build(
    builder: str | None,
    dockerfile_text: str | None,
    *,
    architecture: str | None = None,
    source: str = "Dockerfile",
) -> DockerfileResolution:
    """Resolve one library build: ``oci-import`` needs no Dockerfile and is ``scratch``."""
    if builder == OCI_IMPORT:
        return DockerfileResolution(stages=(), parent=SCRATCH, froms=(SCRATCH,))
    if dockerfile_text is None:
        raise DockerfileError("no Dockerfile text for a Dockerfile build", source=source)
    return resolve_dockerfile(dockerfile_text, architecture=architecture, source=source)


def platform_args(architecture: str | None) -> dict[str, str]:
    """BuildKit's automatic platform ARGs for a bashbrew architecture or a platform.

    ``arm64v8`` and ``linux/arm64/v8`` both give ``TARGETARCH=arm64``,
    ``TARGETVARIANT=v8``, ``TARGETPLATFORM=linux/arm64/v8`` (and the same
    ``BUILD*`` values); ``TARGETOSVERSION`` and ``BUILDOSVERSION`` are empty.
    Unknown or missing architecture: an empty mapping.
    """
    return dict(_platform_env(architecture))


@lru_cache(maxsize=64)
def _platform_env(architecture: str | None) -> tuple[tuple[str, str], ...]:
    """:func:`platform_args` as a hashable, cached tuple of pairs."""
    if architecture is None:
        return ()
    known = BASHBREW_ARCHES.get(architecture)
    platform = (known[0], known[1], known[2] or "") if known is not None else None
    if platform is None and "/" in architecture:
        parts = architecture.split("/")
        if len(parts) in (2, 3) and all(parts):
            platform = (parts[0], parts[1], parts[2] if len(parts) == 3 else "")
    if platform is None:
        return ()
    os_name, arch, variant = platform
    spelled = f"{os_name}/{arch}/{variant}" if variant else f"{os_name}/{arch}"
    pairs: list[tuple[str, str]] = []
    for prefix in ("TARGET", "BUILD"):
        pairs += [
            (f"{prefix}PLATFORM", spelled),
            (f"{prefix}OS", os_name),
            (f"{prefix}OSVERSION", ""),
            (f"{prefix}ARCH", arch),
            (f"{prefix}VARIANT", variant),
        ]
    return tuple(pairs)


@lru_cache(maxsize=8192)
def _normalize(reference: str) -> str:
    """:func:`normalize_ref`, memoised: the same few hundred images recur everywhere."""
    return normalize_ref(reference)


# ---------------------------------------------------------------------------
# lexing: text -> escape token, [(keyword, rest, line, word), ...], directives

#: one instruction: lower-cased keyword, the rest of the logical line, its first
#: line number and the keyword as written
_Instruction = tuple[str, str, int, str]


#: a lexed Dockerfile: escape token, instructions, the ``check`` directive, the first
#: lines of the instructions that had an empty continuation line, and whether some
#: keyword is not all upper case (the casing check needs a look)
_Lexed = tuple[str, list[_Instruction], str | None, tuple[int, ...], bool]


def _lex(text: str, source: str) -> _Lexed:
    """Split ``text`` into logical instructions the way BuildKit's parser does."""
    if (
        "\\" not in text
        and "#" not in text
        and "<<" not in text
        and "[" not in text
        and "\r" not in text
        and not text.startswith("\ufeff")
    ):
        plain = _lex_plain(text, source)
        if plain is not None:
            return "\\", plain[0], None, (), plain[1]
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if "\r" in text:
        lines = [line.rstrip("\r\n") for line in lines]
    count = len(lines)
    check: str | None = None
    if lines[0].lstrip().startswith("#"):
        escape, index, check = _directives(lines, source)
    else:
        escape, index = "\\", 0
    instructions: list[_Instruction] = []
    empty_continuations: list[int] = []
    mixed = False
    append = instructions.append
    while index < count:
        line = lines[index].lstrip()
        index += 1
        if not line or line[0] == "#":
            continue
        start = index
        last = line[-1]
        if last == escape or last == " " or last == "\t":  # noqa: PLR1714 - fastest spelling
            body = line.rstrip(" \t")
            if _continues(body, escape):
                line, index, empty = _continued(lines, index, body[:-1], escape)
                if empty:
                    empty_continuations.append(start)
        word, _, rest = line.partition(" ")
        if word.isalpha():  # the usual case: the keyword cannot hold a blank
            rest = rest.strip()
        else:
            match = _COMMAND_RE.match(line.strip())
            if match is None:
                continue  # nothing but continuation characters
            word, rest = match.group(1), match.group(2).strip()
        keyword = _UPPER_KEYWORDS.get(word)
        if keyword is None:
            keyword = word.lower()
            if keyword not in _INSTRUCTIONS:
                raise DockerfileError(f"unknown instruction: {word}", source=source, line=start)
            mixed = True
        if keyword in _CHECKED_INSTRUCTIONS and ("[" in rest or keyword in _ALWAYS_CHECKED):
            _check_syntax(keyword, rest, escape, source, start)
        if "<<" in rest and (keyword in _HEREDOC_INSTRUCTIONS or keyword == "onbuild"):
            index = _skip_heredocs(
                lines, index, keyword, rest, line=line, source=source, start=start
            )
        append((keyword, rest, start, word))
    return escape, instructions, check, tuple(empty_continuations), mixed


def _lex_plain(text: str, source: str) -> tuple[list[_Instruction], bool] | None:
    """:func:`_lex` for text without escapes, comments, heredocs, JSON or CR (most files).

    Every non-blank line is then one instruction. ``None`` sends an unusual line
    (a keyword followed by something other than a space) to the general lexer.
    Answers the instructions and whether a keyword is not all upper case.
    """
    instructions: list[_Instruction] = []
    mixed = False
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        word, _, rest = line.partition(" ")
        keyword = _UPPER_KEYWORDS.get(word)
        if keyword is None:
            if not word.isalpha():
                return None
            keyword = word.lower()
            if keyword not in _INSTRUCTIONS:
                raise DockerfileError(f"unknown instruction: {word}", source=source, line=number)
            mixed = True
        rest = rest.strip()
        if keyword in _ALWAYS_CHECKED:
            _check_syntax(keyword, rest, "\\", source, number)
        instructions.append((keyword, rest, number, word))
    return instructions, mixed


def _directives(lines: list[str], source: str) -> tuple[str, int, str | None]:
    """The parser directives at the top: escape token, next line index, ``check`` value."""
    escape = "\\"
    check: str | None = None
    seen: set[str] = set()
    index = 0
    while index < len(lines):
        match = _DIRECTIVE_RE.fullmatch(lines[index].lstrip())
        if match is None:
            break
        key, value = match.group(1).lower(), match.group(2)
        if key not in _DIRECTIVES:
            break
        if key in seen:
            raise DockerfileError(
                f"only one {key} parser directive can be used", source=source, line=index + 1
            )
        seen.add(key)
        if key == "escape":
            if value not in ("\\", "`"):
                raise DockerfileError(
                    f"invalid escape token {value!r} does not match ` or \\",
                    source=source,
                    line=index + 1,
                )
            escape = value
        elif key == "check":
            check = value
        index += 1
    return escape, index, check


def _continues(body: str, escape: str) -> bool:
    """Whether a line (trailing blanks removed) continues on the next one.

    BuildKit's rule: ``([^E])E[ \t]*$|^E[ \t]*$`` for the escape token E, so an
    escaped escape token at the end (``foo \\\\``) does not continue the line.
    """
    return body.endswith(escape) and (len(body) == 1 or body[-2] != escape)


def _continued(lines: list[str], index: int, first: str, escape: str) -> tuple[str, int, bool]:
    """Join continuation lines after ``first``: the logical line, the next index and
    whether an empty line was skipped (``NoEmptyContinuation``)."""
    parts = [first]
    count = len(lines)
    empty = False
    while index < count:
        raw = lines[index]
        index += 1
        stripped = raw.lstrip()
        if not stripped:
            empty = True
            continue
        if stripped[0] == "#":
            continue  # comment lines inside a continuation are dropped
        body = raw.rstrip(" \t")
        if _continues(body, escape):
            parts.append(body[:-1])
            continue
        parts.append(raw)
        break
    return "".join(parts), index, empty


def _skip_heredocs(
    lines: list[str],
    index: int,
    keyword: str,
    rest: str,
    *,
    line: str,
    source: str,
    start: int,
) -> int:
    """Consume the bodies of the heredocs ``line`` opens; answers the next line index."""
    if keyword == "onbuild":
        match = _COMMAND_RE.match(rest)
        if match is None or "<<" not in rest:
            return index
        keyword, rest = match.group(1).lower(), match.group(2)
        if keyword not in _HEREDOC_INSTRUCTIONS:
            return index
    _, remaining = _extract_flags(rest)
    try:
        if _is_json_list(remaining):
            return index
    except _JsonFormError:
        return index  # already reported by _check_syntax
    for name, chomp in _heredocs(line, source, start):
        while True:
            if index >= len(lines):
                raise DockerfileError(f"unterminated heredoc {name!r}", source=source, line=start)
            candidate = lines[index].rstrip("\r\n")
            index += 1
            if (candidate.lstrip("\t") if chomp else candidate) == name:
                break
    return index


def _heredocs(line: str, source: str, start: int) -> list[tuple[str, bool]]:
    """``(name, chomp)`` of every heredoc a logical line opens (``heredocsFromLine``)."""
    try:
        words = _HEREDOC_LINE_LEX.process(line, {}).words
    except ShellSyntaxError:
        return []  # BuildKit ignores the error: no words, no heredoc
    found: list[tuple[str, bool]] = []
    for word in words:
        match = _HEREDOC_RE.fullmatch(word)
        if match is None or not match.group(3):
            continue
        try:
            names = _HEREDOC_NAME_LEX.process(match.group(3), {}).words
        except ShellSyntaxError as exc:
            raise DockerfileError(str(exc), source=source, line=start) from None
        if len(names) == 1:
            found.append((names[0], match.group(2) == "-"))
    return found


def _finite(text: str) -> float:
    """A JSON number as Go reads it into a float64: out of range is an error."""
    value = float(text)
    if math.isinf(value):
        raise ValueError(text)
    return value


def _reject_constant(text: str) -> None:
    """Go's JSON has no NaN or Infinity."""
    raise ValueError(text)


_JSON = json.JSONDecoder(parse_float=_finite, parse_int=_finite, parse_constant=_reject_constant)


def _is_json_list(text: str) -> bool:
    """True when ``text`` starts with a JSON array (the exec form; what follows is ignored).

    An array with anything but strings in it is an error, as in BuildKit.
    """
    if not text.startswith("["):
        return False
    try:
        value, _ = _JSON.raw_decode(text)
    except (ValueError, RecursionError):
        return False
    if not all(isinstance(item, str) for item in value):
        raise _JsonFormError
    return True


class _JsonFormError(Exception):
    """A JSON array that holds something other than strings."""


def _check_syntax(keyword: str, rest: str, escape: str, source: str, line: int) -> None:
    """The checks BuildKit's parser makes of instructions this module otherwise skips."""
    if rest.startswith("--"):
        _, rest = _extract_flags(rest)
    try:
        if keyword in _JSON_FORM_INSTRUCTIONS:
            if keyword == "healthcheck":  # HEALTHCHECK <type> <command>
                parts = rest.split(None, 1)
                rest = parts[1] if len(parts) == 2 else ""
            _is_json_list(rest)
        elif keyword in ("env", "label"):
            _check_name_values(keyword, rest, escape)
        elif keyword == "onbuild":
            match = _COMMAND_RE.match(rest)
            if match is not None and match.group(1).lower() in _CHECKED_INSTRUCTIONS:
                inner = match.group(1).lower()
                _check_syntax(inner, match.group(2).strip(), escape, source, line)
    except _JsonFormError:
        raise DockerfileError(
            "when using JSON array syntax, arrays must be comprised of strings only",
            source=source,
            line=line,
        ) from None
    except ValueError as exc:
        raise DockerfileError(str(exc), source=source, line=line) from None


def _check_name_values(keyword: str, rest: str, escape: str) -> None:
    """``ENV``/``LABEL``: ``name value`` or ``name=value ...`` (BuildKit's parseNameVal)."""
    words = _arg_words(rest, escape)
    if not words:
        return
    if "=" not in words[0]:
        if len(_WHITESPACE_RE.split(rest, maxsplit=1)) < 2:
            raise ValueError(f"{keyword.upper()} must have two arguments")
        return
    for word in words:
        if "=" not in word:
            raise ValueError(
                f"Syntax error - can't find = in {word!r}. Must be of the form: name=value"
            )


# ---------------------------------------------------------------------------
# flags and words of one instruction


def _extract_flags(rest: str) -> tuple[list[str], str]:
    """Leading ``--flag`` words (quotes removed) and the rest (BuildKit's extractBuilderFlags)."""
    if not rest.startswith("--"):
        return [], rest
    if "'" not in rest and '"' not in rest and "\\" not in rest:
        return _simple_flags(rest)
    flags: list[str] = []
    pos, end = 0, len(rest)
    while pos < end:
        while pos < end and rest[pos].isspace():
            pos += 1
        if pos >= end:
            break
        if not rest.startswith("--", pos):
            return flags, rest[pos:]
        word, pos, quoted = _flag_word(rest, pos)
        if word == "--":
            return flags, rest[pos:].lstrip()
        if word or quoted:
            flags.append(word)
    return flags, ""


def _simple_flags(rest: str) -> tuple[list[str], str]:
    """:func:`_extract_flags` for a line without quotes or backslashes."""
    words = rest.split()
    count = 0
    for word in words:
        if not word.startswith("--"):
            break
        count += 1
        if word == "--":
            break
    flags = words[:count]
    if flags and flags[-1] == "--":
        flags.pop()
    parts = rest.split(None, count)
    return flags, parts[count] if len(parts) > count else ""


def _flag_word(rest: str, pos: int) -> tuple[str, int, bool]:
    """One flag word from ``pos``: quotes removed, backslash escapes applied."""
    chars: list[str] = []
    quote = ""
    quoted = False
    end = len(rest)
    while pos < end:
        ch = rest[pos]
        if not quote and ch.isspace():
            break
        if not quote and ch in "'\"":
            quote, quoted = ch, True
        elif quote and ch == quote:
            quote = ""
        elif ch == "\\":
            if pos + 1 < end:
                pos += 1
                chars.append(rest[pos])
        else:
            chars.append(ch)
        pos += 1
    return "".join(chars), pos, quoted


def _arg_words(rest: str, escape: str) -> list[str]:
    """The words of an ARG (BuildKit's parseWords: quotes and escapes kept)."""
    if "'" not in rest and '"' not in rest and escape not in rest:
        return rest.split()
    words: list[str] = []
    word: list[str] = []
    quote = ""
    blank_ok = False
    pos, end = 0, len(rest)
    while pos < end:
        ch = rest[pos]
        if not quote and ch.isspace():
            if word or blank_ok:
                words.append("".join(word))
            word, blank_ok = [], False
        elif ch == escape and quote != "'":
            if pos + 1 < end:
                word.append(ch + rest[pos + 1])
                pos += 1
        else:
            if not quote and ch in "'\"":
                quote, blank_ok = ch, True
            elif quote and ch == quote:
                quote = ""
            word.append(ch)
        pos += 1
    if word or blank_ok:
        words.append("".join(word))
    return words


def _parse_flag(flag: str, allowed: frozenset[str], source: str, line: int) -> tuple[str, str]:
    """``("from", "x")`` for ``--from=x``; errors for unknown or valueless flags."""
    name, equals, value = flag[2:].partition("=")
    if not flag.startswith("--"):
        raise DockerfileError(f"arg should start with -- : {flag}", source=source, line=line)
    if allowed and name not in allowed:
        raise DockerfileError(f"unknown flag: {name}", source=source, line=line)
    if not equals and name in ("from", "platform", "mount"):
        raise DockerfileError(f"missing a value on flag: {name}", source=source, line=line)
    return name, value


# ---------------------------------------------------------------------------
# resolution

_AUTOMATIC_NAMES = _PLATFORM_NAMES | {"TARGETOSVERSION", "BUILDOSVERSION", "TARGETSTAGE"}
_FROM_VARIABLE = (
    "variable expansion is not supported for --from, "
    "define a new stage with FROM using ARG from global scope as a workaround"
)
_MOUNT_VARIABLE = "'from' doesn't support variable expansion, define alias stage instead"


class _Use:
    """One ``COPY --from`` or ``RUN --mount`` source of a stage."""

    __slots__ = ("kind", "line", "position", "stage", "target", "value")

    def __init__(
        self, position: int | None, stage: int, line: int, kind: str, value: str, target: str
    ) -> None:
        #: where its image goes in ``froms``; ``None`` for a mount without ``from``
        self.position = position
        self.stage = stage
        self.line = line
        self.kind = kind  # "copy" or "mount"
        self.value = value
        #: the mount's target, for BuildKit's message
        self.target = target


class _Context:
    """What every resolution step needs: file, build args, global ARGs, the checks."""

    __slots__ = (
        "_global_env",
        "architecture",
        "build_args",
        "config",
        "declared",
        "escape",
        "instructions",
        "linter",
        "source",
        "tainted",
    )

    def __init__(
        self,
        lexed: _Lexed,
        build_args: Mapping[str, str],
        architecture: str | None,
        source: str,
        config: CheckConfig,
    ) -> None:
        self.escape = lexed[0]
        self.instructions = lexed[1]
        self.build_args = build_args
        self.architecture = architecture
        self.source = source
        self.config = config
        #: the warnings so far; made with the first one
        self.linter: Linter | None = None
        self._global_env: dict[str, str] | None = None
        #: names of the ARGs before the first FROM (with or without a value)
        self.declared: set[str] = _NO_NAMES
        #: global ARGs whose value used a platform ARG we do not know
        self.tainted: set[str] = _NO_NAMES

    def warn(self, rule: str, line: int, message: str) -> None:
        """Record a check BuildKit would report (unless the check directive silences it)."""
        if self.linter is None:
            self.linter = Linter(self.config)
        self.linter.run(rule, line, message)

    @property
    def global_env(self) -> dict[str, str]:
        """The global scope: automatic ARGs, then the ARGs before the first FROM."""
        if self._global_env is None:
            build_args = self.build_args
            env = dict(_platform_env(self.architecture))
            env["TARGETSTAGE"] = _target_stage(self.instructions)
            for name in _AUTOMATIC_NAMES:
                if name in build_args:
                    env[name] = build_args[name]
            self._global_env = env
        return self._global_env

    def error(self, message: str, line: int) -> DockerfileError:
        """A :class:`DockerfileError` at ``line`` of this file."""
        return DockerfileError(message, source=self.source, line=line)

    def process(self, word: str, line: int, what: str) -> Processed:
        """Expand ``word`` in the global scope; BuildKit's errors become ours."""
        try:
            processed = _LEXERS[self.escape].process(word, self.global_env)
        except RequiredValueError as exc:
            raise UnresolvedReferenceError(
                f"{what} {word!r}: {exc}", source=self.source, line=line
            ) from None
        except ShellSyntaxError as exc:
            raise self.error(f"{what} {word!r}: {exc}", line) from None
        return processed

    def unknown(self, processed: Processed) -> set[str]:
        """Names ``processed`` used whose value we do not know (no architecture)."""
        return (processed.unmatched & _PLATFORM_NAMES) | (processed.matched & self.tainted)

    def expand_from(self, word: str, line: int, what: str) -> Processed:
        """Expand a ``FROM`` word; undeclared names are ``UndefinedArgInFrom``."""
        processed = self.process(word, line, what)
        unknown = self.unknown(processed)
        if unknown:
            names = ", ".join(sorted(unknown))
            raise UnresolvedReferenceError(
                f"{what} {word!r} uses {names}, which has no value without an architecture",
                source=self.source,
                line=line,
            )
        for name in sorted(processed.unmatched):
            if name not in self.declared and name not in _AUTOMATIC_NAMES:
                self.warn(UNDEFINED_ARG_IN_FROM, line, f"FROM argument '{name}' is not declared")
        return processed

    def declare_global(self, rest: str, line: int) -> None:
        """One ``ARG`` before the first ``FROM`` (BuildKit's ``buildMetaArgs``)."""
        env = self.global_env
        if self.declared is _NO_NAMES:
            self.declared, self.tainted = set(), set()
        for name, equals, default in self.arg_words(rest, line):
            self.declared.add(name)
            if name in self.build_args:
                env[name] = self.build_args[name]
                self.tainted.discard(name)
            elif equals:
                if "$" in default or "'" in default or '"' in default or self.escape in default:
                    processed = self.process(default, line, f"ARG {name}")
                    env[name] = processed.result
                    if self.unknown(processed):
                        self.tainted.add(name)
                        continue
                else:
                    env[name] = default
                self.tainted.discard(name)

    def arg_words(self, rest: str, line: int) -> list[tuple[str, str, str]]:
        """The ``(name, "=", default)`` of each word of an ``ARG``; checks the syntax."""
        if rest.startswith("--"):
            _, rest = _extract_flags(rest)  # BuildKit splits flags off every instruction
        words = _arg_words(rest, self.escape)
        if not words:
            raise self.error("ARG requires at least one argument", line)
        parts = [word.partition("=") for word in words]
        if any(not name for name, _, _ in parts):
            raise self.error("ARG names can not be blank", line)
        return parts

    def check_platform(self, platform: str, line: int, stage_name: str | None) -> None:
        """``FROM --platform``: expanded, not empty, a platform; its two checks."""
        processed = self.expand_from(platform, line, "FROM --platform")
        value = processed.result
        if not value:
            raise self.error(f"empty platform value from expression {platform}", line)
        try:
            os_name, arch = parse_platform(value)
        except ValueError as exc:
            raise self.error(f"failed to parse platform {platform}: {exc}", line) from None
        matched, unmatched = processed.matched, processed.unmatched
        if (
            matched == {"TARGETPLATFORM"}
            and not unmatched
            and value == self.global_env.get("TARGETPLATFORM")
        ):
            self.warn(
                REDUNDANT_TARGET_PLATFORM,
                line,
                f"Setting platform to predefined {platform} in FROM is redundant "
                "as this is the default behavior",
            )
        if not matched and not unmatched:
            name = stage_name or ""
            if (os_name or "linux") not in name and (arch or "amd64") not in name:
                self.warn(
                    FROM_PLATFORM_FLAG_CONST_DISALLOWED,
                    line,
                    f'FROM --platform flag should not use constant value "{value}"',
                )

    def check_literal(self, value: str, line: int, message: str) -> None:
        """``--from`` values take no variables: expansion must leave them as written."""
        if "$" not in value and "'" not in value and '"' not in value and self.escape not in value:
            return
        try:
            processed = _LEXERS[self.escape].process(value, {})
        except ShellSyntaxError as exc:
            raise self.error(f"--from {value!r}: {exc}", line) from None
        if processed.result != value:
            raise self.error(message, line)

    def image(self, reference: str, line: int) -> str:
        """The normal form of an image reference, or a DockerfileError at ``line``."""
        if reference == SCRATCH:
            return SCRATCH
        try:
            return _normalize(reference)
        except ImageReferenceError as exc:
            raise self.error(f"invalid image reference {reference!r}: {exc}", line) from None


def _target_stage(instructions: list[_Instruction]) -> str:
    """``TARGETSTAGE``: the last stage's name, else ``default``."""
    for keyword, rest, _, _ in reversed(instructions):
        if keyword == "from":
            words = _extract_flags(rest)[1] if rest.startswith("--") else rest
            args = _split_blanks(words)
            if len(args) == 3 and args[1].lower() == "as":
                return args[2].lower()
            return _DEFAULT_TARGET
    return _DEFAULT_TARGET


def _resolve(
    lexed: _Lexed, build_args: Mapping[str, str], architecture: str | None, source: str
) -> DockerfileResolution:
    """Turn lexed instructions into stages, image uses and warnings, in file order."""
    _, instructions, check, empty_continuations, mixed = lexed
    config = _DEFAULT_CHECKS
    if check is not None:
        try:
            config = parse_check_directive(check)
        except ValueError as exc:
            raise DockerfileError(
                f"failed to parse check options: {exc}", source=source, line=1
            ) from None
    context = _Context(lexed, build_args, architecture, source, config)
    for line in empty_continuations:
        context.warn(NO_EMPTY_CONTINUATION, line, "Empty continuation line")
    stages: list[Stage] = []
    by_name: dict[str, int] = {}
    froms: list[str] = []
    uses: list[_Use] = []
    #: stage -> its ONBUILD instructions with flags (they run in the stages built on it)
    triggers: dict[int, list[tuple[str, int]]] = {}
    for keyword, rest, line, word in instructions:
        if keyword == "from":
            stage = _from(context, rest, line, word, stages, by_name)
            if stage.name is not None:
                by_name[stage.name] = stage.index
            stages.append(stage)
            froms.append(stage.base)
            continue
        if not stages:
            if keyword != "arg":
                raise context.error(f"{keyword.upper()}: no build stage in current context", line)
            context.declare_global(rest, line)
            continue
        if keyword == "arg":
            if not rest or rest[0] == "=" or " =" in rest or "\t=" in rest:
                context.arg_words(rest, line)  # else no word can start with "=" (no name)
        elif keyword == "maintainer":
            context.warn(
                MAINTAINER_DEPRECATED,
                line,
                "Maintainer instruction is deprecated in favor of using label",
            )
        elif (keyword == "copy" or keyword == "run") and rest.startswith("--"):  # noqa: PLR1714
            current = len(stages) - 1
            for kind, value, target, implicit in _flag_sources(context, keyword, rest, line):
                position = None if implicit else len(froms)
                if not implicit:
                    froms.append("")
                uses.append(_Use(position, current, line, kind, value, target))
        elif keyword == "onbuild" and "--" in rest:
            triggers.setdefault(len(stages) - 1, []).append((rest, line))
    if not stages:
        raise context.error("no FROM instruction: no build stage", max(1, len(instructions)))
    if uses or triggers:
        _Sources(context, stages, by_name, froms).resolve(uses, triggers)
    if mixed:
        first = stages[0].line
        words = [(word, line) for _, _, line, word in instructions if line >= first]
        casing_warnings(context.warn, words)
    warnings = context.linter.finish(source) if context.linter is not None else ()
    return DockerfileResolution(tuple(stages), stages[-1].base, tuple(froms), warnings)


def _from(
    context: _Context,
    rest: str,
    line: int,
    word: str,
    stages: list[Stage],
    by_name: Mapping[str, int],
) -> Stage:
    """One ``FROM`` (the next stage): flags, arguments, expansion, and stage or image."""
    platform: str | None = None
    if rest.startswith("--"):
        platform, rest = _from_flags(context, rest, line)
    args = _split_blanks(rest)
    name: str | None = None
    if len(args) == 3 and args[1].lower() == "as":
        written = args[2]
        name = written.lower()
        if not _STAGE_NAME_RE.fullmatch(name):
            raise context.error(
                f"invalid name for build stage: {written!r}, "
                "name can't start with a number or contain symbols",
                line,
            )
        as_word = args[1]
        if (
            not written.islower()
            or name in by_name
            or name in _RESERVED_STAGE_NAMES
            or ((as_word != "AS" or word != "FROM") and (as_word != "as" or word != "from"))
        ):
            _stage_name_checks(context, line, word, as_word, written, by_name)
    elif len(args) != 1:
        raise context.error("FROM requires either one or three arguments", line)
    base = args[0]
    escape = context.escape
    if "$" in base or "'" in base or '"' in base or escape in base:
        base = context.expand_from(base, line, "FROM").result
        if not base:
            raise context.error(f"base name ({args[0]}) should not be blank", line)
    if platform:
        context.check_platform(platform, line, name)
    parent_stage = by_name.get(base)  # stage names are lower case: an exact match only
    if parent_stage is not None:
        inherited = stages[parent_stage].base
        return Stage(len(stages), name, inherited, line, parent_stage, platform)
    return Stage(len(stages), name, context.image(base, line), line, None, platform)


def _stage_name_checks(
    context: _Context,
    line: int,
    from_word: str,
    as_word: str,
    written: str,
    by_name: Mapping[str, int],
) -> None:
    """``StageNameCasing``, ``FromAsCasing``, ``ReservedStageName``, ``DuplicateStageName``."""
    name = written.lower()
    if written != name:
        context.warn(STAGE_NAME_CASING, line, f"Stage name '{written}' should be lowercase")
    if from_as_casing_differs(from_word, as_word):
        context.warn(
            FROM_AS_CASING, line, f"'{as_word}' and '{from_word}' keywords' casing do not match"
        )
    if name in _RESERVED_STAGE_NAMES:
        context.warn(
            RESERVED_STAGE_NAME,
            line,
            f'Stage name should not use the same name as reserved stage "{name}"',
        )
    if name in by_name:
        context.warn(
            DUPLICATE_STAGE_NAME,
            line,
            f'Duplicate stage name "{name}", stage names should be unique',
        )


def _split_blanks(text: str) -> list[str]:
    """``text`` split at runs of ``[\\t\\v\\f\\r ]`` (BuildKit's whitespace), no empty words."""
    if not text:
        return []
    if "  " in text or "\t" in text or "\x0b" in text or "\x0c" in text or "\r" in text:
        return _WHITESPACE_RE.split(text)
    return text.split(" ")


def _from_flags(context: _Context, rest: str, line: int) -> tuple[str | None, str]:
    """The ``--platform`` of a FROM (the only flag it takes) and the rest of the line."""
    flags, rest = _extract_flags(rest)
    platform: str | None = None
    for flag in flags:
        _, value = _parse_flag(flag, frozenset({"platform"}), context.source, line)
        if platform is not None:
            raise context.error("Duplicate flag specified: platform", line)
        platform = value
    return platform, rest


def _flag_sources(
    context: _Context, keyword: str, rest: str, line: int
) -> list[tuple[str, str, str, bool]]:
    """The sources of one ``COPY``/``RUN``: ``(kind, value, mount target, implicit)``.

    ``COPY --from=x`` gives one; every ``RUN --mount`` gives one, ``scratch``
    (implicit) when it has no ``from``, as BuildKit's ``detectRunMount`` does.
    """
    flags, _ = _extract_flags(rest)
    sources: list[tuple[str, str, str, bool]] = []
    if keyword == "copy":
        seen = False
        for flag in flags:
            name, value = _parse_flag(flag, frozenset(), context.source, line)
            if name != "from":
                continue
            if seen:
                raise context.error("Duplicate flag specified: from", line)
            seen = True
            if value:  # an empty --from is no --from at all
                context.check_literal(value, line, _FROM_VARIABLE)
                sources.append(("copy", value, "", False))
        return sources
    for flag in flags:
        name, value = _parse_flag(flag, frozenset(), context.source, line)
        if name == "mount":
            source, target = _mount_fields(context, value, line)
            if source:
                context.check_literal(source, line, _MOUNT_VARIABLE)
                sources.append(("mount", source, target, False))
            else:
                sources.append(("mount", SCRATCH, target, True))
    return sources


def _mount_fields(context: _Context, value: str, line: int) -> tuple[str, str]:
    """The ``from`` and the target of one ``--mount`` value (CSV of key=value)."""
    if '"' in value:
        try:
            fields = next(csv.reader([value]), [])
        except csv.Error as exc:
            raise context.error(f"invalid --mount value {value!r}: {exc}", line) from None
    else:
        fields = value.split(",")
    source = target = ""
    for field in fields:
        key, _, item = field.partition("=")
        key = key.strip().lower()
        if key == "from":
            source = item
        elif key in ("target", "dst", "destination"):
            target = item
    return source, target


def _go_atoi(value: str) -> int | None:
    """Go's ``strconv.Atoi``: an optionally signed decimal that fits in 64 bits."""
    if len(value) > 21 or not _ATOI_RE.fullmatch(value):
        return None
    number = int(value)
    return number if -_INT64_MAX - 1 <= number <= _INT64_MAX else None


class _Sources:
    """The ``--from`` sources of the stages: BuildKit's dispatch states and dependencies.

    ``states`` is BuildKit's list of dispatch states: the stages, then each image a
    ``--from`` names, in the order they are met (an index may name one); ``deps``
    maps a stage to the stages its ``--from`` name.
    """

    __slots__ = ("by_name", "context", "deps", "forward", "froms", "stages", "states")

    def __init__(
        self,
        context: _Context,
        stages: list[Stage],
        by_name: Mapping[str, int],
        froms: list[str],
    ) -> None:
        self.context = context
        self.stages = stages
        self.by_name = by_name
        self.froms = froms
        self.states: list[int | str] = list(range(len(stages)))
        self.deps: dict[int, list[tuple[int, _Use]]] = {}
        #: some --from names its own stage or a later one (FROM only names earlier ones)
        self.forward = False

    def resolve(self, uses: list[_Use], triggers: Mapping[int, list[tuple[str, int]]]) -> None:
        """Fill in the ``--from`` images now that every stage is known; BuildKit's checks."""
        for use in uses:
            self.add(use)
        if self.forward:
            _check_cycles(self.context, self.stages, self.deps)
        if triggers:
            self.run_triggers(triggers)
        if self.forward:
            _check_order(self.context, self.stages, self.deps, self.reachable())

    def add(self, use: _Use) -> None:
        """Resolve one source: a stage index (COPY only), a stage name, else an image."""
        value = use.value
        target: int | str | None = None
        index = _go_atoi(value) if use.kind == "copy" and value[0] in _ATOI_FIRST else None
        if index is not None:
            if not 0 <= index < len(self.states):
                raise self.context.error(f"invalid stage index {index}", use.line)
            target = self.states[index]
        else:
            target = self.by_name.get(value.lower())
            if target is None:
                target = value
                self.states.append(target)
        if isinstance(target, str):
            image = self.context.image(target, use.line)
        else:
            image = self.stages[target].base
            self.deps.setdefault(use.stage, []).append((target, use))
            if target >= use.stage:
                self.forward = True
        if use.position is not None:
            self.froms[use.position] = image

    def run_triggers(self, triggers: Mapping[int, list[tuple[str, int]]]) -> None:
        """``ONBUILD COPY --from`` / ``RUN --mount`` of a stage run in each stage built on it.

        As in BuildKit, only in the stages built, after the cycle check, repeated while
        they make more stages reachable; their images go at the end of ``froms``.
        """
        done: set[int] = set()
        while True:
            children = [
                (index, parent)
                for index in sorted(self.reachable())
                if index not in done
                and (parent := self.stages[index].parent_stage) is not None
                and parent in triggers
            ]
            if not children:
                return
            for child, parent in children:
                done.add(child)
                for rest, line in triggers[parent]:
                    match = _COMMAND_RE.match(rest)
                    if match is None:
                        continue
                    keyword, inner = match.group(1).lower(), match.group(2).strip()
                    if keyword not in ("copy", "run") or not inner.startswith("--"):
                        continue
                    for kind, value, target, implicit in _flag_sources(
                        self.context, keyword, inner, line
                    ):
                        position = None if implicit else len(self.froms)
                        if not implicit:
                            self.froms.append("")
                        self.add(_Use(position, child, line, kind, value, target))

    def reachable(self) -> set[int]:
        """The stages built: the last one and those it reaches through bases and ``--from``."""
        reachable: set[int] = set()
        pending = [len(self.stages) - 1]
        while pending:
            index = pending.pop()
            if index in reachable:
                continue
            reachable.add(index)
            parent = self.stages[index].parent_stage
            if parent is not None:
                pending.append(parent)
            pending.extend(target for target, _ in self.deps.get(index, ()))
        return reachable


def _stage_label(stage: Stage) -> str:
    """BuildKit's name for a stage in messages."""
    return stage.name if stage.name is not None else f"stage-{stage.index}"


def _check_cycles(
    context: _Context, stages: list[Stage], deps: Mapping[int, list[tuple[int, _Use]]]
) -> None:
    """A stage may not depend on itself through ``--from``, directly or through others."""
    done: set[int] = set()
    for first in sorted(deps):
        if first in done:
            continue
        path = {first}
        stack = [(first, iter(sorted({target for target, _ in deps[first]})))]
        while stack:
            index, targets = stack[-1]
            target = next(targets, None)
            if target is None:
                stack.pop()
                path.discard(index)
                done.add(index)
            elif target in path:
                stage = stages[target]
                raise context.error(
                    f"circular dependency detected on stage: {_stage_label(stage)}", stage.line
                )
            elif target not in done:
                path.add(target)
                stack.append((target, iter(sorted({t for t, _ in deps.get(target, ())}))))


def _check_order(
    context: _Context,
    stages: list[Stage],
    deps: Mapping[int, list[tuple[int, _Use]]],
    reachable: set[int],
) -> None:
    """In the stages built, a ``--from`` must name a stage defined before."""
    for index in sorted(reachable):
        for target, use in deps.get(index, ()):
            if target <= index:
                continue
            if use.kind == "copy":
                raise context.error(
                    f'cannot copy from stage "{use.value}", it needs to be defined before '
                    f'current stage "{_stage_label(stages[index])}"',
                    use.line,
                )
            raise context.error(
                f'cannot mount from stage "{use.value}" to "{use.target}", '
                "stage needs to be defined before current command",
                use.line,
            )
