"""Library file parser: stanzas, defaults, per-architecture overrides and validation."""

from __future__ import annotations

import pytest

from indexer.errors import LibraryFileError
from indexer.parsing.library_file import ArchBuild, LibraryFile, parse_library_file

COMMIT_A = "a" * 40
COMMIT_B = "b" * 40
COMMIT_C = "c" * 40
COMMIT_D = "d" * 40
COMMIT_64 = "e" * 64

HEADER = f"""\
Maintainers: Jane Doe <jane@example.com> (@jane),
             John Roe (@john)
GitRepo: https://github.com/example/docker-example.git
GitCommit: {COMMIT_A}
"""


def parse(text: str, name: str = "example") -> LibraryFile:
    """Parse a library file written for one test."""
    return parse_library_file(name, text)


def only_error(result: LibraryFile) -> LibraryFileError:
    """The single error a test expects."""
    assert len(result.errors) == 1, result.errors
    return result.errors[0]


# --- structure ----------------------------------------------------------------------------


def test_global_defaults_and_field_defaults() -> None:
    result = parse(HEADER + "\nTags: 1.2.3, 1.2, 1, latest\n")
    assert result.errors == ()
    assert result.name == "example"
    assert result.maintainers == ("Jane Doe <jane@example.com> (@jane)", "John Roe (@john)")
    (stanza,) = result.stanzas
    assert stanza.tags == ("1.2.3", "1.2", "1", "latest")
    assert stanza.shared_tags == ()
    assert stanza.architectures == ("amd64",)
    assert stanza.constraints == ()
    assert stanza.line == 6
    assert stanza.builds == (
        ArchBuild(
            architecture="amd64",
            git_repo="https://github.com/example/docker-example.git",
            git_fetch="refs/heads/master",
            git_commit=COMMIT_A,
            directory=".",
            file="Dockerfile",
            builder=None,
        ),
    )
    assert stanza.builds[0].dockerfile_path == "Dockerfile"


def test_stanza_fields_override_the_global_ones() -> None:
    text = (
        HEADER
        + "GitFetch: refs/heads/main\nBuilder: buildkit\nArchitectures: amd64, arm64v8\n\n"
        + f"Tags: 2\nGitRepo: https://github.com/example/other.git\nGitCommit: {COMMIT_B}\n"
        + "GitFetch: refs/tags/v2\nDirectory: 2/alpine\nFile: Dockerfile.alpine\n"
        + "Builder: classic\nArchitectures: s390x\n"
    )
    (stanza,) = parse(text).stanzas
    assert stanza.architectures == ("s390x",)
    assert stanza.builds == (
        ArchBuild(
            "s390x",
            "https://github.com/example/other.git",
            "refs/tags/v2",
            COMMIT_B,
            "2/alpine",
            "Dockerfile.alpine",
            "classic",
        ),
    )
    assert stanza.builds[0].dockerfile_path == "2/alpine/Dockerfile.alpine"


def test_global_architectures_and_builder_are_inherited() -> None:
    text = HEADER + "Architectures: amd64, arm32v7\nBuilder: oci-import\n\nTags: a\n"
    (stanza,) = parse(text).stanzas
    assert stanza.architectures == ("amd64", "arm32v7")
    assert [build.builder for build in stanza.builds] == ["oci-import", "oci-import"]


def test_comments_and_blank_lines() -> None:
    text = (
        "# a comment before anything\n\n\n"
        + HEADER
        + "  # an indented comment inside the global paragraph\n"
        + "\n# comment between paragraphs\n\n\n"
        + "Tags: a\n# a comment inside a stanza does not end it\nDirectory: a\n\n\n"
    )
    result = parse(text)
    assert result.errors == ()
    (stanza,) = result.stanzas
    assert stanza.builds[0].directory == "a"


