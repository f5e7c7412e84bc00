"""BuildKit's shell word lexer (``frontend/dockerfile/shell/lex.go``) ported to Python.

One :class:`ShellLex` processes a word the way BuildKit's ``shell.Lex`` does: quotes,
the escape token, ``$name`` / ``${...}`` substitution with every modifier BuildKit
knows, and (for heredoc detection) the split into words. Rules, as in ``lex.go``:

* single quotes are literal; inside double quotes the escape token escapes only
  ``"``, ``$`` and itself; unquoted, it escapes any character and is dropped.
  ``raw_quotes`` keeps the quotes, ``raw_escapes`` the escape tokens (both are
  used by heredoc detection); with ``raw_escapes`` an escape token that escapes
  nothing inside double quotes is written twice, as BuildKit does;
* a name is digits, one special parameter (``@*#?-$!0``), or letters, digits and
  ``_``; ``$`` before anything else stays literal; an unset name expands to
  ``""`` (``skip_unset`` keeps ``$name`` / ``${...}`` as written instead);
* ``${v-w}``, ``${v:-w}``, ``${v+w}``, ``${v:+w}``, ``${v?m}``, ``${v:?m}`` with
  the usual set-versus-empty rules; the word is processed before the name is
  looked up, so names inside it count as used even when the word is not;
* ``${v#p}``, ``${v##p}``, ``${v%p}``, ``${v%%p}``: the pattern is processed
  with raw escapes (``$`` expands inside it) and converted to a regular
  expression that knows only ``*`` and ``?``; ``\\*``, ``\\?``, ``\\\\`` are
  literal, any other escape is an error, ``[...]`` is no bracket expression.
  ``%`` reverses pattern and value to find the shortest or longest suffix;
* ``${v/p/r}`` and ``${v//p/r}``: pattern and replacement are processed with raw
  escapes (``\\/`` and ``\\}`` lose the backslash in the pattern); the pattern
  matches leftmost-longest-first like Go's ``regexp``; ``/`` replaces the first
  match with the replacement as written, ``//`` every match with Go's
  ``ReplaceAllString`` (the replacement is a template: ``$0`` is the match,
  ``$$`` a dollar, other names empty; an empty match right after a match is
  skipped);
* with ``heredocs`` a ``<<`` takes the blanks after it into its word
  (``processPossibleHeredoc``), so ``<<  EOF`` stays one word.

Names looked up are recorded in :attr:`Processed.matched` and
:attr:`Processed.unmatched` (BuildKit's ``ProcessWordWithMatches``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = ["Processed", "RequiredValueError", "ShellLex", "ShellSyntaxError"]

_SPECIAL_PARAMS = frozenset("@*#?-$!0")
_REGEX_SPECIAL = frozenset("[]{}.+()|^$")
_HEREDOC_BLANKS = frozenset(" \t\r\n")
# Go's unicode.IsSpace; Python's str.isspace also counts the four ASCII separators
_NOT_GO_SPACE = frozenset("\x1c\x1d\x1e\x1f")


class ShellSyntaxError(ValueError):
    """Bad substitution syntax or quoting (BuildKit fails the build with it)."""


class RequiredValueError(ShellSyntaxError):
    """``${v?message}`` / ``${v:?message}`` with ``v`` unset (or empty)."""


@dataclass(slots=True)
class Processed:
    """The result of processing one word."""

    result: str
    words: list[str]
    matched: set[str] = field(default_factory=set)
    unmatched: set[str] = field(default_factory=set)


def _go_space(ch: str) -> bool:
    return ch.isspace() and ch not in _NOT_GO_SPACE


def _name_char(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or ch.isdecimal()


class _Words:
    """BuildKit's ``wordsStruct``: the words of a processed word, split on blanks."""

    __slots__ = ("in_word", "word", "words")

    def __init__(self) -> None:
        self.word = ""
        self.words: list[str] = []
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if _go_space(ch):
            if self.in_word and self.word:
                self.words.append(self.word)
                self.word = ""
                self.in_word = False
        else:
            self.add_raw(ch)

    def add_string(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def add_raw(self, text: str) -> None:
        self.word += text
        self.in_word = True

    def finish(self) -> list[str]:
        if self.word:
            self.words.append(self.word)
            self.word = ""
            self.in_word = False
        return self.words


class ShellLex:
    """A configured lexer; :meth:`process` handles one word against an environment."""

    __slots__ = ("escape", "heredocs", "raw_escapes", "raw_quotes", "skip_unset")

    def __init__(
        self,
        escape: str = "\\",
        *,
        raw_quotes: bool = False,
        raw_escapes: bool = False,
        skip_unset: bool = False,
        heredocs: bool = False,
    ) -> None:
        self.escape = escape
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes
        self.skip_unset = skip_unset
        self.heredocs = heredocs

    def process(self, word: str, env: Mapping[str, str]) -> Processed:
        """Expand ``word``; raises :class:`ShellSyntaxError` where BuildKit fails."""
        scan = _Scan(self, word, env)
        try:
            result, words = scan.stop_on("", raw_escapes=self.raw_escapes)
        except RecursionError:
            raise ShellSyntaxError("substitutions nested too deeply") from None
        return Processed(result, words, scan.matched, scan.unmatched)


class _Scan:
    """The state of one :meth:`ShellLex.process` call (BuildKit's ``shellWord``)."""

    __slots__ = ("end", "env", "lex", "matched", "pos", "raw_escapes", "text", "unmatched")

    def __init__(self, lex: ShellLex, text: str, env: Mapping[str, str]) -> None:
        self.lex = lex
        self.text = text
        self.env = env
        self.pos = 0
        self.end = len(text)
        self.raw_escapes = lex.raw_escapes
        self.matched: set[str] = set()
        self.unmatched: set[str] = set()

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < self.end else ""

    def next(self) -> str:
        if self.pos >= self.end:
            return ""
        ch = self.text[self.pos]
        self.pos += 1
        return ch

    def stop_on(self, stop: str, *, raw_escapes: bool) -> tuple[str, list[str]]:
        """``processStopOn``: up to ``stop`` (consumed) or the end when ``stop`` is ``""``."""
        saved, self.raw_escapes = self.raw_escapes, raw_escapes
        try:
            return self._stop_on(stop)
        finally:
            self.raw_escapes = saved

    def _stop_on(self, stop: str) -> tuple[str, list[str]]:
        out: list[str] = []
        words = _Words()
        lex, text, escape = self.lex, self.text, self.lex.escape
        while self.pos < self.end:
            ch = text[self.pos]
            if stop and ch == stop:
                self.pos += 1
                return "".join(out), words.finish()
            if ch == "$":
                value = self.dollar()
                out.append(value)
                words.add_string(value)
            elif ch == "'":
                value = self.single_quoted()
                out.append(value)
                words.add_raw(value)
            elif ch == '"':
                value = self.double_quoted()
                out.append(value)
                words.add_raw(value)
            elif ch == "<" and lex.heredocs:
                value = self.possible_heredoc()
                out.append(value)
                words.add_raw(value)
            else:
                self.pos += 1
                if ch == escape:
                    if self.raw_escapes:
                        words.add_raw(ch)
                        out.append(ch)
                    if self.pos >= self.end:
                        break
                    ch = text[self.pos]
                    self.pos += 1
                    words.add_raw(ch)
                else:
                    words.add_char(ch)
                out.append(ch)
        if stop:
            raise ShellSyntaxError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(out), words.finish()

    def single_quoted(self) -> str:
        quote = self.next()
        out = [quote] if self.lex.raw_quotes else []
        while True:
            ch = self.next()
            if not ch:
                raise ShellSyntaxError(
                    "unexpected end of statement while looking for matching single-quote"
                )
            if ch == "'":
                if self.lex.raw_quotes:
                    out.append(ch)
                return "".join(out)
            out.append(ch)

    def double_quoted(self) -> str:
        quote = self.next()
        out = [quote] if self.lex.raw_quotes else []
        escape = self.lex.escape
        while True:
            ch = self.peek()
            if not ch:
                raise ShellSyntaxError(
                    "unexpected end of statement while looking for matching double-quote"
                )
            if ch == '"':
                self.pos += 1
                if self.lex.raw_quotes:
                    out.append(ch)
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
                continue
            self.pos += 1
            if ch == escape:
                if self.raw_escapes:
                    out.append(ch)
                following = self.peek()
                if not following:
                    continue  # an escape at the end of the word is dropped
                if following in ('"', "$", escape):
                    ch = following
                    self.pos += 1
            out.append(ch)

    def possible_heredoc(self) -> str:
        """``<`` alone, or ``<<`` with the blanks after it (one word with the name)."""
        self.pos += 1
        if self.peek() != "<":
            return "<"
        self.pos += 1
        start = self.pos
        while self.pos < self.end and self.text[self.pos] in _HEREDOC_BLANKS:
            self.pos += 1
        return "<<" + self.text[start : self.pos]

    def name(self) -> str:
        text, start = self.text, self.pos
        if start < self.end and text[start].isdecimal():
            while self.pos < self.end and text[self.pos].isdecimal():
                self.pos += 1
            return text[start : self.pos]
        if start < self.end and text[start] in _SPECIAL_PARAMS:
            self.pos += 1
            return text[start]
        while self.pos < self.end and _name_char(text[self.pos]):
            self.pos += 1
        return text[start : self.pos]

    def lookup(self, name: str) -> tuple[str, bool]:
        value = self.env.get(name)
        if value is None:
            self.unmatched.add(name)
            return "", False
        self.matched.add(name)
        return value, True

    def dollar(self) -> str:
        self.pos += 1
        if self.peek() != "{":
            name = self.name()
            if not name:
                return "$"
            value, found = self.lookup(name)
            if not found and self.lex.skip_unset:
                return "$" + name
            return value
        self.pos += 1
        first = self.peek()
        if not first:
            raise ShellSyntaxError("syntax error: missing '}'")
        if first in "{}:":
            raise ShellSyntaxError("syntax error: bad substitution")
        name = self.name()
        ch = self.next()
        if ch == "}":
            value, is_set = self.lookup(name)
            if not is_set and self.lex.skip_unset:
                return "${" + name + "}"
            return value
        if ch == "/":
            return self.replaced(name)
        modifier = ch
        null_is_unset = ch == ":"
        if null_is_unset:
            ch = self.next()
            modifier += ch
        elif ch not in ("+", "-", "?", "#", "%"):
            raise ShellSyntaxError(f"unsupported modifier ({modifier}) in substitution")
        try:
            word, _ = self.stop_on("}", raw_escapes=ch in ("#", "%"))
        except ShellSyntaxError:
            if not self.peek():
                raise ShellSyntaxError("syntax error: missing '}'") from None
            raise
        value, is_set = self.lookup(name)
        if self.lex.skip_unset and not is_set:
            return "${" + name + modifier + word + "}"
        empty = not is_set or (null_is_unset and not value)
        if ch == "-":
            return word if empty else value
        if ch == "+":
            return "" if empty else word
        if ch == "?":
            if not is_set:
                raise RequiredValueError(f"{name}: {word or 'is not allowed to be unset'}")
            if null_is_unset and not value:
                raise RequiredValueError(f"{name}: {word or 'is not allowed to be empty'}")
            return value
        if ch in ("#", "%"):
            greedy = word.startswith(ch)
            if greedy:
                word = word[1:]
            if ch == "%":
                return _trim_suffix(word, value, greedy=greedy)
            return _trim_prefix(word, value, greedy=greedy)
        raise ShellSyntaxError(f"unsupported modifier ({modifier}) in substitution")

    def replaced(self, name: str) -> str:
        """``${name/pattern/replacement}`` and ``${name//pattern/replacement}``."""
        everywhere = self.peek() == "/"
        if everywhere:
            self.pos += 1
        try:
            pattern, _ = self.stop_on("/", raw_escapes=True)
        except ShellSyntaxError:
            if not self.peek():
                raise ShellSyntaxError("syntax error: missing '/' in ${}") from None
            raise
        try:
            replacement, _ = self.stop_on("}", raw_escapes=True)
        except ShellSyntaxError:
            if not self.peek():
                raise ShellSyntaxError("syntax error: missing '}'") from None
            raise
        value, is_set = self.lookup(name)
        if self.lex.skip_unset and not is_set:
            return "${" + name + "/" + pattern + "/" + replacement + "}"
        regex = _pattern_regex(pattern, greedy=True, anchored=False)
        if everywhere:
            return _replace_all(regex, value, replacement)
        match = regex.search(value)
        if match is None:
            return value
        return value[: match.start()] + replacement + value[match.end() :]


@lru_cache(maxsize=512)
def _pattern_regex(pattern: str, *, greedy: bool, anchored: bool) -> re.Pattern[str]:
    """BuildKit's ``convertShellPatternToRegex``: ``*`` and ``?``, no bracket expressions."""
    out = ["^"] if anchored else []
    star = ".*" if greedy else ".*?"
    pos, end = 0, len(pattern)
    while pos < end:
        tok = pattern[pos]
        pos += 1
        if tok == "*":
            out.append(star)
            continue
        if tok == "?":
            out.append(".")
            continue
        if tok == "\\":
            if pos < end and pattern[pos] in "}/":
                continue  # \} and \/ belong to ${...}, not to the pattern
            tok = pattern[pos] if pos < end else ""
            pos += 1
            if tok not in ("*", "?", "\\"):
                raise ShellSyntaxError(
                    f"invalid pattern ({pattern}) in substitution: invalid escape '\\{tok}'"
                )
            out.append("\\" + tok)
            continue
        out.append("\\" + tok if tok in _REGEX_SPECIAL else tok)
    return re.compile("".join(out))


def _reverse_pattern(pattern: str) -> str:
    """Reverse a pattern keeping each ``\\x`` pair in order (``a\\*c`` -> ``c\\*a``)."""
    out = [""] * len(pattern)
    last = len(pattern) - 1
    pos = 0
    while pos <= last:
        tok = pattern[pos]
        index = last - pos
        if tok == "\\" and pos != last:
            out[index - 1] = tok
            out[index] = pattern[pos + 1]
            pos += 2
        else:
            out[index] = tok
            pos += 1
    return "".join(out)


def _trim_prefix(pattern: str, value: str, *, greedy: bool) -> str:
    match = _pattern_regex(pattern, greedy=greedy, anchored=True).search(value)
    return value[match.end() :] if match is not None else value


def _trim_suffix(pattern: str, value: str, *, greedy: bool) -> str:
    return _trim_prefix(_reverse_pattern(pattern), value[::-1], greedy=greedy)[::-1]


def _replace_all(regex: re.Pattern[str], value: str, template: str) -> str:
    """Go's ``Regexp.ReplaceAllString`` (an empty match right after a match is skipped)."""
    out: list[str] = []
    last_end = 0
    search = 0
    size = len(value)
    while search <= size:
        match = regex.search(value, search)
        if match is None:
            break
        start, stop = match.span()
        out.append(value[last_end:start])
        if stop > last_end or start == 0:
            out.append(_expand_template(template, match.group(0)))
        last_end = stop
        width = 1 if search < size else 0
        if search + width > stop:
            search += width
        elif search + 1 > stop:
            search += 1
        else:
            search = stop
    out.append(value[last_end:])
    return "".join(out)


def _expand_template(template: str, whole: str) -> str:
    """Go's ``Regexp.Expand`` for a pattern without groups: ``$0`` / ``${0}`` is the match."""
    if "$" not in template:
        return template
    out: list[str] = []
    rest = template
    while True:
        before, dollar, after = rest.partition("$")
        out.append(before)
        if not dollar:
            return "".join(out)
        if after.startswith("$"):
            out.append("$")
            rest = after[1:]
            continue
        name, remaining = _template_name(after)
        if name is None:
            out.append("$")
            rest = after
            continue
        if name == "0":
            out.append(whole)
        rest = remaining


def _template_name(text: str) -> tuple[str | None, str]:
    """Go's ``extract``: a name after ``$`` (optionally in braces) and the rest."""
    brace = text.startswith("{")
    body = text[1:] if brace else text
    size = 0
    while size < len(body) and _name_char(body[size]):
        size += 1
    if size == 0:
        return None, text
    name = body[:size]
    if brace:
        if size >= len(body) or body[size] != "}":
            return None, text
        size += 1
    return name, body[size:]
