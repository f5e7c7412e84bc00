"""Dockerfile resolver: one small Dockerfile per rule of Docker's reference."""

from __future__ import annotations

import pytest

from indexer.errors import DockerfileError, UnresolvedReferenceError
from indexer.parsing.dockerfile import (
    DockerfileResolution,
    Stage,
    platform_args,
    resolve_build,
    resolve_dockerfile,
)


def resolve(text: str, **options: object) -> DockerfileResolution:
    """Resolve a Dockerfile written for one test."""
    return resolve_dockerfile(text, **options)  # type: ignore[arg-type]


def froms(text: str, **options: object) -> tuple[str, ...]:
    """Only the external images."""
    return resolve(text, **options).froms


# --- FROM, stages, scratch ----------------------------------------------------------------


def test_single_from_is_normalised() -> None:
    result = resolve("FROM docker.io/library/debian\n")
    assert result.parent == "debian:latest"
    assert result.froms == ("debian:latest",)
    assert result.stages == (Stage(index=0, name=None, base="debian:latest", line=1),)


def test_other_registries_and_digests_are_kept() -> None:
    text = (
        "FROM mcr.microsoft.com/windows/servercore:ltsc2022 AS win\n"
        "FROM debian:bookworm@sha256:" + "a" * 64 + "\n"
    )
    assert froms(text) == (
        "mcr.microsoft.com/windows/servercore:ltsc2022",
        "debian:bookworm@sha256:" + "a" * 64,
    )


def test_scratch() -> None:
    result = resolve("FROM scratch\nADD rootfs.tar.xz /\n")
    assert result.parent == "scratch"
    assert result.froms == ("scratch",)


def test_multi_stage_parent_is_the_last_stage() -> None:
    text = "FROM golang:1.22 AS build\nRUN go build\nFROM alpine:3.20\nCOPY --from=build /x /x\n"
    result = resolve(text)
    assert result.parent == "alpine:3.20"
    assert [stage.name for stage in result.stages] == ["build", None]
    assert result.froms == ("golang:1.22", "alpine:3.20", "golang:1.22")


def test_from_naming_an_earlier_stage_resolves_to_its_base() -> None:
    text = "FROM ubuntu:22.04 AS base\nRUN true\nFROM base AS second\nFROM second\n"
    result = resolve(text)
    assert result.parent == "ubuntu:22.04"
    assert [stage.base for stage in result.stages] == ["ubuntu:22.04"] * 3
    assert [stage.parent_stage for stage in result.stages] == [None, 0, 1]
    assert result.froms == ("ubuntu:22.04",) * 3


def test_stage_names_are_lower_cased_and_matched_exactly() -> None:
    result = resolve("FROM alpine AS Builder\nFROM builder\n")
    assert result.stages[0].name == "builder"
    assert result.parent == "alpine:latest"
    assert [warning.rule for warning in result.warnings] == ["StageNameCasing"]


def test_stage_names_only_count_once_defined() -> None:
    # "later" is an image here: the stage of that name comes after the FROM naming it
    result = resolve("FROM later\nFROM alpine AS later\n")
    assert result.froms == ("later:latest", "alpine:latest")


def test_instructions_and_as_are_case_insensitive() -> None:
    result = resolve("from alpine:3.20 as build\nFrOm build\ncopy --from=build /a /b\n")
    assert result.parent == "alpine:3.20"
    assert result.froms == ("alpine:3.20",) * 3


def test_from_platform_flag_is_ignored_but_kept() -> None:
    text = "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM alpine\n"
    result = resolve(text, architecture="amd64")
    assert result.froms == ("golang:1.22", "alpine:latest")
    assert result.stages[0].platform == "$BUILDPLATFORM"


@pytest.mark.parametrize(
    "text",
    [
        "FROM\n",
        "FROM a b\n",
        "FROM a AS\n",
        "FROM a AS b c\n",
        "FROM a IS b\n",
    ],
)
def test_from_argument_count(text: str) -> None:
    with pytest.raises(DockerfileError, match="one or three arguments"):
        resolve(text)


