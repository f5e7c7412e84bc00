"""Dockerfile resolution: the stages, the final stage's parent and every external image.

Pure text in, :class:`DockerfileResolution` out: no I/O, no network.

Why a hand-written lexer
------------------------
Correctness first, then speed. Measured on the corpus' 4,484 Dockerfile heads
(``bench/parse.py``, best of nine interleaved rounds on a shared two-core machine,
so absolute figures moved between runs; the ranges below are over several runs):

* ``dockerfile-parse`` (pure Python line scanner), ``baseimage``: 26,000-33,000
  files/s. It takes a ``FROM`` naming a stage for an image (``FROM builder`` ->
  ``builder``), reads heredoc bodies as instructions, ignores the ``escape``
  directive (backtick continuations) and turns ``FROM a:$V`` after a bare
  ``ARG V`` into ``a:``. No head of this corpus has such a ``FROM``, so it gets 0 of 4,484
  parents wrong here, but it is wrong by construction.
* ``dockerfile`` (BuildKit v0.12.5's ``parser.Parse`` compiled from Go): exact
  lexing, but *only* lexing, at about 27,000-30,000 files/s because every call
  crosses into Go and builds Python objects for every instruction; ARG
  expansion, stage references and ``--from`` would still be ours to write, and
  it is a platform-specific binary wheel pinned to an old BuildKit (no
  ``${v#p}``).
* this module: BuildKit's parser rules (directives, continuation, comments,
  heredocs, flags, words, the parse-time checks of JSON arrays and ``ENV``/
  ``LABEL``) and ``shell.Lex`` word expansion ported to Python with fast paths
  for the usual file (no escapes, comments, ``$``, ``<<``): 200,000-210,000
  files/s for the whole resolution (lexing alone about 650,000), 6.4-7.9 times
  ``dockerfile-parse``, 0 wrong parents and 0 wrong ``froms`` against the
  oracle. ``tests/parsing/test_buildkit_agreement.py`` checks it against the
  ``dockerfile`` binding on generated text: same instructions, lines, flags,
  ``FROM``/``ARG`` words and syntax errors.

Rules implemented (Docker's reference and BuildKit's source, not a line scanner):

* parser directives only at the very top (``syntax``, ``escape``, ``check``;
  case-insensitive keys; the first line that is not a known directive ends
  them; a repeated directive is an error); a byte-order mark; CRLF line ends;
* line continuation with the active escape character (backslash, or backtick
  after ``# escape=``), trailing blanks after it allowed, an escaped escape
  character at the end not continuing (BuildKit's ``([^E])E[ \\t]*$`` rule);
  comment lines and empty lines inside a continuation are skipped;
* heredocs in ``RUN``/``COPY``/``ADD`` (also behind ``ONBUILD``, not in JSON
  form): ``<<EOF``, ``<<-EOF``, quoted names, several per line; nothing inside a
  heredoc is an instruction;
* case-insensitive instructions and ``AS``; unknown instructions and
  instructions other than ``ARG`` before the first ``FROM`` are errors;
* ``ARG`` before the first ``FROM`` (only those) feed ``FROM``; defaults may use
  earlier ARGs; quotes and escapes as the shell lexer does; ``$v``, ``${v}``,
  ``${v:-w}``, ``${v-w}``, ``${v:+w}``, ``${v+w}``, ``${v:?m}``, ``${v?m}``,
  ``${v#p}``, ``${v##p}``, ``${v%p}``, ``${v%%p}``, ``${v/p/r}``, ``${v//p/r}``;
  ``build_args`` replace the values of declared ARGs;
* BuildKit's automatic platform ARGs (``TARGETPLATFORM``, ``TARGETOS``,
  ``TARGETARCH``, ``TARGETVARIANT``, ``BUILDPLATFORM``, ``BUILDOS``,
  ``BUILDARCH``, ``BUILDVARIANT``) from ``architecture`` (a bashbrew name such as
  ``arm64v8`` or an ``os/arch[/variant]`` platform). bashbrew builds natively,
  so the build platform is the target platform. Without an architecture they
  have no value;
* ``FROM [--platform=...] image [AS name]``; a ``FROM`` that names an earlier
  stage (case-insensitively) resolves to that stage's base; ``scratch``;
* ``COPY --from=<stage name or index>`` and ``RUN --mount=...,from=<stage>`` are
  stages, anything else is an image. Like BuildKit, ``--from`` may name any
  stage of the file (a later one too); a stage that depends on itself is an
  error. Variables in ``--from``/``from=`` are expanded with the ARGs declared
  in that stage (``ENV`` is not tracked);
* a reference that uses an ARG with no value is an
  :class:`~indexer.errors.UnresolvedReferenceError`; BuildKit would expand it to
  an empty string, which is a guess we do not make. ``${v:-default}`` and the
  like are resolved, since they say what an empty value means.

Not modelled: the argument checks BuildKit makes after parsing for instructions
that do not affect images (``COPY`` needs two arguments, ``WORKDIR`` one, ...),
``ENV`` values in ``--from`` expansion, and ``--build-context`` named contexts.

References are normalised with :func:`indexer.refs.normalize_ref` (CONTRACT §2).
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache

from indexer.errors import DockerfileError, ImageReferenceError, UnresolvedReferenceError
from indexer.platforms import BASHBREW_ARCHES
from indexer.refs import SCRATCH, normalize_ref

__all__ = [
    "OCI_IMPORT",
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
_HEREDOC_INSTRUCTIONS = frozenset({"add", "copy", "run"})
_JSON_FORM_INSTRUCTIONS = frozenset(
    {"add", "cmd", "copy", "entrypoint", "healthcheck", "run", "shell", "volume"}
)
_ALWAYS_CHECKED = frozenset({"env", "label", "onbuild"})
_CHECKED_INSTRUCTIONS = _JSON_FORM_INSTRUCTIONS | _ALWAYS_CHECKED
_DIRECTIVES = frozenset({"syntax", "escape", "check"})

# Go's regexp \s is [\t\n\f\r ]
_DIRECTIVE_RE = re.compile(
    r"#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*"
)
_COMMAND_RE = re.compile(r"([^\t\v\f\r ]+)[\t\v\f\r ]*(.*)", re.DOTALL)
_WHITESPACE_RE = re.compile(r"[\t\v\f\r ]+")
_STAGE_NAME_RE = re.compile(r"[a-z][a-z0-9\-_.]*")
_HEREDOC_RE = re.compile(r"(\d*)<<(-?)([^<]*)", re.DOTALL)
_INDEX_RE = re.compile(r"[+-]?[0-9]+")
_SPECIAL_PARAMS = frozenset("*#@?-$!")
_NAME_RE = re.compile(r"[0-9]+|[*#@?\-$!]|\w+")


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
    """What a Dockerfile is built from."""

    stages: tuple[Stage, ...]
    parent: str
    froms: tuple[str, ...]


# ---------------------------------------------------------------------------
# public entry points


def resolve_dockerfile(
    text: str,
    *,
    build_args: Mapping[str, str] | None = None,
    architecture: str | None = None,
    source: str = "Dockerfile",
) -> DockerfileResolution:
    """Resolve the stages, the parent and every external image of a Dockerfile.

    Raises :class:`DockerfileError` (with ``source`` and line) for text Docker
    would reject, and :class:`UnresolvedReferenceError` for an image that depends
    on an ARG without a value.
    """
    escape, instructions = _lex(text, source)
    return _resolve(instructions, escape, build_args or {}, architecture, source)


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
    ``BUILD*`` values). Unknown or missing architecture: an empty mapping.
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
            (f"{prefix}ARCH", arch),
            (f"{prefix}VARIANT", variant),
        ]
    return tuple(pairs)


@lru_cache(maxsize=8192)
def _normalize(reference: str) -> str:
    """:func:`normalize_ref`, memoised: the same few hundred images recur everywhere."""
    return normalize_ref(reference)


# ---------------------------------------------------------------------------
# lexing: text -> (escape token, [(keyword, rest, line), ...])

_Instruction = tuple[str, str, int]


def _lex(text: str, source: str) -> tuple[str, list[_Instruction]]:
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
            return "\\", plain
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if "\r" in text:
        lines = [line.rstrip("\r\n") for line in lines]
    count = len(lines)
    if lines[0].lstrip().startswith("#"):
        escape, index = _directives(lines, source)
    else:
        escape, index = "\\", 0
    instructions: list[_Instruction] = []
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
                line, index = _continued(lines, index, body[:-1], escape)
        word, _, rest = line.partition(" ")
        if word.isalpha():  # the usual case: the keyword cannot hold a blank
            rest = rest.strip()
        else:
            match = _COMMAND_RE.match(line.strip())
            if match is None:
                continue  # nothing but continuation characters
            word, rest = match.group(1), match.group(2).strip()
        keyword = word.lower()
        if keyword not in _INSTRUCTIONS:
            raise DockerfileError(f"unknown instruction: {word}", source=source, line=start)
        if keyword in _CHECKED_INSTRUCTIONS and ("[" in rest or keyword in _ALWAYS_CHECKED):
            _check_syntax(keyword, rest, escape, source, start)
        if "<<" in rest and (keyword in _HEREDOC_INSTRUCTIONS or keyword == "onbuild"):
            index = _skip_heredocs(
                lines, index, keyword, rest, line=line, source=source, start=start
            )
        append((keyword, rest, start))
    return escape, instructions


def _lex_plain(text: str, source: str) -> list[_Instruction] | None:
    """:func:`_lex` for text without escapes, comments, heredocs, JSON or CR (most files).

    Every non-blank line is then one instruction. ``None`` sends an unusual line
    (a keyword followed by something other than a space) to the general lexer.
    """
    instructions: list[_Instruction] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        word, _, rest = line.partition(" ")
        if not word.isalpha():
            return None
        keyword = word.lower()
        if keyword not in _INSTRUCTIONS:
            raise DockerfileError(f"unknown instruction: {word}", source=source, line=number)
        rest = rest.strip()
        if keyword in _ALWAYS_CHECKED:
            _check_syntax(keyword, rest, "\\", source, number)
        instructions.append((keyword, rest, number))
    return instructions


def _directives(lines: list[str], source: str) -> tuple[str, int]:
    """Read the parser directives at the top; answers the escape token and next line."""
    escape = "\\"
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
        index += 1
    return escape, index


def _continues(body: str, escape: str) -> bool:
    """Whether a line (trailing blanks removed) continues on the next one.

    BuildKit's rule: ``([^E])E[ \t]*$|^E[ \t]*$`` for the escape token E, so an
    escaped escape token at the end (``foo \\\\``) does not continue the line.
    """
    return body.endswith(escape) and (len(body) == 1 or body[-2] != escape)


def _continued(lines: list[str], index: int, first: str, escape: str) -> tuple[str, int]:
    """Join continuation lines after ``first``; answers the logical line and next index."""
    parts = [first]
    count = len(lines)
    while index < count:
        raw = lines[index]
        index += 1
        stripped = raw.lstrip()
        if not stripped or stripped[0] == "#":
            continue  # empty and comment lines inside a continuation are skipped
        body = raw.rstrip(" \t")
        if _continues(body, escape):
            parts.append(body[:-1])
            continue
        parts.append(raw)
        break
    return "".join(parts), index


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
    for name, chomp in _heredocs(line):
        while True:
            if index >= len(lines):
                raise DockerfileError(f"unterminated heredoc {name!r}", source=source, line=start)
            candidate = lines[index].rstrip("\r\n")
            index += 1
            if (candidate.lstrip("\t") if chomp else candidate) == name:
                break
    return index


def _heredocs(line: str) -> list[tuple[str, bool]]:
    """``(name, chomp)`` of every heredoc a logical line opens (BuildKit's rules)."""
    words = _shell_words(line, raw=True)
    found: list[tuple[str, bool]] = []
    for word in words or ():
        match = _HEREDOC_RE.fullmatch(word)
        if match is None or not match.group(3):
            continue
        names = _shell_words(match.group(3), raw=False)
        if names is None or len(names) != 1:
            continue
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


def _shell_words(text: str, *, raw: bool) -> list[str] | None:
    """Whitespace-separated shell words with an empty environment; ``None`` on bad quoting.

    ``raw`` keeps quotes and backslashes (BuildKit's ``RawQuotes``/``RawEscapes``),
    as the heredoc detector needs; otherwise they are removed.
    """
    words: list[str] = []
    word: list[str] = []
    in_word = False
    pos, end = 0, len(text)
    while pos < end:
        ch = text[pos]
        if ch.isspace():
            if in_word:
                words.append("".join(word))
                word, in_word = [], False
            pos += 1
            continue
        in_word = True
        if ch in "'\"":
            close = _closing_quote(text, pos)
            if close < 0:
                return None
            inner = text[pos + 1 : close]
            if ch == '"' and not raw:
                inner = re.sub(r"\\([\"$\\])", r"\1", inner)
            word.append(text[pos : close + 1] if raw else inner)
            pos = close + 1
        elif ch == "\\":
            word.append(text[pos : pos + 2] if raw else text[pos + 1 : pos + 2])
            pos += 2
        elif ch == "$":
            after = _skip_parameter(text, pos)
            if after < 0:
                return None  # bad substitution: BuildKit then finds no words at all
            if after == pos + 1:
                word.append("$")  # a lone $ is literal
            pos = after
        else:
            word.append(ch)
            pos += 1
    if in_word:
        words.append("".join(word))
    return words


def _closing_quote(text: str, pos: int) -> int:
    """Index of the quote closing the one at ``pos`` (``\\`` escapes in ``"``), or -1."""
    quote = text[pos]
    pos += 1
    while pos < len(text):
        ch = text[pos]
        if ch == quote:
            return pos
        pos += 2 if ch == "\\" and quote == '"' else 1
    return -1


def _skip_parameter(text: str, pos: int) -> int:
    """Skip a ``$name`` / ``${...}`` (which expands to nothing here); -1 if malformed."""
    pos += 1
    if pos < len(text) and text[pos] == "{":
        close = text.find("}", pos)
        name = _NAME_RE.match(text, pos + 1)
        after = text[name.end() : name.end() + 1] if name else ""
        if close < 0 or not name or not after or after not in "}:-+?#%/":
            return -1
        return close + 1
    while pos < len(text) and (text[pos].isalnum() or text[pos] == "_"):
        pos += 1
    return pos


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
# word expansion (BuildKit's shell.Lex.ProcessWord) with unresolved tracking

#: an ARG's value and whether it is fully known (False: it used an ARG without value)
_Value = tuple[str, bool]
_Env = Mapping[str, _Value]


class _ExpansionError(Exception):
    """Bad substitution syntax (becomes a DockerfileError with the line)."""


class _UnresolvedError(Exception):
    """``${v:?message}`` with ``v`` unset or empty."""


class _Expander:
    """Expands one word against an environment, noting ARGs used without a value."""

    __slots__ = ("end", "env", "escape", "missing", "pos", "text")

    def __init__(self, text: str, env: _Env, escape: str) -> None:
        self.text = text
        self.env = env
        self.escape = escape
        self.pos = 0
        self.end = len(text)
        self.missing: list[str] = []

    def word(self, stop: str = "") -> str:
        """Process up to ``stop`` (consumed) or the end (BuildKit's processStopOn)."""
        out: list[str] = []
        text, escape = self.text, self.escape
        while self.pos < self.end:
            ch = text[self.pos]
            if stop and ch == stop:
                self.pos += 1
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
            elif ch == "'":
                out.append(self.single_quoted())
            elif ch == '"':
                out.append(self.double_quoted())
            else:
                self.pos += 1
                if ch == escape:
                    if self.pos >= self.end:
                        break
                    ch = text[self.pos]
                    self.pos += 1
                out.append(ch)
        if stop:
            raise _ExpansionError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(out)

    def single_quoted(self) -> str:
        """``'...'``: taken as is."""
        close = self.text.find("'", self.pos + 1)
        if close < 0:
            raise _ExpansionError(
                "unexpected end of statement while looking for matching single-quote"
            )
        value = self.text[self.pos + 1 : close]
        self.pos = close + 1
        return value

    def double_quoted(self) -> str:
        """``"..."``: ``$`` expands; the escape token escapes ``"``, ``$`` and itself."""
        out: list[str] = []
        text, escape = self.text, self.escape
        self.pos += 1
        while True:
            if self.pos >= self.end:
                raise _ExpansionError(
                    "unexpected end of statement while looking for matching double-quote"
                )
            ch = text[self.pos]
            if ch == '"':
                self.pos += 1
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
                continue
            self.pos += 1
            if ch == escape:
                if self.pos >= self.end:
                    continue
                if text[self.pos] in ('"', "$", escape):
                    ch = text[self.pos]
                    self.pos += 1
            out.append(ch)

    def name(self) -> str:
        """A parameter name: digits, one special character, or letters/digits/_."""
        text, start = self.text, self.pos
        if start < self.end and text[start].isdecimal():
            while self.pos < self.end and text[self.pos].isdecimal():
                self.pos += 1
            return text[start : self.pos]
        if start < self.end and text[start] in _SPECIAL_PARAMS:
            self.pos += 1
            return text[start]
        while self.pos < self.end and (text[self.pos].isalnum() or text[self.pos] == "_"):
            self.pos += 1
        return text[start : self.pos]

    def lookup(self, name: str) -> tuple[str, bool]:
        """``(value, set)``; a value that is not fully known is noted as missing."""
        found = self.env.get(name)
        if found is None:
            return "", False
        if not found[1]:
            self.missing.append(name)
        return found[0], True

    def use(self, name: str) -> str:
        """The value of ``name`` substituted as is: unknown or unset is noted as missing."""
        value, is_set = self.lookup(name)
        if not is_set:
            self.missing.append(name)
        return value

    def dollar(self) -> str:
        """``$name`` or ``${...}`` starting at the ``$``."""
        self.pos += 1
        if self.pos >= self.end or self.text[self.pos] != "{":
            name = self.name()
            return self.use(name) if name else "$"
        self.pos += 1
        if self.pos >= self.end:
            raise _ExpansionError("syntax error: missing '}'")
        if self.text[self.pos] in "{}:":
            raise _ExpansionError("syntax error: bad substitution")
        name = self.name()
        if self.pos >= self.end:
            raise _ExpansionError("syntax error: missing '}'")
        modifier = self.text[self.pos]
        self.pos += 1
        if modifier == "}":
            return self.use(name)
        if modifier == ":":
            if self.pos >= self.end:
                raise _ExpansionError("syntax error: missing '}'")
            modifier += self.text[self.pos]
            self.pos += 1
        elif modifier in "#%/" and self.pos < self.end and self.text[self.pos] == modifier:
            modifier += modifier
            self.pos += 1
        return self.modified(name, modifier)

    def modified(self, name: str, modifier: str) -> str:
        """``${name<modifier>word}`` after the modifier."""
        if modifier[0] == "/":
            pattern = self.word_until("/}")
            replacement = self.word("}") if self.text[self.pos - 1] == "/" else ""
            value = self.use(name)
            return _replace(value, pattern, replacement, everywhere=modifier == "//")
        before = len(self.missing)
        word = self.word("}")
        if modifier in ("#", "##", "%", "%%"):
            return _trim(self.use(name), word, modifier)
        # what the word needs counts only if the word is what the substitution gives
        word_missing = self.missing[before:]
        del self.missing[before:]
        value, is_set = self.lookup(name)
        if modifier in (":-", "-"):
            if not value if modifier == ":-" else not is_set:
                del self.missing[before:]  # the default says what "no value" means
                self.missing += word_missing
                return word
            return value
        if modifier in (":+", "+"):
            if modifier == ":+":
                del self.missing[before:]  # only emptiness matters
            if value if modifier == ":+" else is_set:
                self.missing += word_missing
                return word
            return ""
        if modifier in (":?", "?"):
            if not is_set or (modifier == ":?" and not value):
                raise _UnresolvedError(f"{name}: {word or 'is not allowed to be unset or empty'}")
            return value
        raise _ExpansionError(f"unsupported modifier ({modifier}) in substitution")

    def word_until(self, stops: str) -> str:
        """Raw text up to one of ``stops`` (consumed); used for ``${v/pattern/...}``."""
        start = self.pos
        while self.pos < self.end and self.text[self.pos] not in stops:
            self.pos += 1
        if self.pos >= self.end:
            raise _ExpansionError("syntax error: missing '}'")
        self.pos += 1
        return self.text[start : self.pos - 1]


def _trim(value: str, pattern: str, modifier: str) -> str:
    """``${v#p}`` (shortest prefix), ``##`` (longest), ``%`` / ``%%`` (suffix)."""
    size = len(value)
    if modifier[0] == "#":
        cuts = range(size + 1) if modifier == "#" else range(size, -1, -1)
        for cut in cuts:
            if fnmatchcase(value[:cut], pattern):
                return value[cut:]
        return value
    cuts = range(size, -1, -1) if modifier == "%" else range(size + 1)
    for cut in cuts:
        if fnmatchcase(value[cut:], pattern):
            return value[:cut]
    return value


def _replace(value: str, pattern: str, replacement: str, *, everywhere: bool) -> str:
    """``${v/p/r}``: the first longest match of ``p`` replaced; ``//``: every match."""
    out: list[str] = []
    pos, size = 0, len(value)
    while pos < size:
        stop = next(
            (end for end in range(size, pos, -1) if fnmatchcase(value[pos:end], pattern)), None
        )
        if stop is None:
            out.append(value[pos])
            pos += 1
            continue
        out.append(replacement)
        pos = stop
        if not everywhere:
            break
    out.append(value[pos:])
    return "".join(out)


def _expand(word: str, env: _Env, escape: str) -> tuple[str, list[str]]:
    """Expand ``word``; answers the result and the ARGs it used without a value."""
    if "$" not in word and "'" not in word and '"' not in word and escape not in word:
        return word, []
    expander = _Expander(word, env, escape)
    try:
        result = expander.word()
    except RecursionError:
        raise _ExpansionError("substitutions nested too deeply") from None
    return result, expander.missing


# ---------------------------------------------------------------------------
# resolution


#: the ARG instructions of one stage, as (rest of the line, line number)
_StageArgs = list[tuple[str, int]]


class _Context:
    """What every resolution step needs: source name, escape token, build args, global ARGs."""

    __slots__ = ("_global_env", "architecture", "build_args", "escape", "source")

    def __init__(
        self, escape: str, build_args: Mapping[str, str], architecture: str | None, source: str
    ) -> None:
        self.escape = escape
        self.build_args = build_args
        self.architecture = architecture
        self.source = source
        self._global_env: dict[str, _Value] | None = None

    @property
    def global_env(self) -> dict[str, _Value]:
        """The global scope: platform ARGs, then the ARGs before the first FROM."""
        if self._global_env is None:
            build_args = self.build_args
            self._global_env = {
                name: (build_args.get(name, value), True)
                for name, value in _platform_env(self.architecture)
            }
        return self._global_env

    def error(self, message: str, line: int) -> DockerfileError:
        """A :class:`DockerfileError` at ``line`` of this file."""
        return DockerfileError(message, source=self.source, line=line)

    def expand(self, word: str, env: _Env, line: int, what: str) -> str:
        """Expand ``word``; an ARG without a value makes it unresolved."""
        try:
            value, missing = _expand(word, env, self.escape)
        except _ExpansionError as exc:
            raise self.error(f"{what}: {exc}", line) from None
        except _UnresolvedError as exc:
            raise UnresolvedReferenceError(
                f"{what} {word!r}: {exc}", source=self.source, line=line
            ) from None
        if missing:
            names = ", ".join(dict.fromkeys(missing))
            raise UnresolvedReferenceError(
                f"{what} {word!r} uses {names} which has no value",
                source=self.source,
                line=line,
            )
        return value

    def declare(self, env: dict[str, _Value], rest: str, line: int, fallback: _Env) -> None:
        """Apply one ``ARG`` instruction to ``env`` (``fallback``: values for bare names)."""
        if rest.startswith("--"):
            _, rest = _extract_flags(rest)  # BuildKit splits flags off every instruction
        words = _arg_words(rest, self.escape)
        if not words:
            raise self.error("ARG requires at least one argument", line)
        for word in words:
            name, equals, default = word.partition("=")
            if name in self.build_args:
                env[name] = (self.build_args[name], True)
            elif equals:
                try:
                    value, missing = _expand(default, env, self.escape)
                except _ExpansionError as exc:
                    raise self.error(f"ARG {name}: {exc}", line) from None
                except _UnresolvedError as exc:  # ${v:?message}: the build cannot go on
                    raise UnresolvedReferenceError(
                        f"ARG {name}: {exc}", source=self.source, line=line
                    ) from None
                env[name] = (value, not missing)
            elif name in fallback:
                env[name] = fallback[name]
            elif name not in env:
                env[name] = ("", False)

    def image(self, reference: str, line: int) -> str:
        """The normal form of an image reference, or a DockerfileError at ``line``."""
        if reference == SCRATCH:
            return SCRATCH
        try:
            return _normalize(reference)
        except ImageReferenceError as exc:
            raise self.error(f"invalid image reference {reference!r}: {exc}", line) from None


#: a ``--from`` waiting for every stage to be known: (position in froms, stage, line, value)
_Pending = tuple[int, int, int, str]


def _resolve(
    instructions: list[_Instruction],
    escape: str,
    build_args: Mapping[str, str],
    architecture: str | None,
    source: str,
) -> DockerfileResolution:
    """Turn lexed instructions into stages and image uses, in file order."""
    context = _Context(escape, build_args, architecture, source)
    stages: list[Stage] = []
    stage_args: dict[int, _StageArgs] = {}
    by_name: dict[str, int] = {}
    froms: list[str] = []
    pending: list[_Pending] = []
    for keyword, rest, line in instructions:
        if keyword == "from":
            stage = _from(context, rest, line, stages, by_name)
            if stage.name is not None:
                by_name[stage.name] = stage.index
            stages.append(stage)
            froms.append(stage.base)
        elif not stages:
            if keyword != "arg":
                raise context.error(f"{keyword.upper()}: no build stage in current context", line)
            context.declare(context.global_env, rest, line, {})
        elif keyword == "arg":
            stage_args.setdefault(len(stages) - 1, []).append((rest, line))
        elif (keyword == "copy" or keyword == "run") and rest.startswith("--"):  # noqa: PLR1714
            args = stage_args.get(len(stages) - 1, [])
            for value in _flag_froms(context, keyword, rest, line, args):
                pending.append((len(froms), len(stages) - 1, line, value))
                froms.append("")
    if not stages:
        raise context.error("no FROM instruction: no build stage", max(1, len(instructions)))
    if pending:
        _resolve_pending(context, stages, by_name, froms, pending)
    return DockerfileResolution(tuple(stages), stages[-1].base, tuple(froms))


def _from(
    context: _Context, rest: str, line: int, stages: list[Stage], by_name: Mapping[str, int]
) -> Stage:
    """One ``FROM`` (the next stage): flags, arguments, expansion, and stage or image."""
    platform: str | None = None
    if rest.startswith("--"):
        platform, rest = _from_flags(context, rest, line)
    args = _split_blanks(rest)
    name: str | None = None
    if len(args) == 3 and args[1].lower() == "as":
        name = args[2].lower()
        if not _STAGE_NAME_RE.fullmatch(name):
            raise context.error(
                f"invalid name for build stage: {args[2]!r}, "
                "name can't start with a number or contain symbols",
                line,
            )
    elif len(args) != 1:
        raise context.error("FROM requires either one or three arguments", line)
    base = args[0]
    escape = context.escape
    if "$" in base or "'" in base or '"' in base or escape in base:
        base = context.expand(base, context.global_env, line, "FROM")
        if not base:
            raise context.error(f"base name ({args[0]}) should not be blank", line)
    parent_stage = by_name.get(base.lower())
    if parent_stage is not None:
        inherited = stages[parent_stage].base
        return Stage(len(stages), name, inherited, line, parent_stage, platform)
    return Stage(len(stages), name, context.image(base, line), line, None, platform)


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


def _flag_froms(
    context: _Context, keyword: str, rest: str, line: int, args: _StageArgs
) -> list[str]:
    """The ``COPY --from`` / ``RUN --mount=...,from=`` values of one instruction, expanded."""
    flags, _ = _extract_flags(rest)
    values: list[str] = []
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
                values.append(_stage_expand(context, value, line, args))
        return values
    for flag in flags:
        name, value = _parse_flag(flag, frozenset(), context.source, line)
        if name == "mount":
            source = _mount_from(context, value, line)
            if source:
                values.append(_stage_expand(context, source, line, args))
    return values


def _mount_from(context: _Context, value: str, line: int) -> str:
    """The ``from=`` of one ``--mount`` value (CSV of key=value), or ``""``."""
    if '"' in value:
        try:
            fields = next(csv.reader([value]), [])
        except csv.Error as exc:
            raise context.error(f"invalid --mount value {value!r}: {exc}", line) from None
    else:
        fields = value.split(",")
    source, kind = "", "bind"
    for field in fields:
        key, _, item = field.partition("=")
        key = key.strip().lower()
        if key == "from":
            source = item
        elif key == "type":
            kind = item.lower()
    return "" if kind == "tmpfs" else source


def _stage_expand(context: _Context, value: str, line: int, args: _StageArgs) -> str:
    """Expand a ``--from`` value with the ARGs declared so far in ``stage``."""
    if "$" not in value:
        return value
    env: dict[str, _Value] = {}
    for rest, arg_line in args:
        context.declare(env, rest, arg_line, context.global_env)
    return context.expand(value, env, line, "--from")


def _resolve_pending(
    context: _Context,
    stages: list[Stage],
    by_name: Mapping[str, int],
    froms: list[str],
    pending: list[_Pending],
) -> None:
    """Fill in the ``--from`` uses now that every stage is known; check for cycles."""
    edges: list[tuple[int, int]] = []
    for position, user, line, value in pending:
        target = _stage_target(context, value, line, len(stages), by_name)
        if target is None:
            froms[position] = context.image(value, line)
        else:
            froms[position] = stages[target].base
            edges.append((user, target))
    # FROM only names earlier stages: a cycle needs a --from naming itself or a later stage
    if any(target >= user for user, target in edges):
        depends: dict[int, set[int]] = {}
        for stage in stages:
            if stage.parent_stage is not None:
                depends.setdefault(stage.index, set()).add(stage.parent_stage)
        for user, target in edges:
            depends.setdefault(user, set()).add(target)
        _check_cycles(context, stages, depends)


def _stage_target(
    context: _Context, value: str, line: int, count: int, by_name: Mapping[str, int]
) -> int | None:
    """The stage a ``--from`` names (by index or name), or ``None`` for an image."""
    if len(value) <= 18 and _INDEX_RE.fullmatch(value):
        number = int(value)
        if not 0 <= number < count:
            raise context.error(f"invalid stage index {value}", line)
        return number
    return by_name.get(value.lower())


def _check_cycles(context: _Context, stages: list[Stage], depends: Mapping[int, set[int]]) -> None:
    """A stage may not depend on itself, directly or through others."""
    done: set[int] = set()
    for first in sorted(depends):
        if first in done:
            continue
        path = {first}
        stack = [(first, iter(sorted(depends[first])))]
        while stack:
            index, targets = stack[-1]
            target = next(targets, None)
            if target is None:
                stack.pop()
                path.discard(index)
                done.add(index)
            elif target in path:
                stage = stages[target]
                label = stage.name if stage.name is not None else str(stage.index)
                raise context.error(f"circular dependency detected on stage: {label}", stage.line)
            elif target not in done:
                path.add(target)
                stack.append((target, iter(sorted(depends.get(target, ())))))