def test_continuation_lines() -> None:
    text = (
        HEADER
        + "\nTags: 1.0.0,\n  1.0,\n\t1\nSharedTags: one,\n latest\nArchitectures: amd64,\n arm64v8\n"
    )
    (stanza,) = parse(text).stanzas
    assert stanza.tags == ("1.0.0", "1.0", "1")
    assert stanza.shared_tags == ("one", "latest")
    assert stanza.architectures == ("amd64", "arm64v8")


def test_crlf_and_byte_order_mark() -> None:
    text = "\ufeff" + (HEADER + "\nTags: a\nDirectory: d\n").replace("\n", "\r\n")
    result = parse(text)
    assert result.errors == ()
    assert result.stanzas[0].builds[0].directory == "d"


def test_header_only_file_is_valid_and_empty() -> None:
    result = parse("# deprecated image\n\n" + HEADER)
    assert result.errors == ()
    assert result.stanzas == ()
    assert result.maintainers


def test_constraints_and_shared_tags() -> None:
    text = (
        HEADER
        + "\nTags: ltsc2022\nSharedTags: windows, latest\nArchitectures: windows-amd64\n"
        + "Constraints: windowsservercore-ltsc2022, !aufs\n"
        + "\nTags: ltsc2025\nSharedTags: windows, latest\nArchitectures: windows-amd64\n"
    )
    result = parse(text)
    assert result.errors == ()
    first, second = result.stanzas
    assert first.constraints == ("windowsservercore-ltsc2022", "!aufs")
    assert first.shared_tags == second.shared_tags == ("windows", "latest")
    assert result.tags == ("ltsc2022", "ltsc2025")


def test_directory_is_kept_as_written() -> None:
    text = HEADER + "\nTags: a\nDirectory: ./1.20/x/\n"
    build = parse(text).stanzas[0].builds[0]
    assert build.directory == "./1.20/x/"
    assert build.dockerfile_path == "1.20/x/Dockerfile"


def test_sixty_four_digit_commit() -> None:
    text = HEADER + f"\nTags: a\nGitCommit: {COMMIT_64}\n"
    assert parse(text).stanzas[0].builds[0].git_commit == COMMIT_64


def test_build_for() -> None:
    text = HEADER + "\nTags: a\nArchitectures: amd64, i386\n"
    stanza = parse(text).stanzas[0]
    build = stanza.build_for("i386")
    assert build is not None
    assert build.architecture == "i386"
    assert stanza.build_for("s390x") is None


# --- per-architecture overrides ------------------------------------------------------------


def test_arch_overrides_in_the_global_paragraph() -> None:
    text = (
        HEADER
        + "amd64-GitFetch: refs/heads/dist-amd64\n"
        + f"amd64-GitCommit: {COMMIT_B}\n"
        + "\nTags: a\nArchitectures: amd64, arm64v8\nDirectory: a\n"
    )
    amd64, arm64v8 = parse(text).stanzas[0].builds
    assert (amd64.git_fetch, amd64.git_commit, amd64.directory) == (
        "refs/heads/dist-amd64",
        COMMIT_B,
        "a",
    )
    assert (arm64v8.git_fetch, arm64v8.git_commit) == ("refs/heads/master", COMMIT_A)


def test_arch_overrides_in_a_stanza_and_dashed_architecture() -> None:
    text = (
        HEADER
        + "\nTags: a\nArchitectures: amd64, windows-amd64\nDirectory: linux\n"
        + "windows-amd64-Directory: windows/servercore\n"
        + "windows-amd64-File: Dockerfile.windows\n"
        + "windows-amd64-Builder: classic\n"
        + "windows-amd64-GitRepo: https://github.com/example/windows.git\n"
    )
    amd64, windows = parse(text).stanzas[0].builds
    assert (amd64.directory, amd64.file, amd64.builder) == ("linux", "Dockerfile", None)
    assert windows == ArchBuild(
        "windows-amd64",
        "https://github.com/example/windows.git",
        "refs/heads/master",
        COMMIT_A,
        "windows/servercore",
        "Dockerfile.windows",
        "classic",
    )