def test_invalid_stage_name() -> None:
    with pytest.raises(DockerfileError, match="invalid name for build stage") as caught:
        resolve("FROM alpine AS 1st\n")
    assert caught.value.line == 1


def test_unknown_from_flag() -> None:
    with pytest.raises(DockerfileError, match="unknown flag: plattform"):
        resolve("FROM --plattform=linux/amd64 alpine\n")


def test_invalid_reference_is_a_dockerfile_error_with_line() -> None:
    with pytest.raises(DockerfileError, match="invalid image reference") as caught:
        resolve("FROM alpine\nFROM Alpine:3\n", source="x/Dockerfile")
    assert caught.value.line == 2
    assert caught.value.source == "x/Dockerfile"


def test_no_from_at_all() -> None:
    with pytest.raises(DockerfileError, match="no build stage"):
        resolve("ARG A=1\n")
    with pytest.raises(DockerfileError):
        resolve("")


def test_instruction_before_first_from() -> None:
    with pytest.raises(DockerfileError, match="no build stage in current context") as caught:
        resolve("ARG X=1\nRUN true\nFROM alpine\n")
    assert caught.value.line == 2


def test_unknown_instruction() -> None:
    with pytest.raises(DockerfileError, match="unknown instruction: FORM") as caught:
        resolve("FROM alpine\n\nFORM alpine\n")
    assert caught.value.line == 3


# --- COPY --from and RUN --mount --------------------------------------------------------


def test_copy_from_stage_by_name_and_by_index_is_not_an_image() -> None:
    text = (
        "FROM maven:3.9 AS maven_upstream\n"
        "FROM eclipse-temurin:21\n"
        "COPY --from=maven_upstream /usr/share/maven /usr/share/maven\n"
        "COPY --from=0 /a /b\n"
    )
    result = resolve(text)
    assert result.parent == "eclipse-temurin:21"
    assert result.froms == ("maven:3.9", "eclipse-temurin:21", "maven:3.9", "maven:3.9")


def test_copy_from_an_image() -> None:
    text = "FROM php:8.3\nCOPY --from=composer:2 /usr/bin/composer /usr/bin/\n"
    assert froms(text) == ("php:8.3", "composer:2")


def test_copy_from_with_other_flags_and_quotes() -> None:
    text = 'FROM php\nCOPY --chown=www:www --from="composer:2" --link /a /b\n'
    assert froms(text) == ("php:latest", "composer:2")


def test_copy_from_stage_defined_later_is_a_stage() -> None:
    text = "FROM alpine AS first\nCOPY --from=second /a /b\nFROM debian AS second\n"
    assert froms(text) == ("alpine:latest", "debian:latest", "debian:latest")


def test_copy_from_invalid_index() -> None:
    with pytest.raises(DockerfileError, match="invalid stage index 3"):
        resolve("FROM alpine\nCOPY --from=3 /a /b\n")


def test_copy_from_own_stage_is_a_cycle() -> None:
    with pytest.raises(DockerfileError, match="circular dependency"):
        resolve("FROM alpine AS a\nCOPY --from=a /x /y\n")


def test_copy_from_cycle_through_two_stages() -> None:
    text = "FROM alpine AS a\nCOPY --from=b /x /y\nFROM busybox AS b\nCOPY --from=a /x /y\n"
    with pytest.raises(DockerfileError, match="circular dependency"):
        resolve(text)


def test_copy_from_twice_is_an_error() -> None:
    with pytest.raises(DockerfileError, match="Duplicate flag"):
        resolve("FROM alpine\nCOPY --from=a --from=b /x /y\n")


def test_copy_without_from_uses_nothing() -> None:
    assert froms("FROM alpine\nCOPY --chown=1 a b\nCOPY a b\n") == ("alpine:latest",)


