"""Property tests: on any text the parsers raise nothing but their own typed errors."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.errors import DockerfileError, LibraryFileError
from indexer.parsing import parse_library_file, resolve_build, resolve_dockerfile
from indexer.parsing.shell_lex import ShellLex, ShellSyntaxError

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- Dockerfile-like text ---------------------------------------------------------------

KEYWORDS = ["FROM", "from", "ARG", "COPY", "RUN", "ADD", "ONBUILD", "ENV", "LABEL", "FORM", ""]
PIECES = [
    "alpine",
    "debian:bookworm",
    "AS",
    "as",
    "build",
    "0",
    "1",
    "--from=",
    "--from=build",
    "--from=0",
    "--platform=$BUILDPLATFORM",
    "--mount=type=bind,from=",
    '--mount="from=x"',
    "$",
    "${",
    "}",
    "${A:-b}",
    "${A-",
    "${A:+x}",
    "${A#*-}",
    "${A//a/b}",
    "$TARGETARCH",
    "A=",
    "A=1",
    '"',
    "'",
    "\\",
    "`",
    "<<EOF",
    "<<-'EOT'",
    "EOF",
    "EOT",
    "[",
    '["a"]',
    "#",
    "# escape=`",
    "# syntax=x",
    "@sha256:" + "a" * 64,
    "scratch",
    "\t",
    " ",
    "\ufeff",
    "\r",
]

dockerfile_lines = st.lists(
    st.builds(
        lambda keyword, pieces: " ".join([keyword, *pieces]),
        st.sampled_from(KEYWORDS),
        st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), max_size=5),
    ),
    max_size=12,
)
dockerfile_text = st.one_of(
    st.text(),
    dockerfile_lines.map("\n".join),
    st.builds(
        lambda prefix, lines: prefix + "\r\n".join(lines), st.sampled_from(PIECES), dockerfile_lines
    ),
)
architectures = st.one_of(
    st.none(), st.sampled_from(["amd64", "arm64v8", "windows-amd64", "linux/arm/v7", "bogus"])
)


@SETTINGS
@given(
    text=dockerfile_text,
    architecture=architectures,
    build_args=st.dictionaries(st.sampled_from(["A", "TAG", "TARGETARCH"]), st.text(max_size=5)),
)
def test_resolver_raises_only_dockerfile_errors(
    text: str, architecture: str | None, build_args: dict[str, str]
) -> None:
    try:
        result = resolve_dockerfile(text, build_args=build_args, architecture=architecture)
    except DockerfileError as exc:
        assert exc.line >= 0
        return
    assert result.stages
    assert result.parent == result.stages[-1].base
    assert len(result.froms) >= len(result.stages)


@SETTINGS
@given(
    builder=st.sampled_from([None, "buildkit", "classic", "oci-import"]),
    text=st.one_of(st.none(), dockerfile_text),
)
def test_resolve_build_raises_only_dockerfile_errors(builder: str | None, text: str | None) -> None:
    try:
        result = resolve_build(builder, text)
    except DockerfileError:
        assert builder != "oci-import"
        return
    if builder == "oci-import":
        assert (result.parent, result.froms) == ("scratch", ("scratch",))


images = st.sampled_from(["alpine", "debian:bookworm-slim", "mcr.microsoft.com/windows:ltsc2022"])


@SETTINGS
@given(
    bases=st.lists(images, min_size=1, max_size=5),
    comment=st.sampled_from(["", "# comment\n", "\n\n"]),
)
def test_crlf_comments_and_bom_do_not_change_the_answer(bases: list[str], comment: str) -> None:
    text = "".join(
        f"FROM {base} AS s{index}\n{comment}RUN echo \\\n  hi\n" for index, base in enumerate(bases)
    )
    expected = resolve_dockerfile(text)
    assert resolve_dockerfile("\ufeff" + text.replace("\n", "\r\n")) == expected
    assert expected.parent == expected.stages[-1].base
    assert len(expected.stages) == len(bases)


words = st.text(alphabet="${}:-+?#%/*\\'\"`ab <\t[]", max_size=20)


@SETTINGS
@given(
    word=words,
    env=st.dictionaries(st.sampled_from(["a", "b", "ab"]), st.text(alphabet="ab*?/", max_size=4)),
    escape=st.sampled_from(["\\", "`"]),
    raw=st.booleans(),
)
def test_shell_lexer_raises_only_its_syntax_error(
    word: str, env: dict[str, str], escape: str, raw: bool
) -> None:
    lex = ShellLex(escape, raw_quotes=raw, raw_escapes=raw, skip_unset=raw, heredocs=raw)
    try:
        processed = lex.process(word, env)
    except ShellSyntaxError:
        return
    assert processed.matched <= set(env)
    assert not processed.unmatched & set(env)
    if "$" not in word and "'" not in word and '"' not in word and escape not in word:
        assert processed.result == word


# --- library-file-like text -------------------------------------------------------------

FIELDS = [
    "Maintainers",
    "Tags",
    "SharedTags",
    "Architectures",
    "GitRepo",
    "GitFetch",
    "GitCommit",
    "Directory",
    "File",
    "Builder",
    "Constraints",
    "amd64-GitCommit",
    "windows-amd64-Directory",
    "arm64v8-Builder",
    "x-",
    "-GitRepo",
]
VALUES = [
    "Jane (@jane)",
    "a, b, latest",
    "amd64, arm64v8",
    "https://github.com/x/y.git",
    "refs/heads/main",
    "a" * 40,
    "e" * 64,
    "nope",
    "buildkit",
    "oci-import",
    ".",
    "",
    ",",
]
library_lines = st.lists(
    st.one_of(
        st.builds(
            lambda field, value: f"{field}: {value}",
            st.sampled_from(FIELDS),
            st.one_of(st.sampled_from(VALUES), st.text(max_size=8)),
        ),
        st.sampled_from(["", "  continued,", "\tmore", "# comment", "no colon", " ", "\r"]),
        st.text(max_size=10),
    ),
    max_size=25,
)
library_text = st.one_of(st.text(), library_lines.map("\n".join))


@SETTINGS
@given(text=library_text, name=st.text(max_size=10))
def test_library_parser_never_raises(text: str, name: str) -> None:
    result = parse_library_file(name, text)
    line_count = text.count("\n") + 1
    for error in result.errors:
        assert isinstance(error, LibraryFileError)
        assert error.source == name
        assert 1 <= error.line <= line_count
    seen: set[str] = set()
    for stanza in result.stanzas:
        assert stanza.tags
        assert [build.architecture for build in stanza.builds] == list(stanza.architectures)
        assert all(build.git_repo and build.git_commit for build in stanza.builds)
        assert not seen & set(stanza.tags)
        seen.update(stanza.tags)
