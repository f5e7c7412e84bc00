"""The resolver answers as BuildKit does: one test per rule, citing where BuildKit has it.

Sources are moby/buildkit's ``frontend/dockerfile`` (``shell/lex.go``,
``parser/parser.go``, ``instructions/parse.go``, ``dockerfile2llb/convert.go``,
``linter/``). The first ten groups are the reproductions of issue #12.
"""

from __future__ import annotations

import pytest

from indexer.errors import DockerfileError, UnresolvedReferenceError
from indexer.parsing.dockerfile import DockerfileResolution, resolve_dockerfile


def resolve(text: str, **options: object) -> DockerfileResolution:
    return resolve_dockerfile(text, **options)  # type: ignore[arg-type]


def rules(result: DockerfileResolution) -> list[tuple[str, int]]:
    return [(warning.rule, warning.line) for warning in result.warnings]


# --- 1. blanks after << (lex.go processPossibleHeredoc, parser.go reHeredoc ...<<(-?)\s*...) ---


@pytest.mark.parametrize(
    "opening",
    ["RUN << EOF", "RUN <<  EOF  > foo", "RUN <<\tEOF", "COPY << EOF /dest", "RUN 3<< EOF"],
)
def test_blanks_after_heredoc_operator(opening: str) -> None:
    text = f"FROM alpine\n{opening}\necho hi\nFROM busybox\nEOF\n"
    result = resolve(text)
    assert result.parent == "alpine:latest"
    assert result.froms == ("alpine:latest",)


def test_blank_before_a_dash_makes_it_part_of_the_name() -> None:
    # "<< -EOF" is one word: no chomp, the heredoc ends at "-EOF"
    text = "FROM alpine\nRUN << -EOF\necho hi\n\t-EOF\nEOF\n-EOF\n"
    assert resolve(text).parent == "alpine:latest"
    with pytest.raises(DockerfileError, match="unterminated heredoc '-EOF'"):
        resolve("FROM alpine\nRUN << -EOF\necho hi\nEOF\n")


def test_chomp_dash_then_blank_is_no_heredoc() -> None:
    # the lexer takes blanks only right after "<<": "<<-" and "EOF" are two words,
    # neither a heredoc, so the body is read as instructions (BuildKit fails the same way)
    with pytest.raises(DockerfileError, match="unknown instruction: echo") as caught:
        resolve("FROM alpine\nRUN <<- EOF\necho hi\nEOF\n")
    assert caught.value.line == 3


def test_heredoc_operator_must_start_a_word() -> None:
    with pytest.raises(DockerfileError, match="unknown instruction: echo"):
        resolve("FROM alpine\nRUN cat<<EOF\necho hi\nEOF\n")


# --- 2. a $ in the heredoc word (parser.go heredocsFromLine: SkipUnsetEnv) -------------------


def test_unset_name_in_heredoc_word_is_kept() -> None:
    text = "FROM alpine\nRUN <<$EOF\nFROM busybox\nEOF\n$EOF\nFROM debian\n"
    assert resolve(text).froms == ("alpine:latest", "debian:latest")


@pytest.mark.parametrize(
    ("word", "terminator"),
    [("<<${EOF}", "${EOF}"), ('<<"$EOF"', "$EOF"), ("<<eo\\'f", "eo'f"), ("<<'e'o\\'f", "eo'f")],
)
def test_heredoc_names_as_buildkit_reads_them(word: str, terminator: str) -> None:
    text = f"FROM alpine\nRUN {word}\nFROM busybox\n{terminator}\nFROM debian\n"
    assert resolve(text).froms == ("alpine:latest", "debian:latest")


# --- 3. ${v/p/r} and ${v//p/r}: pattern and replacement expanded, \/ escapes (lex.go) ------


def test_replacement_pattern_expands_variables() -> None:
    text = "ARG OLD=3.18\nARG IMG=alpine:3.18\nFROM ${IMG/$OLD/3.19}\n"
    assert resolve(text).parent == "alpine:3.19"


def test_replacement_with_escaped_slashes() -> None:
    text = "ARG IMG=ghcr.io/acme/app:1\nFROM ${IMG/ghcr.io\\/acme\\//quay.io/acme/}\n"
    assert resolve(text).parent == "quay.io/acme/app:1"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("${V//*/y}", "y"),  # Go's ReplaceAll skips the empty match after "abc"
        ("${V//b*/}", "a"),
        ("${V/?/z}", "zbc"),
        ("${V//[a]/z}", "abc"),  # no bracket expressions: "[a]" is literal
        ("${V/$W/z}", "azc"),
        ("${V//?/${W}}", "bbb"),
    ],
)
def test_replacement_forms(expression: str, expected: str) -> None:
    text = f"ARG V=abc\nARG W=b\nFROM x:{expression}\n"
    assert resolve(text).parent == f"x:{expected}"