def test_run_mount_from_image_and_stage() -> None:
    text = (
        "FROM golang:1.22 AS build\n"
        "FROM alpine:3.20\n"
        "RUN --mount=type=bind,from=build,source=/go,target=/go \\\n"
        "    --mount=type=cache,target=/root/.cache \\\n"
        "    --mount=from=busybox:1.36,target=/bb true\n"
    )
    result = resolve(text)
    assert result.parent == "alpine:3.20"
    assert result.froms == ("golang:1.22", "alpine:3.20", "golang:1.22", "busybox:1.36")


def test_run_mount_csv_quoting() -> None:
    text = 'FROM alpine\nRUN --mount="type=bind,from=busybox,target=/a" true\n'
    assert froms(text) == ("alpine:latest", "busybox:latest")


def test_run_tmpfs_mount_is_not_an_image() -> None:
    assert froms("FROM alpine\nRUN --mount=type=tmpfs,target=/t true\n") == ("alpine:latest",)


def test_onbuild_copy_from_is_not_used_by_this_build() -> None:
    assert froms("FROM alpine\nONBUILD COPY --from=busybox /a /b\n") == ("alpine:latest",)


# --- parser directives, BOM, CRLF -----------------------------------------------------------


def test_escape_directive_backtick_continues_lines() -> None:
    text = "# escape=`\nFROM mcr.microsoft.com/windows/nanoserver:ltsc2022 `\n    AS base\n"
    result = resolve(text)
    assert result.stages[0].name == "base"
    assert result.parent == "mcr.microsoft.com/windows/nanoserver:ltsc2022"


def test_with_backtick_escape_a_backslash_is_ordinary() -> None:
    text = "# escape=`\nFROM alpine\nRUN dir c:\\\nFROM busybox\n"
    assert resolve(text).parent == "busybox:latest"


def test_directives_only_at_the_top() -> None:
    # after an instruction, "# escape=`" is a comment and backslash still continues
    text = "FROM alpine\n# escape=`\nRUN echo \\\n  hi\nFROM busybox\n"
    assert resolve(text).parent == "busybox:latest"


def test_directive_after_a_blank_line_is_a_comment() -> None:
    text = "\n# escape=`\nFROM alpine \\\n  AS a\n"
    assert resolve(text).stages[0].name == "a"


def test_directive_after_an_ordinary_comment_is_a_comment() -> None:
    text = "# hello\n# escape=`\nFROM alpine \\\n  AS a\n"
    assert resolve(text).stages[0].name == "a"


def test_syntax_and_check_directives_are_accepted() -> None:
    text = "# syntax=docker/dockerfile:1\n#check=skip=all\n# Escape = `\nFROM alpine `\n AS a\n"
    assert resolve(text).stages[0].name == "a"


def test_repeated_directive_is_an_error() -> None:
    with pytest.raises(DockerfileError, match="only one escape") as caught:
        resolve("# escape=`\n# escape=\\\nFROM alpine\n")
    assert caught.value.line == 2


def test_invalid_escape_token() -> None:
    with pytest.raises(DockerfileError, match="invalid escape token"):
        resolve("# escape=x\nFROM alpine\n")


def test_byte_order_mark() -> None:
    assert resolve("\ufeff# escape=`\nFROM alpine `\n AS a\n").stages[0].name == "a"


def test_crlf_line_ends() -> None:
    text = "FROM alpine AS a\r\nRUN echo \\\r\n  hi\r\nFROM a\r\n"
    result = resolve(text)
    assert result.parent == "alpine:latest"
    assert [stage.line for stage in result.stages] == [1, 4]


# --- continuation lines, comments --------------------------------------------------------


def test_continuation_with_trailing_blanks_after_the_escape() -> None:
    assert resolve("FROM \\  \t\n  alpine:3.20 \\ \n  AS a\n").stages[0].name == "a"


def test_comment_and_empty_lines_inside_a_continuation() -> None:
    text = "FROM alpine \\\n# a comment\n\n   # indented comment\n  AS a\nFROM a\n"
    result = resolve(text)
    assert result.stages[0].name == "a"
    assert result.stages[1].line == 6


