"""Differential test: our lexer against BuildKit's own parser (the ``dockerfile`` binding).

The PyPI package ``dockerfile`` wraps BuildKit's ``parser.Parse`` (v0.12.5) compiled
from Go. On generated Dockerfile-like text both must agree on the instructions and
their first lines, the flags, the FROM and ARG words, and on which texts are syntax
errors. BuildKit v0.12 predates ``${v#p}``/``${v%p}``/``${v/p/r}``, so those are
not generated here (they only matter to heredoc detection). It also predates two
heredoc rules this module follows (BuildKit 0.22, Dockerfile frontend 1.16): the
blanks after ``<<`` stay in the heredoc word (``<< EOF`` is a heredoc) and an
unset name in it is kept (``<<$EOF`` ends at ``$EOF``); texts where those rules
decide are left out here and tested in ``test_buildkit_rules.py``.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from indexer.errors import DockerfileError
from indexer.parsing.dockerfile import (
    _INSTRUCTIONS,
    _WHITESPACE_RE,
    _arg_words,
    _extract_flags,
    _lex,
)
from tests.parsing.test_properties import PIECES

buildkit = pytest.importorskip("dockerfile")

#: a heredoc word where BuildKit 0.12 and today's BuildKit disagree
NEWER_HEREDOC_RULES = re.compile(r"<<-?[ \t\r]|<<[^\s<]*[$\\]")

KEYWORDS = [
    "FROM",
    "from",
    "ARG",
    "COPY",
    "RUN",
    "ADD",
    "ONBUILD",
    "USER",
    "ENV",
    "LABEL",
    "CMD",
    "HEALTHCHECK",
    "VOLUME",
    "SHELL",
    "EXPOSE",
]
OLD_BUILDKIT_PIECES = [piece for piece in PIECES if "#*" not in piece and "//" not in piece]
TOP = ["", "# escape=`\n", "#escape=\\\n", "\n# escape=`\n", "# syntax=x\n# escape=`\n"]

lines = st.lists(
    st.builds(
        lambda keyword, pieces: " ".join([keyword, *pieces]),
        st.sampled_from(KEYWORDS),
        st.lists(
            st.one_of(
                st.sampled_from(OLD_BUILDKIT_PIECES),
                st.text(alphabet=" \t\\`#<'\"$-=abEOF\r[]1", max_size=6),
            ),
            max_size=5,
        ),
    ),
    max_size=10,
)
texts = st.builds(
    lambda top, blocks: top + "\n".join(blocks),
    st.sampled_from(TOP),
    st.lists(
        st.one_of(lines.map("\n".join), st.sampled_from(["", "#c", "  ", "EOF", "\tEOT", "EOT"])),
        max_size=6,
    ),
)


def buildkit_parse(text: str) -> tuple[list[object] | None, str | None]:
    """BuildKit's instructions, or its error message."""
    try:
        return list(buildkit.parse_string(text)), None
    except buildkit.GoParseError as exc:
        return None, str(exc)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts)
def test_lexer_agrees_with_buildkit(text: str) -> None:
    assume(not NEWER_HEREDOC_RULES.search(text))
    theirs, their_error = buildkit_parse(text)
    try:
        escape, ours, _, _, _ = _lex(text, "Dockerfile")
        our_error = None
    except DockerfileError as exc:
        ours, our_error = [], str(exc)
    if their_error is not None:
        if "file with no instructions" in their_error:
            assert our_error is None and not ours
        else:
            assert our_error is not None, (their_error, text)
        return
    assert theirs is not None
    if our_error is not None:
        # BuildKit reports unknown instructions one step later (instructions.Parse)
        unknown = [c for c in theirs if c.cmd.lower() not in _INSTRUCTIONS]  # type: ignore[attr-defined]
        assert unknown, (our_error, text)
        assert f":{unknown[0].start_line}:" in our_error  # type: ignore[attr-defined]
        return
    assert [(c.cmd.lower(), c.start_line) for c in theirs] == [  # type: ignore[attr-defined]
        (keyword, line) for keyword, _, line, _ in ours
    ]
    for command, (keyword, rest, _, _) in zip(theirs, ours, strict=True):
        if keyword not in ("from", "copy", "run", "arg"):
            continue
        flags, remaining = _extract_flags(rest)
        assert list(command.flags) == flags  # type: ignore[attr-defined]
        if keyword == "from":
            words = tuple(_WHITESPACE_RE.split(remaining)) if remaining else ()
            assert command.value == words  # type: ignore[attr-defined]
        elif keyword == "arg":
            assert command.value == tuple(_arg_words(remaining, escape))  # type: ignore[attr-defined]