# --- 4. ${v%p} / ${v#p}: raw escapes, * and ? only (lex.go convertShellPatternToRegex) ------


def test_escaped_star_is_literal_in_suffix_pattern() -> None:
    assert resolve("ARG V=3.19*rc\nFROM alpine:${V%\\**}\n").parent == "alpine:3.19"


def test_brackets_are_literal_in_suffix_pattern() -> None:
    assert resolve("ARG V=3.19[x]\nFROM alpine:${V%[x]}\n").parent == "alpine:3.19"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("${V#*-}", "b-c-1"),
        ("${V##*-}", "1"),
        ("${V%-*}", "a-b-c"),
        ("${V%%-*}", "a"),
        ("${V#??}", "b-c-1"),
        ("${V#$P}", "b-c-1"),  # $ expands inside the pattern
        ("${V%\\?}", "a-b-c-1"),  # \? is a literal ?, absent here
    ],
)
def test_trim_forms(expression: str, expected: str) -> None:
    assert resolve(f"ARG V=a-b-c-1\nARG P=a-\nFROM x:{expression}\n").parent == f"x:{expected}"


def test_invalid_escape_in_pattern_is_an_error() -> None:
    with pytest.raises(DockerfileError, match="invalid escape"):
        resolve("ARG V=abc\nFROM x:${V%\\a}\n")


# --- 5. stage names: lower-cased when defined, matched exactly (convert.go addState) --------


def test_from_with_different_case_is_not_a_stage() -> None:
    with pytest.raises(DockerfileError, match="invalid image reference 'Builder'") as caught:
        resolve("FROM alpine AS builder\nFROM Builder\n")
    assert caught.value.line == 2


def test_copy_from_matches_stage_names_in_any_case() -> None:
    text = "FROM golang AS builder\nFROM alpine\nCOPY --from=BUILDER /a /b\n"
    assert resolve(text).froms == ("golang:latest", "alpine:latest", "golang:latest")


# --- 6. --from naming a later stage (convert.go dispatch: "needs to be defined before") ------


def test_copy_from_a_later_stage_is_an_error() -> None:
    text = "FROM alpine AS first\nCOPY --from=second /a /b\nFROM debian AS second\nFROM first\n"
    with pytest.raises(DockerfileError, match="needs to be defined before current stage") as caught:
        resolve(text)
    assert caught.value.line == 2


def test_mount_from_a_later_stage_is_an_error() -> None:
    text = "FROM alpine AS a\nRUN --mount=from=later,target=/x true\nFROM debian AS later\nFROM a\n"
    with pytest.raises(DockerfileError, match='cannot mount from stage "later" to "/x"'):
        resolve(text)


def test_a_later_stage_in_a_stage_not_built_is_fine() -> None:
    # only the last stage and what it reaches are built, so the copy is never dispatched
    text = "FROM alpine AS first\nCOPY --from=second /a /b\nFROM debian AS second\n"
    result = resolve(text)
    assert result.parent == "debian:latest"
    assert result.froms == ("alpine:latest", "debian:latest", "debian:latest")


# --- 7. no variables in --from (convert.go toCommand, commands_runmount.go) -----------------


@pytest.mark.parametrize(
    "line",
    # flags lose one level of backslashes before the check (extractBuilderFlags)
    ["COPY --from=$SRC /a /b", "COPY --from=${SRC:-x} /a /b", "COPY --from=a\\\\b /a /b"],
)
def test_copy_from_takes_no_variables(line: str) -> None:
    with pytest.raises(DockerfileError, match="variable expansion is not supported for --from"):
        resolve(f"ARG SRC=busybox\nFROM alpine\nARG SRC\n{line}\n")


def test_mount_from_takes_no_variables() -> None:
    with pytest.raises(DockerfileError, match="'from' doesn't support variable expansion"):
        resolve("FROM alpine\nRUN --mount=type=bind,from=$SRC,target=/x true\n")


def test_a_literal_dollar_in_from_is_no_variable() -> None:
    with pytest.raises(DockerfileError, match="invalid image reference 'a\\$'"):
        resolve("FROM alpine\nCOPY --from=a$ /a /b\n")


# --- 8. FROM --platform (convert.go: expanded, not empty, containerd platforms.Parse) --------


def test_empty_platform_value_is_an_error() -> None:
    with pytest.raises(DockerfileError, match="empty platform value from expression") as caught:
        resolve("FROM --platform=$BULIDPLATFORM scratch\n", architecture="amd64")
    assert caught.value.line == 1