def test_escaped_escape_character_at_line_end_does_not_continue() -> None:
    # BuildKit: ([^\\])\\[ \t]*$ -- "a\\\\" ends the line, "a \\" continues it
    text = "FROM alpine\nRUN echo a\\\\\nFROM busybox\n"
    assert resolve(text).froms == ("alpine:latest", "busybox:latest")


def test_a_lone_escape_character_continues() -> None:
    assert resolve("FROM alpine\nRUN true \\\n\\\nFROM busybox\n").froms == ("alpine:latest",)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("RUN [1]", "arrays must be comprised of strings only"),
        ('COPY --chown=1 ["a", 2] /b', "arrays must be comprised of strings only"),
        ("HEALTHCHECK CMD [null]", "arrays must be comprised of strings only"),
        ("ONBUILD ENTRYPOINT [[]]", "arrays must be comprised of strings only"),
        ("ENV NAME", "ENV must have two arguments"),
        ("LABEL a=1 b", "can't find = in 'b'"),
        ("ONBUILD LABEL x", "LABEL must have two arguments"),
    ],
)
def test_parse_time_syntax_errors(line: str, message: str) -> None:
    with pytest.raises(DockerfileError, match=message) as caught:
        resolve(f"FROM alpine\n{line}\n")
    assert caught.value.line == 2


def test_json_form_and_name_value_forms_that_are_fine() -> None:
    text = 'FROM alpine\nRUN ["a", "b"] trailing\nRUN [not json\nENV A 1 2\nENV A=1 B="2 3"\n'
    assert resolve(text).parent == "alpine:latest"


def test_continuation_at_end_of_file() -> None:
    assert resolve("FROM alpine \\\n").parent == "alpine:latest"


def test_hash_inside_an_instruction_is_not_a_comment() -> None:
    assert resolve("FROM alpine\nRUN echo a # not a comment\n").parent == "alpine:latest"


def test_from_inside_a_continued_run_is_not_an_instruction() -> None:
    text = "FROM alpine\nRUN echo \\\nFROM busybox\n"
    assert resolve(text).froms == ("alpine:latest",)


def test_line_numbers_count_every_physical_line() -> None:
    text = "# syntax=docker/dockerfile:1\n\nFROM alpine \\\n  AS a\n# c\nFROM a\n"
    assert [stage.line for stage in resolve(text).stages] == [3, 6]


# --- heredocs -----------------------------------------------------------------------------


def test_nothing_inside_a_heredoc_is_an_instruction() -> None:
    text = "FROM alpine\nRUN <<EOF\nFROM busybox\nCOPY --from=nginx /a /b\nEOF\nFROM debian\n"
    assert resolve(text).froms == ("alpine:latest", "debian:latest")


def test_heredoc_with_dash_strips_leading_tabs_of_the_terminator() -> None:
    text = "FROM alpine\nRUN <<-EOT\n\tFROM busybox\n\tEOT\nFROM debian\n"
    assert resolve(text).froms == ("alpine:latest", "debian:latest")


def test_heredoc_without_dash_needs_an_exact_terminator() -> None:
    text = "FROM alpine\nRUN <<EOT\n\tEOT\nFROM busybox\nEOT\nFROM debian\n"
    assert resolve(text).froms == ("alpine:latest", "debian:latest")


def test_quoted_heredoc_name_and_several_heredocs() -> None:
    text = (
        "FROM alpine\n"
        "COPY <<'ONE' <<\"TWO\" /dest/\n"
        "FROM busybox\n"
        "ONE\n"
        "FROM nginx\n"
        "TWO\n"
        "FROM debian\n"
    )
    assert resolve(text).froms == ("alpine:latest", "debian:latest")


def test_heredoc_in_add_and_after_flags() -> None:
    text = "FROM alpine\nADD --chmod=755 <<EOF /x\nFROM busybox\nEOF\nFROM debian\n"
    assert resolve(text).froms == ("alpine:latest", "debian:latest")