def test_override_precedence_follows_bashbrew() -> None:
    # stanza <arch>-X  >  global <arch>-X  >  stanza X  >  global X  >  default
    text = (
        HEADER
        + f"amd64-GitCommit: {COMMIT_B}\n"
        + "i386-Directory: global-i386\n"
        + f"\nTags: a\nArchitectures: amd64, i386, s390x\nGitCommit: {COMMIT_C}\n"
        + f"i386-GitCommit: {COMMIT_D}\nDirectory: stanza\n"
    )
    amd64, i386, s390x = parse(text).stanzas[0].builds
    assert amd64.git_commit == COMMIT_B  # global amd64-GitCommit beats the stanza's GitCommit
    assert i386.git_commit == COMMIT_D  # the stanza's own i386-GitCommit beats everything
    assert s390x.git_commit == COMMIT_C  # the stanza's GitCommit beats the global one
    assert i386.directory == "global-i386"
    assert (amd64.directory, s390x.directory) == ("stanza", "stanza")


def test_empty_arch_override_in_a_stanza_cancels_the_global_one() -> None:
    text = HEADER + f"amd64-GitCommit: {COMMIT_B}\n\nTags: a\namd64-GitCommit:\n"
    assert parse(text).stanzas[0].builds[0].git_commit == COMMIT_A


def test_field_names_are_case_insensitive() -> None:
    text = HEADER + "\ntags: a\nDIRECTORY: d\namd64-file: F\n"
    build = parse(text).stanzas[0].builds[0]
    assert (build.directory, build.file) == ("d", "F")


def test_unknown_fields_are_ignored() -> None:
    text = HEADER + "\nTags: a\nX-Something: whatever\n"
    assert parse(text).errors == ()


# --- validation ---------------------------------------------------------------------------


def test_missing_maintainers() -> None:
    text = f"GitRepo: https://github.com/x/y.git\nGitCommit: {COMMIT_A}\n\nTags: a\n"
    result = parse(text)
    error = only_error(result)
    assert "Maintainers" in error.message
    assert (error.source, error.line) == ("example", 1)
    assert len(result.stanzas) == 1  # the stanzas themselves are fine


def test_invalid_maintainer_format() -> None:
    result = parse(HEADER.replace("(@john)", "john@example.com") + "\nTags: a\n")
    assert "invalid Maintainers" in only_error(result).message


def test_global_tags_are_not_allowed() -> None:
    result = parse(HEADER + "Tags: a\n\nTags: b\n")
    error = only_error(result)
    assert "global" in error.message
    assert error.line == 5
    assert [stanza.tags for stanza in result.stanzas] == [("b",)]


@pytest.mark.parametrize("tag", ["-a", ".a", "a b", "a/b", "é", "a" * 129, "a:b"])
def test_tag_grammar(tag: str) -> None:
    result = parse(HEADER + f"\nTags: {tag}\n\nTags: ok\n")
    assert len(result.errors) >= 1
    assert all(error.line == 6 for error in result.errors)
    assert [stanza.tags for stanza in result.stanzas] == [("ok",)]


def test_tag_defined_twice_in_two_stanzas() -> None:
    text = HEADER + "\nTags: 1, latest\n\nTags: 2, latest\n\nTags: 3\n"
    result = parse(text)
    error = only_error(result)
    assert "'latest' already defined" in error.message
    assert error.line == 8
    assert [stanza.tags[0] for stanza in result.stanzas] == ["1", "3"]


def test_tag_listed_twice_in_one_stanza() -> None:
    assert "listed twice" in only_error(parse(HEADER + "\nTags: a, b, a\n")).message