@pytest.mark.parametrize("platform", ["linux/amd64/v8/x", "linux/*", "linux/", "nonsense"])
def test_unparsable_platform_is_an_error(platform: str) -> None:
    with pytest.raises(DockerfileError, match="failed to parse platform"):
        resolve(f"FROM --platform={platform} alpine\n")


def test_platform_flag_does_not_change_the_base() -> None:
    text = "FROM --platform=$BUILDPLATFORM golang AS build\nFROM --platform= alpine\n"
    result = resolve(text, architecture="arm64v8")
    assert result.froms == ("golang:latest", "alpine:latest")
    assert [stage.platform for stage in result.stages] == ["$BUILDPLATFORM", ""]


# --- 9. automatic ARGs (convert.go defaultArgs) ---------------------------------------------


def test_targetstage_is_default_without_a_named_last_stage() -> None:
    text = "FROM alpine AS base-default\nFROM base-${TARGETSTAGE}\n"
    result = resolve(text, architecture="amd64")
    assert result.parent == "alpine:latest"
    assert result.stages[1].parent_stage == 0
    assert result.warnings == ()


def test_targetstage_is_the_last_stage_name() -> None:
    text = "FROM busybox AS base-final\nFROM base-$TARGETSTAGE AS Final\n"
    assert resolve(text).parent == "busybox:latest"


def test_os_versions_are_set_and_empty() -> None:
    result = resolve("FROM alpine${TARGETOSVERSION}${BUILDOSVERSION}\n", architecture="amd64")
    assert result.parent == "alpine:latest"
    assert result.warnings == ()


def test_build_args_override_targetstage() -> None:
    text = "FROM alpine AS x-y\nFROM x-${TARGETSTAGE}\n"
    assert resolve(text, build_args={"TARGETSTAGE": "y"}).stages[1].parent_stage == 0


# --- 10. unset and valueless ARGs in FROM (convert.go, linter UndefinedArgInFrom) -----------


def test_valueless_arg_expands_to_nothing() -> None:
    # a declared ARG is no UndefinedArgInFrom, with or without a value
    result = resolve("ARG DEBUG\nFROM scratch${DEBUG}\n")
    assert result.parent == "scratch"
    assert result.warnings == ()


def test_undeclared_arg_expands_to_nothing_with_a_warning() -> None:
    result = resolve("ARG tag=latest\nFROM busybox:${tag}${version}\n")
    assert result.parent == "busybox:latest"
    assert [w.as_dict() for w in result.warnings] == [
        {
            "rule": "UndefinedArgInFrom",
            "line": 2,
            "message": "FROM argument 'version' is not declared",
        }
    ]


def test_unset_versus_empty_modifiers() -> None:
    text = "ARG UNSET\nARG EMPTY=\nFROM x:${UNSET-a}${EMPTY-b}${EMPTY:-c}${UNSET+d}${EMPTY+e}\n"
    assert resolve(text).parent == "x:ace"


def test_required_value_stops_the_build() -> None:
    with pytest.raises(UnresolvedReferenceError, match="TAG: is not allowed to be unset"):
        resolve("ARG TAG\nFROM alpine:${TAG?}\n")
    with pytest.raises(UnresolvedReferenceError, match="TAG: is not allowed to be empty"):
        resolve("ARG TAG=\nFROM alpine:${TAG:?}\n")


# --- more of instructions/parse.go and convert.go --------------------------------------------


def test_copy_from_index_counts_images_used_before() -> None:
    # images named by --from join BuildKit's list of states after the stages
    text = "FROM alpine\nCOPY --from=busybox /a /b\nCOPY --from=1 /c /d\n"
    assert resolve(text).froms == ("alpine:latest", "busybox:latest", "busybox:latest")
    with pytest.raises(DockerfileError, match="invalid stage index 1"):
        resolve("FROM alpine\nCOPY --from=1 /c /d\n")


def test_copy_from_index_forms_of_go_atoi() -> None:
    text = "FROM golang AS a\nFROM alpine\nCOPY --from=+0 /a /b\nCOPY --from=00 /a /b\n"
    assert resolve(text).froms[2:] == ("golang:latest", "golang:latest")
    with pytest.raises(DockerfileError, match="invalid stage index -1"):
        resolve("FROM alpine\nCOPY --from=-1 /a /b\n")


def test_mount_from_is_a_name_or_an_image_never_an_index() -> None:
    text = "FROM golang AS a\nFROM alpine\nRUN --mount=from=0,target=/x true\n"
    assert resolve(text).froms == ("golang:latest", "alpine:latest", "0:latest")