def test_heredoc_behind_onbuild() -> None:
    text = "FROM alpine\nONBUILD RUN <<EOF\nFROM busybox\nEOF\nFROM debian\n"
    assert resolve(text).froms == ("alpine:latest", "debian:latest")


def test_heredoc_opened_in_a_continued_line() -> None:
    text = "FROM alpine\nRUN \\\n  cat <<EOF > /x\nFROM busybox\nEOF\nFROM debian\n"
    assert resolve(text).froms == ("alpine:latest", "debian:latest")


def test_no_heredoc_in_other_instructions_quotes_or_json_form() -> None:
    text = (
        "FROM alpine\n"
        'LABEL a="<<EOF"\n'
        "RUN echo '<<EOF'\n"
        'RUN ["sh", "-c", "cat <<EOF"]\n'
        "RUN echo a<<EOF\n"
        "FROM busybox\n"
    )
    assert resolve(text).froms == ("alpine:latest", "busybox:latest")


def test_unterminated_heredoc() -> None:
    with pytest.raises(DockerfileError, match="unterminated heredoc") as caught:
        resolve("FROM alpine\nRUN <<EOF\necho hi\n")
    assert caught.value.line == 2


# --- ARG and expansion ------------------------------------------------------------------


def test_global_arg_feeds_from() -> None:
    text = "ARG VERSION=3.20\nFROM alpine:$VERSION\nFROM alpine:${VERSION}-slim\n"
    assert froms(text) == ("alpine:3.20", "alpine:3.20-slim")


def test_arg_default_using_earlier_arg() -> None:
    text = "ARG SUITE=bookworm\nARG IMAGE=debian:${SUITE}-slim\nFROM $IMAGE\n"
    assert resolve(text).parent == "debian:bookworm-slim"


def test_quoted_arg_defaults() -> None:
    text = 'ARG A="3.20"\nARG B=\'x\'\nARG C="a b"\nFROM alpine:$A\nFROM alpine:${B}y\n'
    assert froms(text) == ("alpine:3.20", "alpine:xy")


def test_several_args_on_one_line() -> None:
    assert resolve("ARG A=alpine B=3.20\nFROM $A:$B\n").parent == "alpine:3.20"


def test_only_args_before_the_first_from_feed_from() -> None:
    text = "FROM alpine AS a\nARG V=3.20\nFROM alpine:${V:-3.19}\n"
    assert resolve(text).parent == "alpine:3.19"


def test_build_args_replace_declared_defaults() -> None:
    text = "ARG TAG=3.19\nFROM alpine:$TAG\n"
    assert resolve(text, build_args={"TAG": "3.20"}).parent == "alpine:3.20"


def test_build_args_give_a_value_to_a_bare_arg() -> None:
    assert resolve("ARG TAG\nFROM alpine:$TAG\n", build_args={"TAG": "3"}).parent == "alpine:3"