def test_tag_that_is_also_a_shared_tag() -> None:
    text = HEADER + "\nTags: 1\nSharedTags: latest\n\nTags: latest\n"
    result = parse(text)
    assert "shared tag" in only_error(result).message
    assert len(result.stanzas) == 1
    text = HEADER + "\nTags: latest\n\nTags: 1\nSharedTags: latest\n"
    assert "is a tag of stanza" in only_error(parse(text)).message
    text = HEADER + "\nTags: 1\nSharedTags: 1\n"
    assert "also a tag of this stanza" in only_error(parse(text)).message


def test_shared_tag_on_several_stanzas_is_fine() -> None:
    text = HEADER + "\nTags: 1\nSharedTags: s\n\nTags: 2\nSharedTags: s, s\n"
    result = parse(text)
    assert result.errors == ()
    assert result.stanzas[1].shared_tags == ("s",)


@pytest.mark.parametrize(
    "commit",
    ["abc123", "A" * 40, "g" * 40, "a" * 41, "a" * 63, "refs/tags/v1"],
)
def test_malformed_git_commit(commit: str) -> None:
    result = parse(HEADER + f"\nTags: a\nGitCommit: {commit}\n\nTags: b\n")
    error = only_error(result)
    assert "GitCommit" in error.message
    assert error.line == 7
    assert [stanza.tags for stanza in result.stanzas] == [("b",)]


@pytest.mark.parametrize("fetch", ["master", "refs/pull/1/head", "refs/heads/*", "refs/tags/"])
def test_malformed_git_fetch(fetch: str) -> None:
    result = parse(HEADER + f"\nTags: a\nGitFetch: {fetch}\n\nTags: b\n")
    assert "GitFetch" in only_error(result).message
    assert len(result.stanzas) == 1


def test_malformed_arch_git_commit() -> None:
    result = parse(HEADER + "\nTags: a\nArchitectures: amd64, s390x\ns390x-GitCommit: nope\n")
    error = only_error(result)
    assert "s390x-GitCommit" in error.message
    assert result.stanzas == ()


def test_malformed_global_value_is_reported_once_and_skips_its_users() -> None:
    text = (
        HEADER
        + "i386-GitCommit: nope\n\nTags: a\nArchitectures: i386\n\nTags: b\nArchitectures: amd64\n"
    )
    result = parse(text)
    assert len(result.errors) == 2
    assert result.errors[0].line == 5  # the global field itself
    assert "inherits the invalid i386-GitCommit" in result.errors[1].message
    assert [stanza.tags for stanza in result.stanzas] == [("b",)]


def test_invalid_builder() -> None:
    assert "Builder" in only_error(parse(HEADER + "\nTags: a\nBuilder: docker\n")).message


def test_missing_tags_repo_and_commit() -> None:
    assert "no Tags" in only_error(parse(HEADER + "\nDirectory: a\n")).message
    text = "Maintainers: Jane (@jane)\n\nTags: a\n"
    result = parse(text)
    assert sorted(error.message.split(" has ")[1] for error in result.errors) == [
        "no GitCommit",
        "no GitRepo",
    ]


def test_syntax_errors_skip_only_their_stanza() -> None:
    text = (
        HEADER + "\nTags: a\nthis line has no colon\n\n  orphan continuation\nTags: b\n\nTags: c\n"
    )
    result = parse(text)
    assert [error.line for error in result.errors] == [7, 9]
    assert [stanza.tags for stanza in result.stanzas] == [("c",)]


def test_repeated_field_in_a_stanza() -> None:
    result = parse(HEADER + "\nTags: a\nDirectory: x\nDirectory: y\n")
    assert "repeated" in only_error(result).message
    assert result.stanzas == ()


def test_every_problem_is_reported() -> None:
    text = HEADER + "\nTags: a, a\nGitFetch: bad\nBuilder: bad\n"
    assert len(parse(text).errors) == 3


def test_empty_text() -> None:
    result = parse("")
    assert result.stanzas == ()
    assert len(result.errors) == 1