def test_mounts_without_from_count_as_states() -> None:
    # every mount has a source (scratch without from=), so index 2 is busybox here
    text = (
        "FROM alpine\n"
        "RUN --mount=type=cache,target=/c true\n"
        "COPY --from=busybox /a /b\n"
        "COPY --from=2 /c /d\n"
    )
    assert resolve(text).froms == ("alpine:latest", "busybox:latest", "busybox:latest")


def test_onbuild_sources_run_in_the_stage_built_on_it() -> None:
    # convert.go initOnBuildTriggers: a stage's ONBUILD runs in its child stages
    text = "FROM alpine AS base\nONBUILD COPY --from=busybox /a /b\nFROM base\n"
    assert resolve(text).froms == ("alpine:latest", "alpine:latest", "busybox:latest")
    unbuilt = (
        "FROM alpine AS base\nONBUILD COPY --from=busybox /a /b\nFROM base AS x\nFROM debian\n"
    )
    assert resolve(unbuilt).froms == ("alpine:latest", "alpine:latest", "debian:latest")


def test_onbuild_source_naming_a_later_stage_is_an_error() -> None:
    text = (
        "FROM alpine AS base\n"
        "ONBUILD COPY --from=later /a /b\n"
        "FROM base AS child\n"
        "FROM debian AS later\n"
        "FROM child\n"
    )
    with pytest.raises(DockerfileError, match="needs to be defined before current stage"):
        resolve(text)
    with pytest.raises(DockerfileError, match="'from' doesn't support variable expansion"):
        resolve("FROM alpine AS b\nONBUILD RUN --mount=from=$X,target=/x true\nFROM b\n")


def test_self_copy_is_a_cycle() -> None:
    with pytest.raises(DockerfileError, match="circular dependency detected on stage: a"):
        resolve("FROM alpine AS a\nCOPY --from=a /x /y\n")


def test_duplicate_stage_names_bind_differently_for_from_and_copy() -> None:
    text = "FROM alpine AS x\nFROM x AS y\nFROM debian AS x\nFROM busybox\nCOPY --from=x /a /b\n"
    result = resolve(text)
    assert result.stages[1].base == "alpine:latest"  # FROM binds the latest earlier one
    assert result.froms[-1] == "debian:latest"  # --from binds the last one
    assert ("DuplicateStageName", 3) in rules(result)


def test_arg_names_can_not_be_blank() -> None:
    with pytest.raises(DockerfileError, match="ARG names can not be blank"):
        resolve("FROM alpine\nARG =x\n")
    with pytest.raises(DockerfileError, match="ARG names can not be blank"):
        resolve("ARG A=1 =x\nFROM alpine\n")


# --- checks (linter/ruleset.go) and the check directive (linter.go ParseLintOptions) -------


def test_stage_and_keyword_casing_checks() -> None:
    text = "FROM alpine as Build\nfrom Build AS other\nFROM scratch AS scratch\n"
    with pytest.raises(DockerfileError, match="invalid image reference 'Build'"):
        resolve(text)
    text = "FROM alpine as Build\nFROM build AS scratch\nRUN true\nrun true\nMAINTAINER me\n"
    assert rules(resolve(text)) == [
        ("StageNameCasing", 1),
        ("FromAsCasing", 1),
        ("ReservedStageName", 2),
        ("ConsistentInstructionCasing", 4),
        ("MaintainerDeprecated", 5),
    ]


def test_empty_continuation_line() -> None:
    result = resolve("FROM alpine\nRUN echo \\\n\n  hi\n")
    assert rules(result) == [("NoEmptyContinuation", 2)]


def test_platform_checks() -> None:
    text = "FROM --platform=$TARGETPLATFORM alpine\nFROM --platform=linux/amd64 debian AS x\n"
    result = resolve(text, architecture="amd64")
    assert rules(result) == [("RedundantTargetPlatform", 1), ("FromPlatformFlagConstDisallowed", 2)]
    text = "FROM --platform=linux/amd64 debian AS build-amd64\n"
    assert resolve(text, architecture="amd64").warnings == ()


def test_check_directive_skips_rules() -> None:
    text = "# check=skip=StageNameCasing,FromAsCasing\nFROM alpine as Build\n"
    assert resolve(text).warnings == ()
    assert resolve("# check=skip=all\nFROM alpine as Build\n").warnings == ()


def test_check_directive_error_fails_the_build() -> None:
    with pytest.raises(DockerfileError, match="lint violation found for rules: StageNameCasing"):
        resolve("# check=error=true\nFROM alpine AS Build\n")
    assert resolve("# check=error=true\nFROM alpine AS build\n").parent == "alpine:latest"


def test_invalid_check_directive() -> None:
    with pytest.raises(DockerfileError, match="invalid check option"):
        resolve("# check=nonsense\nFROM alpine\n")