def test_build_args_for_undeclared_names_are_not_used() -> None:
    # BuildKit: a build arg reaches FROM only through a declared ARG; TAG is "" here
    with pytest.raises(DockerfileError, match="invalid image reference 'alpine:'"):
        resolve("FROM alpine:$TAG\n", build_args={"TAG": "3"})


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("${SET:-w}", "v"),
        ("${EMPTY:-w}", "w"),
        ("${UNSET:-w}", "w"),
        ("${SET-w}", "v"),
        ("${EMPTY-w}x", "x"),
        ("${UNSET-w}", "w"),
        ("${SET:+w}", "w"),
        ("x${EMPTY:+w}", "x"),
        ("x${UNSET:+w}", "x"),
        ("${SET+w}", "w"),
        ("${EMPTY+w}", "w"),
        ("x${UNSET+w}", "x"),
        ("${UNSET:-${SET}}", "v"),
        ("${SET:-$UNSET}", "v"),
        ("${UNSET:+$NOPE}", ""),
        ("${UNSET+$NOPE}", ""),
        ("${LONG#*-}", "b-c"),
        ("${LONG##*-}", "c"),
        ("${LONG%-*}", "a-b"),
        ("${LONG%%-*}", "a"),
        ("${LONG/-/_}", "a_b-c"),
        ("${LONG//-/_}", "a_b_c"),
        ('"$SET"', "v"),
        ("'x'", "x"),
    ],
)
def test_substitution_forms(expression: str, expected: str) -> None:
    text = f"ARG SET=v\nARG EMPTY=\nARG LONG=a-b-c\nFROM img:x{expression}\n"
    assert resolve(text).parent == f"img:x{expected}"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [("'$SET'", "$SET"), ("\\$SET", "$SET"), ("a$", "a$"), ('"\\$SET"', "$SET")],
)
def test_literal_dollar_survives_expansion(expression: str, expected: str) -> None:
    # a "$" is no valid tag character: the error shows what the expansion produced
    with pytest.raises(DockerfileError, match="invalid image reference") as caught:
        resolve(f"ARG SET=v\nFROM img:x{expression}\n")
    assert f"'img:x{expected}'" in str(caught.value)


def test_arg_without_value_expands_to_nothing_like_buildkit() -> None:
    # the empty tag makes "alpine:" an invalid reference, as in BuildKit
    with pytest.raises(DockerfileError, match="invalid image reference 'alpine:'") as caught:
        resolve("ARG VERSION\nFROM alpine:$VERSION\n", source="Dockerfile.x")
    assert caught.value.line == 2
    assert caught.value.source == "Dockerfile.x"


def test_undeclared_variable_is_empty_and_warned() -> None:
    result = resolve("FROM alpine${NOPE}\n")
    assert result.parent == "alpine:latest"
    assert [(w.rule, w.line) for w in result.warnings] == [("UndefinedArgInFrom", 1)]


@pytest.mark.parametrize("expression", ["${UNSET:-$NOPE}", "${SET:+$NOPE}", "${SET+${NOPE}}"])
def test_a_substitution_word_uses_its_names_even_when_empty(expression: str) -> None:
    result = resolve(f"ARG SET=v\nFROM img:x{expression}\n")
    assert result.parent == "img:x"
    assert "FROM argument 'NOPE' is not declared" in [w.message for w in result.warnings]


def test_arg_built_from_a_valueless_arg() -> None:
    assert resolve("ARG A\nARG B=3.$A\nFROM alpine:$B\n").parent == "alpine:3."


def test_default_resolves_an_arg_without_value() -> None:
    assert resolve("ARG A\nFROM alpine:${A:-3.20}\n").parent == "alpine:3.20"


def test_question_mark_modifier_is_unresolved_with_its_message() -> None:
    with pytest.raises(UnresolvedReferenceError, match="TAG: required"):
        resolve("ARG TAG\nFROM alpine:${TAG:?required}\n")


def test_required_arg_in_a_default_stops_the_build() -> None:
    with pytest.raises(UnresolvedReferenceError, match="give VERSION") as caught:
        resolve('ARG VERSION\nARG TAG="${VERSION:?give VERSION}"\nFROM alpine\n')
    assert caught.value.line == 2
    text = "ARG VERSION\nARG TAG=${VERSION:?required}\nFROM alpine:$TAG\n"
    assert resolve(text, build_args={"VERSION": "3"}).parent == "alpine:3"


@pytest.mark.parametrize("word", ["${", "${}", "${A", "${A:-x", "${A:x}", "'x", '"x'])
def test_bad_substitution_syntax(word: str) -> None:
    with pytest.raises(DockerfileError) as caught:
        resolve(f"ARG A=1\nFROM alpine:{word}\n")
    assert not isinstance(caught.value, UnresolvedReferenceError)
    assert caught.value.line == 2


def test_arg_requires_an_argument() -> None:
    with pytest.raises(DockerfileError, match="ARG requires"):
        resolve("ARG\nFROM alpine\n")


def test_empty_base_name() -> None:
    with pytest.raises(DockerfileError, match="should not be blank"):
        resolve('ARG A=""\nFROM $A\n')


def test_escape_token_applies_to_expansion() -> None:
    with pytest.raises(DockerfileError) as caught:
        resolve("# escape=`\nARG A=x\nFROM img:`$A$A\n")
    assert "'img:$Ax'" in str(caught.value)
    with pytest.raises(DockerfileError) as caught:
        resolve("# escape=`\nARG A=x\nFROM img:\\$A\n")  # a backslash is ordinary here
    assert "'img:\\\\x'" in str(caught.value)


def test_from_with_stage_name_from_arg() -> None:
    text = "ARG BASE=build\nFROM alpine AS build\nFROM $BASE\n"
    assert resolve(text).stages[1].parent_stage == 0


def test_copy_from_takes_no_variables_even_declared_in_the_stage() -> None:
    text = "ARG IMG=composer:1\nFROM php\nARG IMG\nCOPY --from=$IMG /a /b\n"
    with pytest.raises(DockerfileError, match="variable expansion is not supported for --from"):
        resolve(text)


# --- platform ARGs ------------------------------------------------------------------------


def test_platform_args_from_bashbrew_architecture() -> None:
    text = "FROM --platform=$BUILDPLATFORM alpine AS a\nFROM arm64v8/busybox:$TARGETARCH-$TARGETVARIANT\n"
    assert resolve(text, architecture="arm64v8").parent == "arm64v8/busybox:arm64-v8"


@pytest.mark.parametrize(
    ("architecture", "tag", "platform"),
    [
        ("amd64", "linux-amd64-", "linux/amd64"),
        ("arm32v7", "linux-arm-v7", "linux/arm/v7"),
        ("i386", "linux-386-", "linux/386"),
        ("windows-amd64", "windows-amd64-", "windows/amd64"),
        ("linux/ppc64le", "linux-ppc64le-", "linux/ppc64le"),
    ],
)
def test_platform_arg_values(architecture: str, tag: str, platform: str) -> None:
    text = "FROM x:${TARGETOS}-${BUILDARCH}-${TARGETVARIANT}\n"
    assert resolve(text, architecture=architecture).parent == f"x:{tag}"
    assert platform_args(architecture)["TARGETPLATFORM"] == platform
    assert platform_args(architecture)["BUILDPLATFORM"] == platform


def test_platform_args_without_architecture_are_unresolved() -> None:
    with pytest.raises(UnresolvedReferenceError, match="TARGETARCH"):
        resolve("FROM busybox:$TARGETARCH\n")
    assert platform_args(None) == {}
    assert platform_args("no-such-arch") == {}


def test_bare_global_arg_does_not_clear_a_platform_arg() -> None:
    text = "ARG TARGETARCH\nFROM busybox:$TARGETARCH\n"
    assert resolve(text, architecture="s390x").parent == "busybox:s390x"


def test_build_args_override_platform_args() -> None:
    text = "FROM busybox:$TARGETARCH\n"
    assert resolve(text, architecture="amd64", build_args={"TARGETARCH": "x"}).parent == (
        "busybox:x"
    )


# --- builds -------------------------------------------------------------------------------


def test_oci_import_build_is_scratch_without_dockerfile() -> None:
    result = resolve_build("oci-import", None)
    assert result.parent == "scratch"
    assert result.froms == ("scratch",)
    assert result.stages == ()


@pytest.mark.parametrize("builder", [None, "buildkit", "classic"])
def test_other_builders_resolve_the_dockerfile(builder: str | None) -> None:
    result = resolve_build(builder, "FROM busybox:$TARGETARCH\n", architecture="riscv64")
    assert result.parent == "busybox:riscv64"


def test_dockerfile_build_needs_text() -> None:
    with pytest.raises(DockerfileError, match="no Dockerfile text"):
        resolve_build("buildkit", None, source="a/Dockerfile")
